//! The pure core of Tasker: the data and the rules that every other crate follows.
//!
//! Plain functions over plain types: no I/O, no async, no SQL. This crate is the specification
//! that every storage backend is tested against. Applications reach it as `tasker::model`.
//!
//! - **Templates** ([`template`]): [`Template::from_yaml`] parses and validates a task template
//!   (step names, dependencies, cycles, retry settings, the input schema) and reports every
//!   problem with the path of its field ([`TemplateErrors`]); [`Template::prepare_context`]
//!   checks a task's context against the input schema and fills in its defaults. The file
//!   format as written is [`TemplateSpec`](template::TemplateSpec).
//! - **States** ([`state`]): [`State`], shared by tasks and steps, and the transition tables
//!   each follows ([`state::step_transition_allowed`], [`state::task_transition_allowed`]).
//! - **Retries** ([`backoff`]): [`RetryPolicy`], [`Backoff`], and the rule that decides whether
//!   a failed step may run again ([`backoff::retry_eligible`]).
//! - **Time** ([`clock`]): the [`Clock`] the engine reads instead of the system clock, and
//!   [`ManualClock`] for tests that move time instead of sleeping.
//! - **Records** ([`record`]): [`TaskRecord`], [`StepRecord`] and [`TransitionRecord`], what a
//!   store hands back.
//! - **Readiness** ([`readiness`]): which steps may run now, and why not ([`StepReadiness`],
//!   [`TaskExecutionContext`]).
//! - **Identity** ([`identity`]): when two creation requests name the same task
//!   ([`IdentityStrategy`]).
//! - **Limits** ([`limits`]) and **trace context** ([`trace`]): what may be stored, checked
//!   before anything is written.
//!
//! ```
//! use tasker_model::Template;
//! use serde_json::json;
//!
//! let template = Template::from_yaml(
//!     r#"
//! namespace: shop
//! name: refund
//! version: 1.0.0
//! input_schema:
//!   type: object
//!   required: [order_id]
//!   properties:
//!     order_id: { type: integer }
//!     reason: { type: string, default: unspecified }
//! steps:
//!   - name: check
//!     handler: noop
//!   - name: pay_back
//!     handler: noop
//!     depends_on: [check]
//! "#,
//! )?;
//! assert_eq!(template.key(), "shop/refund@1.0.0");
//! assert_eq!(template.levels(), vec![vec![0], vec![1]]);
//!
//! let context = template.prepare_context(json!({ "order_id": 7 }))?;
//! assert_eq!(context, json!({ "order_id": 7, "reason": "unspecified" }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

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
pub use clock::{Clock, ClockListener, ManualClock, OffsetClock, SystemClock};
pub use readiness::{
    ExecutionStatus, HealthStatus, RecommendedAction, StepReadiness, TaskExecutionContext,
};
pub use record::{StepFailure, StepRecord, TaskRecord, TransitionRecord};
pub use state::State;
pub use template::{
    IdentityStrategy, StepDefinition, Template, TemplateError, TemplateErrors, yaml_boolean_hint,
};

/// A task's id: a 64-bit key the store assigns, unique within one database.
pub type TaskId = i64;
/// A step's id: a 64-bit key the store assigns, unique within one database (not only within
/// its task).
pub type StepId = i64;
/// The id of one registered template version: a 64-bit key the store assigns.
pub type TemplateId = i64;

/// A point in time, in UTC. Timestamps are UTC throughout; the engine's [`Clock`] supplies
/// them, never the database.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
