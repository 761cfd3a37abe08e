//! Requests and answers of the [`Store`](crate::Store) trait.

use chrono::SubsecRound;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use tasker_model::{State, StepFailure, StepId, TaskId, TemplateId, Timestamp};

/// What a backend can do; the engine asks these, never "which backend is this".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Claims skip rows locked by other transactions (`FOR UPDATE SKIP LOCKED`).
    pub skip_locked: bool,
    /// Several processes (on several machines) may run orchestrators on one database.
    pub multi_process: bool,
    /// The backend can wake other processes when work appears (`LISTEN/NOTIFY`).
    pub cross_process_notify: bool,
}

/// The database a store runs on ([`crate::Store::describe`]), for logs and benchmark headers.
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The database server's (or SQLite library's) version string.
    pub server_version: String,
    /// Settings that matter for durability and speed, as (name, value).
    pub settings: Vec<(String, String)>,
}

/// A template to store ([`crate::Store::register_template`]).
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// The template's namespace.
    pub namespace: String,
    /// The template's name, unique with its namespace and version.
    pub name: String,
    /// Semantic version, as text; backends order versions semantically (major, minor, patch,
    /// then text of any pre-release part).
    pub version: String,
    /// Free text; `None` when the template has none.
    pub description: Option<String>,
    /// The template as JSON ([`tasker_model::Template::to_json`]).
    pub definition: Value,
}

/// What [`crate::Store::register_template`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RegisteredTemplate {
    /// The stored template's id (the existing one when nothing was created).
    pub id: TemplateId,
    /// `true` when this call stored the template; `false` when the same version with the same
    /// definition was already there.
    pub created: bool,
}

/// A template as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTemplate {
    /// Its id, assigned by the store.
    pub id: TemplateId,
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub name: String,
    /// Its semantic version, as text.
    pub version: String,
    /// Free text; `None` when the template has none.
    pub description: Option<String>,
    /// The template as JSON, as registered.
    pub definition: Value,
    /// When it was first registered.
    pub created_at: Timestamp,
}

/// The steps and edges of one template, shared by every task created from it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLayout {
    /// The steps, in template order.
    pub steps: Vec<NewStep>,
    /// `(parent, child)` as indexes into `steps`.
    pub edges: Vec<(usize, usize)>,
}

/// One step of a [`StepLayout`]: what each task's copy of it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStep {
    /// The step's name, unique within its template.
    pub name: String,
    /// The handler that runs the step; with `queue`, it decides which claimers may take it.
    pub handler: String,
    /// The queue whose workers run the step over HTTP; `None`: it runs in-process.
    pub queue: Option<String>,
    /// The step's config from the template, kept with the step as its inputs (`None` if empty).
    pub inputs: Option<Value>,
    /// Whether a failed attempt may be retried at all.
    pub retryable: bool,
    /// Attempts in all, counting the first (at least 1).
    pub max_attempts: i32,
}

/// A task to create ([`crate::Store::create_tasks`]).
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The template it is created from.
    pub template_id: TemplateId,
    /// The task's context, already checked against the template's input schema.
    pub context: Value,
    /// The hash that identifies the task under its template's identity strategy: a second task with
    /// the same hash returns the first. `None`: every task is new.
    pub identity_hash: Option<String>,
    /// The caller's idempotency key, if any; the same key for the same template returns the task it
    /// created first.
    pub idempotency_key: Option<String>,
    /// W3C trace context of the request that created the task (`traceparent` header),
    /// validated by the engine; its steps' spans continue that trace.
    pub traceparent: Option<String>,
    /// The template's steps and edges, copied into the task.
    pub layout: Arc<StepLayout>,
}

/// What creating one task did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreatedTask {
    /// The task's id: the new one, or the existing task's when `created` is `false`.
    pub id: TaskId,
    /// `false` when the identity matched an existing task, which is returned instead.
    pub created: bool,
}

