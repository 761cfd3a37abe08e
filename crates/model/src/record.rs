//! What the store hands back: tasks, steps and transitions as plain data.

use crate::{State, StepId, TaskId, TemplateId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A task as stored: one run of a template version, with its context and progress counters.
/// Times come from the engine's clock, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskRecord {
    /// The task's id, unique within the database.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: TaskId,
    /// The registered template version the task runs; a task stays on the version it was
    /// created from.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub template_id: TemplateId,
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub name: String,
    /// The template's version, as text (`1.2.0`).
    pub version: String,
    /// Where the task is in its life: `pending`, `in_progress`, `complete`, `error` or
    /// `cancelled`.
    pub state: State,
    /// The task's input, as accepted: checked against the template's input schema, with the
    /// schema's defaults filled in.
    pub context: Value,
    /// The hash that identifies the task among creation requests (64 hex digits), unique
    /// across tasks; `None` for a task created without identity (`always_unique` and no
    /// idempotency key).
    pub identity_hash: Option<String>,
    /// The idempotency key the task was created with; `None` when the request had none.
    pub idempotency_key: Option<String>,
    /// W3C trace context the task was created with, if any.
    #[serde(default)]
    pub traceparent: Option<String>,
    /// The number of steps, as in its template version.
    pub steps_total: i32,
    /// Steps not yet `complete` or `resolved_manually`; the task completes when this reaches 0.
    pub steps_remaining: i32,
    /// Steps that failed with no retry left. While it is above 0 the task is blocked.
    pub steps_failed: i32,
    /// When the task was created.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When the task's row last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// When the task reached `complete`, `error` or `cancelled`; `None` while it is pending or
    /// in progress (also after an error was retried or unblocked back into progress).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub completed_at: Option<Timestamp>,
}

/// A step of a task as stored: its state, its attempts and retry budget, its lease while it
/// runs, and its result. Times come from the engine's clock, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRecord {
    /// The step's id, unique within the database.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: StepId,
    /// The task the step belongs to.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    /// The step's name in its template, unique within its task.
    pub name: String,
    /// The handler that runs it (`""` for a step created before handlers were stored that had
    /// already finished).
    pub handler: String,
    /// The queue whose workers run it; `None`: it runs in-process.
    pub queue: Option<String>,
    /// Where the step is in its life: `pending`, `in_progress`, `complete`, `error`,
    /// `cancelled` or `resolved_manually`.
    pub state: State,
    /// Attempts started so far, the running one included; 0 before the first claim. An
    /// attempt given back on graceful shutdown is not counted.
    pub attempts: i32,
    /// The attempt budget: the step may run again while `attempts < max_attempts` (and it is
    /// `retryable`). It starts at the template's `max_attempts`; a failure with no retry left
    /// lowers it to `attempts`, and `task retry` raises it by `retry_limit`.
    pub max_attempts: i32,
    /// Whether a failed attempt may be retried at all (the template's `retry.retryable`).
    pub retryable: bool,
    /// The template's attempt budget: what `task retry` adds to `max_attempts`.
    pub retry_limit: i32,
    /// The number of parent steps (direct dependencies).
    pub total_parents: i32,
    /// Parents not yet `complete` or `resolved_manually`; the step can be claimed only once
    /// this is 0.
    pub unsatisfied_parents: i32,
    /// When the step may be claimed; `None` while it is not runnable.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ready_at: Option<Timestamp>,
    /// When the latest attempt was claimed; `None` before the first.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempted_at: Option<Timestamp>,
    /// The last failure, whatever the current state.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_failure_at: Option<Timestamp>,
    /// The latest failed attempt: its error text, its kind, its number and when it failed.
    /// Like `last_failure_at` it stays after a later success, so a step that failed and then
    /// succeeded on a retry still shows what went wrong. `None` when no attempt has failed, and
    /// for failures recorded before databases stored it (they are not backfilled).
    #[serde(default)]
    pub last_error: Option<StepFailure>,
    /// The wait (retry-after) the handler asked for with its latest failure, in whole seconds,
    /// rounded up; `None` when that failure asked for none. A later success leaves it as it
    /// was.
    pub backoff_request_seconds: Option<i64>,
    /// The step's `config` from the template, stored with the step; `None` when the template
    /// gives none (or an empty object).
    pub inputs: Option<Value>,
    /// The JSON the handler returned when the step completed; `None` until then, and for a
    /// step resolved by hand.
    pub results: Option<Value>,
    /// Who holds the step's lease while it is `in_progress` (the `owner` name the claiming
    /// orchestrator was configured with); `None` otherwise.
    pub lease_owner: Option<String>,
    /// When the lease runs out unless its owner renews it; `None` while the step is not
    /// running. A lease left to expire fails the attempt (retryably, as `lease_expired`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub lease_expires_at: Option<Timestamp>,
    /// Names of the parent steps, in template order.
    pub parents: Vec<String>,
    /// When the step was created, with its task.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When the step's row last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// A failed attempt of a step, as kept on its record ([`StepRecord::last_error`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepFailure {
    /// The error text: what the handler reported, or what the engine saw (`timed out after
    /// 500 ms`, `lease expired (owner a)`, `handler panicked: ...`).
    pub message: String,
    /// Why the attempt failed, as in the failure's transition metadata (`failure`):
    /// `handler` (a retryable error), `permanent`, `timeout`, `panic`, `lease_expired`,
    /// `unstorable_outcome`; `handler` when the outcome named no kind.
    pub kind: String,
    /// The number of the attempt that failed (1 for the first).
    pub attempt: i32,
    /// When the failure was recorded, by the engine's clock (the step's `last_failure_at`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

impl StepFailure {
    /// The kind recorded for a failure whose outcome names none.
    pub const DEFAULT_KIND: &'static str = "handler";
}

/// One row of a transition history table (tasks or steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// The row's id, unique within its table (task or step transitions).
    pub id: i64,
    /// The task id for task transitions, the step id for step transitions.
    pub owner_id: i64,
    /// For step transitions, the step's name; `None` for task transitions.
    pub step_name: Option<String>,
    /// `None` for the transition that created the row.
    pub from_state: Option<State>,
    /// The state the owner entered.
    pub to_state: State,
    /// Details of the transition, a JSON object that may be empty. For example a claim
    /// records the `attempt` and the `worker`, a failure its `error` text, its `failure` kind
    /// and, when a retry is due, the `backoff_ms` chosen, and an operator action its `actor`.
    pub metadata: Value,
    /// The row's position in its owner's history: 1 for the creation, then increasing with
    /// each transition; unique per owner.
    pub sort_key: i32,
    /// Whether this is the owner's current transition (the one that set its present state).
    pub most_recent: bool,
    /// When the transition happened, by the engine's clock.
    pub created_at: Timestamp,
}
