//! What the store hands back: tasks, steps and transitions as plain data.

use crate::{State, StepId, TaskId, TemplateId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: TaskId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub template_id: TemplateId,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub state: State,
    pub context: Value,
    pub identity_hash: Option<String>,
    pub idempotency_key: Option<String>,
    /// W3C trace context the task was created with, if any.
    #[serde(default)]
    pub traceparent: Option<String>,
    pub steps_total: i32,
    /// Steps not yet `complete` or `resolved_manually`; the task completes when this reaches 0.
    pub steps_remaining: i32,
    /// Steps that failed with no retry left. While it is above 0 the task is blocked.
    pub steps_failed: i32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// When the task reached `complete`, `error` or `cancelled`; `None` while it is pending or
    /// in progress (also after an error was retried or unblocked back into progress).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub completed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: StepId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    pub name: String,
    /// The handler that runs it (`""` for a step created before handlers were stored that had
    /// already finished).
    pub handler: String,
    /// The queue whose workers run it; `None`: it runs in-process.
    pub queue: Option<String>,
    pub state: State,
    pub attempts: i32,
    pub max_attempts: i32,
    pub retryable: bool,
    /// The template's attempt budget: what `task retry` adds to `max_attempts`.
    pub retry_limit: i32,
    pub total_parents: i32,
    pub unsatisfied_parents: i32,
    /// When the step may be claimed; `None` while it is not runnable.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ready_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempted_at: Option<Timestamp>,
    /// The last failure, whatever the current state.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_failure_at: Option<Timestamp>,
    pub backoff_request_seconds: Option<i64>,
    pub inputs: Option<Value>,
    pub results: Option<Value>,
    pub lease_owner: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub lease_expires_at: Option<Timestamp>,
    /// Names of the parent steps, in template order.
    pub parents: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// One row of a transition history table (tasks or steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionRecord {
    pub id: i64,
    /// The task id for task transitions, the step id for step transitions.
    pub owner_id: i64,
    /// For step transitions, the step's name; `None` for task transitions.
    pub step_name: Option<String>,
    /// `None` for the transition that created the row.
    pub from_state: Option<State>,
    pub to_state: State,
    pub metadata: Value,
    pub sort_key: i32,
    pub most_recent: bool,
    pub created_at: Timestamp,
}