/// Which tasks [`crate::Store::list_tasks`] returns, newest first; every `None` field matches any
/// task.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks in this state.
    pub state: Option<State>,
    /// Only tasks of templates in this namespace.
    pub namespace: Option<String>,
    /// Only tasks of templates with this name (any version; within `namespace` when set).
    pub template: Option<String>,
    /// Only tasks created at or after this time.
    pub created_after: Option<Timestamp>,
    /// Only tasks created before this time.
    pub created_before: Option<Timestamp>,
    /// Only tasks with an id below this (paging, newest first).
    pub before_id: Option<TaskId>,
    /// The most tasks to return.
    pub limit: u32,
}

/// A claim of runnable steps ([`crate::Store::claim_steps`]).
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// Who takes the leases; unique among the claimers sharing the database.
    pub owner: String,
    /// The most steps to claim.
    pub limit: u32,
    /// The claimer's current time: steps whose `ready_at` is later are not runnable yet.
    pub now: Timestamp,
    /// When the leases taken by this claim expire, unless renewed.
    pub lease_expires_at: Timestamp,
    /// Claim only steps of this task (an indexed read of its steps), none of any other.
    pub only_task: Option<TaskId>,
    /// Which steps this claimer can run.
    pub filter: ClaimFilter,
}

/// The runnable steps a claimer can run: those of one queue (`None`: the steps that run
/// in-process), with one of the given handlers (`None`: any handler). A claim with a filter
/// reads, per handler, only that handler's runnable steps, oldest first, so that no backlog of
/// one handler delays another's steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    /// The queue whose steps pass; `None`: the steps that run in-process.
    pub queue: Option<String>,
    /// The handlers whose steps pass; `None`: any handler.
    pub handlers: Option<Vec<String>>,
}

impl ClaimFilter {
    /// Every in-process step, whatever its handler (tests, tools).
    pub fn any_in_process() -> Self {
        ClaimFilter::default()
    }

    /// In-process steps of these handlers (an orchestrator's registry).
    pub fn in_process<I, S>(handlers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClaimFilter {
            queue: None,
            handlers: Some(handlers.into_iter().map(Into::into).collect()),
        }
    }

    /// Steps of `queue`, of these handlers or (`None`) any.
    pub fn queue(queue: impl Into<String>, handlers: Option<Vec<String>>) -> Self {
        ClaimFilter {
            queue: Some(queue.into()),
            handlers,
        }
    }

    /// Whether a step of `queue` with `handler` passes this filter.
    pub fn admits(&self, queue: Option<&str>, handler: &str) -> bool {
        self.queue.as_deref() == queue
            && self
                .handlers
                .as_ref()
                .is_none_or(|handlers| handlers.iter().any(|h| h == handler))
    }
}

/// A claimer's promise to run steps of `queue` (`None`: in-process) with `handler`
/// ([`ANY_HANDLER`]: any handler of that queue), as advertised through
/// [`crate::Store::advertise_handlers`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandlerRoute {
    /// The queue (`None`: in-process).
    pub queue: Option<String>,
    /// The handler name, or [`ANY_HANDLER`].
    pub handler: String,
}

/// The handler name that stands for every handler of a queue in an advertisement.
pub const ANY_HANDLER: &str = "*";

/// A claimed step, with what its handler needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedStep {
    /// The step's id.
    pub step_id: StepId,
    /// The id of the step's task.
    pub task_id: TaskId,
    /// The id of the task's template.
    pub template_id: TemplateId,
    /// The step's name within its template.
    pub name: String,
    /// The step's handler (the claim's filter admitted it).
    pub handler: String,
    /// This attempt's number (1 for the first); with the owner, it fences the completion.
    pub attempt: i32,
    /// Attempts in all, counting the first.
    pub max_attempts: i32,
    /// Whether a failed attempt may be retried at all.
    pub retryable: bool,
    /// When this claim's lease expires, unless renewed.
    pub lease_expires_at: Timestamp,
    /// The step's config from the template (`None` if empty).
    pub inputs: Option<Value>,
    /// The task's context, one copy shared by the steps of a task claimed together.
    pub task_context: Arc<Value>,
    /// Results of the parent steps, by name (a resolved parent without results maps to null).
    pub parent_results: Vec<(String, Value)>,
    /// This claim moved the task `pending -> in_progress`.
    pub task_started: bool,
    /// The task's `traceparent`, if it was created with one; one copy shared by the steps of
    /// a task claimed together, like the context.
    pub traceparent: Option<Arc<str>>,
    /// The `ready_at` the step had when it was claimed (kept as its `last_ready_at`): its wait
    /// from runnable to started is the claim's `now` minus this.
    pub ready_at: Timestamp,
    /// When the task was created (for its end-to-end time).
    pub task_created_at: Timestamp,
}

