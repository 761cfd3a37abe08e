use tasker_model::State;

/// The result of a store call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Portable error kinds: the engine never looks at SQLSTATEs or SQLite result codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// Its kind (`task`, `step`, `token`, ...).
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The row is not in the state the change expects (a lost race, or a wrong request).
    #[error("cannot move {what} from {from} to {to}")]
    InvalidTransition {
        /// What was to move (`task 7`, `step 12`).
        what: String,
        /// Its state now.
        from: State,
        /// The state asked for.
        to: State,
    },
    /// A compare-and-set lost to a concurrent writer.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The same namespace/name/version is already registered with a different definition
    /// (the template's key is given).
    #[error(
        "template {0} is already registered with a different definition; register it under a new version"
    )]
    TemplateMismatch(String),
    /// Item `index` of a batch carries an idempotency key that already created `task` with a
    /// different context; the whole batch was rolled back.
    #[error(
        "task {index} of the batch: its idempotency key already created task {task} with a different context"
    )]
    IdempotencyConflict {
        /// The position of the refused item in the batch, from 0.
        index: usize,
        /// The id of the task the key created first.
        task: i64,
    },
    /// The schema is behind the binary.
    #[error("database schema is not current; pending migrations: {}; run `tasker migrate`", .0.join(", "))]
    MigrationsPending(Vec<String>),
    /// The database cannot be reached right now (connection refused or lost); worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database error, with the backend's message. Not worth retrying as is.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data that does not decode (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl Error {
    /// Worth retrying the same call later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Conflict(_))
    }
}
