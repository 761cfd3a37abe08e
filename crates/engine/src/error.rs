//! The errors of the engine API.

use tasker_model::limits::UnstorableJson;
use tasker_model::template::ContextErrors;
use tasker_model::{StepId, TaskId, TemplateErrors};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The template is invalid, or names handlers this process does not know.
    #[error(transparent)]
    Template(#[from] TemplateErrors),
    #[error("template {template}: {errors}")]
    Context {
        template: String,
        errors: ContextErrors,
    },
    /// The context cannot be stored: too large (`EngineConfig::max_context_bytes`) or holding
    /// a NUL character.
    #[error("template {template}: {why}")]
    ContextUnstorable {
        template: String,
        why: UnstorableJson,
    },
    #[error("template {0} not found")]
    TemplateNotFound(String),
    #[error("invalid template reference {0:?} (expected namespace/name or namespace/name@version)")]
    InvalidTemplateRef(String),
    /// A stored template no longer validates (a manual edit or an incompatible older binary).
    #[error("stored template {key} is invalid: {errors}")]
    StoredTemplateInvalid { key: String, errors: TemplateErrors },
    #[error("task {0} not found")]
    TaskNotFound(TaskId),
    #[error("step {0} not found")]
    StepNotFound(StepId),
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
    IdempotencyConflict { key: String, task: TaskId },
    /// The `traceparent` to store with a task is not a W3C trace context; the message says
    /// which part is wrong.
    #[error("{0}")]
    InvalidTraceparent(String),
    /// An analytics request's range, bucket or limit is out of bounds (reversed, too many
    /// buckets, ...); the message says which and what is allowed.
    #[error("{0}")]
    InvalidRange(String),
    #[error("timed out: {0}")]
    Timeout(String),
    /// A worker's request has a field out of its range or malformed (`field` names it, as in
    /// the HTTP body).
    #[error("{field}: {message}")]
    InvalidWorkerRequest {
        field: &'static str,
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
        step: StepId,
        attempt: i32,
        why: &'static str,
    },
    /// A worker's result cannot be stored (too large, or a NUL character); nothing was
    /// written, the lease is still held.
    #[error("result: {0}; nothing was written (report the step failed instead)")]
    ResultUnstorable(UnstorableJson),
    #[error(
        "unsupported database url {0:?} (expected sqlite://path, sqlite::memory: or postgres://...)"
    )]
    UnsupportedDatabaseUrl(String),
    /// This process's clock and the database's differ by more than an orchestrator tolerates
    /// (a sixth of its lease): leases it takes or judges could overlap with other processes'.
    #[error(
        "this process's clock is {skew_ms} ms off the database's, more than the {limit_ms} ms a {lease_ms} ms lease tolerates; synchronize the clocks (NTP) or use a longer lease"
    )]
    ClockSkew {
        skew_ms: i64,
        limit_ms: i64,
        lease_ms: u128,
    },
    /// A setting of the engine or of an orchestrator is out of its range.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The orchestrator's own task ended abnormally (panicked or was aborted).
    #[error("orchestrator stopped abnormally: {0}")]
    Orchestrator(String),
    #[error(transparent)]
    Store(#[from] tasker_store::Error),
}