/// What an attempt came to, to record ([`crate::Store::complete_steps`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// The step's id.
    pub step_id: StepId,
    /// The id of the step's task.
    pub task_id: TaskId,
    /// The lease owner that ran the attempt; with `attempt`, it fences the write.
    pub owner: String,
    /// The attempt's number (1 for the first).
    pub attempt: i32,
    /// Reported by the rescuer for an expired lease: fenced by an *expired* lease instead of a
    /// live one.
    pub lease_expired: bool,
    /// Success with a result, or failure with what follows.
    pub result: OutcomeKind,
}

impl StepOutcome {
    /// What a failed outcome leaves on its step as `last_error`, written with it at `now`;
    /// `None` for a success. The kind is the metadata's `failure` (the engine names every
    /// failure it records), `handler` when it names none. `at` is `now` to the microsecond,
    /// the precision of the stored times, so that it equals the step's `last_failure_at`.
    pub fn last_error(&self, now: Timestamp) -> Option<StepFailure> {
        match &self.result {
            OutcomeKind::Succeeded { .. } => None,
            OutcomeKind::Failed {
                error, metadata, ..
            } => Some(StepFailure {
                message: error.clone(),
                kind: metadata
                    .get("failure")
                    .and_then(Value::as_str)
                    .unwrap_or(StepFailure::DEFAULT_KIND)
                    .to_owned(),
                attempt: self.attempt,
                at: now.trunc_subsecs(6),
            }),
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeKind {
    /// The handler succeeded: the step becomes `complete` and its children may become ready.
    Succeeded {
        /// The handler's result, stored on the step and passed to its children.
        result: Value,
    },
    /// The attempt failed: the step waits for a retry at `retry_at`, or fails for good.
    Failed {
        /// The error text, kept in the transition's history.
        error: String,
        /// When the step may run again; `None` means no retry (permanent failure, not
        /// retryable, or out of attempts): the step blocks its task.
        retry_at: Option<Timestamp>,
        /// A handler's explicit retry-after, in seconds, kept on the step.
        backoff_request_seconds: Option<i64>,
        /// Extra facts for the transition's metadata (e.g. the backoff chosen).
        metadata: Value,
    },
}

/// What recording one outcome did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompletionResult {
    /// The step's id.
    pub step_id: StepId,
    /// The id of the step's task.
    pub task_id: TaskId,
    /// `false`: fenced out (lease lost, expired, or already completed); nothing was written.
    pub applied: bool,
    /// Children that became runnable through this outcome.
    pub released_steps: Vec<StepId>,
    /// The task's new state, if this outcome finished it (`complete` or `error`).
    pub task_finished: Option<State>,
}

/// A completion's hand-off: in the transaction that records the outcomes, claim for `owner`
/// up to `limit` of the steps those outcomes released, under a lease until
/// `lease_expires_at`. The orchestrator that finished the parents starts the children at once,
/// without a claim of its own (a transaction and, on PostgreSQL, a commit fewer per step).
#[derive(Debug, Clone)]
pub struct Handoff {
    /// Who takes the leases of the released steps.
    pub owner: String,
    /// The most released steps to claim.
    pub limit: u32,
    /// When the hand-off's leases expire, unless renewed.
    pub lease_expires_at: Timestamp,
    /// Only released steps this filter admits are claimed.
    pub filter: ClaimFilter,
}

/// What a completion wrote, and the released steps it claimed for the hand-off.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// One per outcome, in input order.
    pub results: Vec<CompletionResult>,
    /// Claimed as by [`crate::Store::claim_steps`], at the completion's time.
    pub claimed: Vec<ClaimedStep>,
}

/// A step whose lease expired without being renewed (its owner died or lost the database), found by
/// the rescuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredLease {
    /// The step's id.
    pub step_id: StepId,
    /// The id of the step's task.
    pub task_id: TaskId,
    /// The id of the task's template.
    pub template_id: TemplateId,
    /// The step's name within its template.
    pub name: String,
    /// The owner whose lease expired.
    pub owner: String,
    /// The attempt that held the lease.
    pub attempt: i32,
    /// Attempts in all, counting the first.
    pub max_attempts: i32,
    /// Whether a failed attempt may be retried at all.
    pub retryable: bool,
    /// When the lease expired.
    pub lease_expires_at: Timestamp,
}

