//! The errors of the engine API.

use tasker_model::limits::UnstorableJson;
use tasker_model::template::ContextErrors;
use tasker_model::{StepId, TaskId, TemplateErrors};

/// The result of an engine call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an engine call failed. The variants name what went wrong so that a caller can match the
/// ones it handles (new ones may be added: the enum is `#[non_exhaustive]`); the message says
/// it in words.
///
/// ```
/// use tasker_engine::{Engine, EngineConfig, Error, HandlerRegistry};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = std::sync::Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
/// let engine = Engine::new(store, HandlerRegistry::with_builtins(), EngineConfig::default());
/// engine.migrate().await?;
/// match engine.task(42).await {
///     Err(Error::TaskNotFound(id)) => assert_eq!(id, 42),
///     other => panic!("unexpected: {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The template is invalid, or names handlers this process does not know.
    #[error(transparent)]
    Template(#[from] TemplateErrors),
    /// The task's context does not match the template's input schema; `errors` names every
    /// field at fault.
    #[error("template {template}: {errors}")]
    Context {
        /// The template's key (`namespace/name@version`).
        template: String,
        /// Every violation, each at its JSON path.
        errors: ContextErrors,
    },
    /// The context cannot be stored: too large (`EngineConfig::max_context_bytes`) or holding
    /// a NUL character.
    #[error("template {template}: {why}")]
    ContextUnstorable {
        /// The template's key (`namespace/name@version`).
        template: String,
        /// What is wrong with the context.
        why: UnstorableJson,
    },
    /// No template matches the reference (given as written).
    #[error("template {0} not found")]
    TemplateNotFound(String),
    /// A template reference that is not `namespace/name` or `namespace/name@version`.
    #[error("invalid template reference {0:?} (expected namespace/name or namespace/name@version)")]
    InvalidTemplateRef(String),
    /// A stored template no longer validates (a manual edit or an incompatible older binary).
    #[error("stored template {key} is invalid: {errors}")]
    StoredTemplateInvalid {
        /// The template's key (`namespace/name@version`).
        key: String,
        /// What no longer validates.
        errors: TemplateErrors,
    },
    /// No task has this id.
    #[error("task {0} not found")]
    TaskNotFound(TaskId),
    /// No step has this id.
    #[error("step {0} not found")]
    StepNotFound(StepId),
    /// The template's identity is `caller_provided` and the request has no idempotency key.
    #[error("template {0} identifies tasks by the caller's idempotency key, and none was given")]
    IdempotencyKeyRequired(String),
    /// The idempotency key is empty, longer than 255 characters or holds a NUL character.
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// The idempotency key already created a task, with another context: the request is not a
    /// retry of that one (an HTTP API answers 409 Conflict).
    #[error(
        "idempotency key {key:?} already created task {task} with a different context; use a new key for a new task"
    )]
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The task it created first.
        task: TaskId,
    },
    /// The `traceparent` to store with a task is not a W3C trace context; the message says
    /// which part is wrong.
    #[error("{0}")]
    InvalidTraceparent(String),
    /// An analytics request's range, bucket or limit is out of bounds (reversed, too many
    /// buckets, ...); the message says which and what is allowed.
    #[error("{0}")]
    InvalidRange(String),
    /// A wait ended before what it waited for ([`Engine::wait_for_task`](crate::Engine::wait_for_task));
    /// the message says what was still pending.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A worker's request has a field out of its range or malformed (`field` names it, as in
    /// the HTTP body).
    #[error("{field}: {message}")]
    InvalidWorkerRequest {
        /// The field, as named in the HTTP body (`max`, `lease_ms`).
        field: &'static str,
        /// What is wrong, and what is allowed.
        message: String,
    },
    /// A worker's lease token is not one this server hands out (`<attempt>:<owner>`).
    #[error("lease_token: {0}")]
    InvalidLeaseToken(String),
    /// The worker no longer holds the lease its token names (it expired, the step was
    /// rescued, cancelled, resolved or completed by someone else): nothing was written, and
    /// the worker must drop the step (an HTTP API answers 409 Conflict).
    #[error("step {step}: the lease of attempt {attempt} is lost ({why}); nothing was written")]
    LeaseLost {
        /// The step.
        step: StepId,
        /// The attempt whose lease the token names.
        attempt: i32,
        /// What happened to the lease (expired, the step was rescued, ...).
        why: &'static str,
    },
    /// A worker's result cannot be stored (too large, or a NUL character); nothing was
    /// written, the lease is still held.
    #[error("result: {0}; nothing was written (report the step failed instead)")]
    ResultUnstorable(UnstorableJson),
    /// The database URL is none of `sqlite://path`, `sqlite::memory:` or `postgres://...` (the
    /// URL is given).
    #[error(
        "unsupported database url {0:?} (expected sqlite://path, sqlite::memory: or postgres://...)"
    )]
    UnsupportedDatabaseUrl(String),
    /// The database URL names a backend this build leaves out: the cargo feature of `tasker`
    /// that compiles it (`sqlite`, `postgres`) is off.
    #[error("this build has no {backend} support: enable the `{feature}` feature of `tasker`")]
    BackendNotBuilt {
        /// The backend's name, as people write it (`PostgreSQL`, `SQLite`).
        backend: &'static str,
        /// The cargo feature of `tasker` that compiles it.
        feature: &'static str,
    },
    /// A setting given to `tasker::TaskerBuilder` is invalid (a PostgreSQL schema name that is
    /// not a plain identifier, a pool of no connections); `setting` names the builder method.
    #[error("{setting}: {message}")]
    InvalidSetting {
        /// The builder method, e.g. `postgres_schema`.
        setting: &'static str,
        /// What is wrong, and what is allowed.
        message: String,
    },
    /// This process's clock and the database's differ by more than an orchestrator tolerates
    /// (a sixth of its lease): leases it takes or judges could overlap with other processes'.
    #[error(
        "this process's clock is {skew_ms} ms off the database's, more than the {limit_ms} ms a {lease_ms} ms lease tolerates; synchronize the clocks (NTP) or use a longer lease"
    )]
    ClockSkew {
        /// This clock minus the database's, in milliseconds (positive: ahead).
        skew_ms: i64,
        /// The largest skew tolerated, in milliseconds.
        limit_ms: i64,
        /// The orchestrator's lease duration, in milliseconds.
        lease_ms: u128,
    },
    /// A setting of the engine or of an orchestrator is out of its range.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The orchestrator's own task ended abnormally (panicked or was aborted).
    #[error("orchestrator stopped abnormally: {0}")]
    Orchestrator(String),
    /// The database failed or refused the change; [`tasker_store::Error::is_transient`] says
    /// whether trying again later may help.
    #[error(transparent)]
    Store(#[from] tasker_store::Error),
}
