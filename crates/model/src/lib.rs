//! The pure core of Tasker.
//!
//! Templates (parsing, validation, the DAG), the task and step state machines, readiness and
//! retry rules, and the clock. Plain functions over plain types: no I/O, no async, no SQL.
//! This crate is the specification that every storage backend is tested against.

pub mod backoff;
pub mod clock;
pub mod identity;
pub mod limits;
pub mod readiness;
pub mod record;
pub mod state;
pub mod template;
pub mod trace;

pub use backoff::{Backoff, RetryPolicy};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use readiness::{
    ExecutionStatus, HealthStatus, RecommendedAction, StepReadiness, TaskExecutionContext,
};
pub use record::{StepRecord, TaskRecord, TransitionRecord};
pub use state::State;
pub use template::{IdentityStrategy, StepDefinition, Template, TemplateError, TemplateErrors};

/// Database identifiers. Plain integers: every backend hands out 64-bit keys.
pub type TaskId = i64;
pub type StepId = i64;
pub type TemplateId = i64;

/// Timestamps are UTC throughout; the engine's [`Clock`] supplies them, never the database.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