/// Whether any work is left ([`crate::Store::outstanding_work`]): what an `until_idle` orchestrator
/// waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutstandingWork {
    /// Some step is runnable now or waiting for its retry time.
    pub scheduled: bool,
    /// Some step is running under a lease.
    pub running: bool,
}

/// The metadata of a transition written by an operator action, with `"actor": actor` added
/// when an actor is given (replacing any `actor` already there). Metadata that is not an object
/// is kept under `"metadata"`, as outcomes keep theirs.
pub fn with_actor(metadata: Value, actor: Option<&Value>) -> Value {
    let Some(actor) = actor else {
        return metadata;
    };
    let mut object = match metadata {
        Value::Object(object) => object,
        Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("metadata".to_owned(), other)]),
    };
    object.insert("actor".to_owned(), actor.clone());
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::{OutcomeKind, StepOutcome, with_actor};
    use serde_json::json;

    #[test]
    fn a_failed_outcome_names_its_kind_attempt_and_time() {
        let now = chrono::DateTime::from_timestamp(1_767_225_600, 1_234_567).unwrap_or_default();
        let mut outcome = StepOutcome {
            step_id: 1,
            task_id: 1,
            owner: "o".into(),
            attempt: 2,
            lease_expired: false,
            result: OutcomeKind::Failed {
                error: "card declined".into(),
                retry_at: None,
                backoff_request_seconds: None,
                metadata: json!({"failure": "permanent", "backoff_ms": 5}),
            },
        };
        let failure = outcome.last_error(now).expect("a failure");
        assert_eq!(
            (
                failure.message.as_str(),
                failure.kind.as_str(),
                failure.attempt
            ),
            ("card declined", "permanent", 2)
        );
        assert_eq!(
            failure.at.timestamp_subsec_nanos(),
            1_234_000,
            "microseconds"
        );
        if let OutcomeKind::Failed { metadata, .. } = &mut outcome.result {
            *metadata = json!({});
        }
        assert_eq!(outcome.last_error(now).expect("a failure").kind, "handler");
        outcome.result = OutcomeKind::Succeeded { result: json!(1) };
        assert_eq!(outcome.last_error(now), None);
    }

    #[test]
    fn the_actor_joins_the_metadata() {
        let actor = json!({"token": 7, "name": "ci"});
        assert_eq!(with_actor(json!({"a": 1}), None), json!({"a": 1}));
        assert_eq!(
            with_actor(json!({"a": 1}), Some(&actor)),
            json!({"a": 1, "actor": {"token": 7, "name": "ci"}})
        );
        assert_eq!(
            with_actor(json!({"actor": "old"}), Some(&json!("new"))),
            json!({"actor": "new"})
        );
        assert_eq!(
            with_actor(json!(null), Some(&json!("x"))),
            json!({"actor": "x"})
        );
        assert_eq!(
            with_actor(json!([1]), Some(&json!("x"))),
            json!({"metadata": [1], "actor": "x"})
        );
    }
}
