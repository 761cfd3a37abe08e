use tasker_model::State;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Portable error kinds: the engine never looks at SQLSTATEs or SQLite result codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The row is not in the state the change expects (a lost race, or a wrong request).
    #[error("cannot move {what} from {from} to {to}")]
    InvalidTransition {
        what: String,
        from: State,
        to: State,
    },
    /// A compare-and-set lost to a concurrent writer.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(
        "template {0} is already registered with a different definition; register it under a new version"
    )]
    TemplateMismatch(String),
    /// Item `index` of a batch carries an idempotency key that already created `task` with a
    /// different context; the whole batch was rolled back.
    #[error(
        "task {index} of the batch: its idempotency key already created task {task} with a different context"
    )]
    IdempotencyConflict { index: usize, task: i64 },
    /// The schema is behind the binary.
    #[error("database schema is not current; pending migrations: {}; run `tasker migrate`", .0.join(", "))]
    MigrationsPending(Vec<String>),
    /// The database cannot be reached right now (connection refused or lost); worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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
