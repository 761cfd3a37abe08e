//! Helpers the cases share: a fixed clock origin, tiny task layouts, claim and outcome
//! shorthands, and the invariant checks every case can call.

use crate::{
    ClaimFilter, ClaimRequest, ClaimedStep, CompletionResult, NewStep, NewTask, NewTemplate,
    OutcomeKind, StepLayout, StepOutcome, Store,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tasker_model::readiness::{step_readiness, task_execution_context};
use tasker_model::{State, StepId, StepRecord, TaskId, TemplateId, Timestamp, TransitionRecord};

/// The start of every case's time line.
pub fn t0() -> Timestamp {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// `n` seconds, as the store's time arithmetic takes it.
pub fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// The lease every fixture claim takes, in seconds.
pub const LEASE_SECS: i64 = 60;

/// The handler of every step of [`layout`] and [`layout_with`]: in-process.
pub const HANDLER: &str = "noop";

/// A step of a layout: name, retryable, max_attempts.
pub type StepSpec<'a> = (&'a str, bool, i32);

/// A layout of retryable steps with three attempts each.
pub fn layout(steps: &[&str], edges: &[(&str, &str)]) -> Arc<StepLayout> {
    let specs: Vec<StepSpec<'_>> = steps.iter().map(|name| (*name, true, 3)).collect();
    layout_with(&specs, edges)
}

/// A layout of `steps` with edges `(parent, child)` by step name.
pub fn layout_with(steps: &[StepSpec<'_>], edges: &[(&str, &str)]) -> Arc<StepLayout> {
    let index = |name: &str| {
        steps
            .iter()
            .position(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("edge names unknown step {name}"))
    };
    Arc::new(StepLayout {
        steps: steps
            .iter()
            .map(|&(name, retryable, max_attempts)| NewStep {
                name: name.to_owned(),
                handler: HANDLER.to_owned(),
                queue: None,
                inputs: Some(json!({"step": name})),
                retryable,
                max_attempts,
            })
            .collect(),
        edges: edges.iter().map(|&(a, b)| (index(a), index(b))).collect(),
    })
}

/// A step of a routed layout: name, handler, queue (`None`: in-process).
pub type RoutedStep<'a> = (&'a str, &'a str, Option<&'a str>);

/// A layout of retryable steps with three attempts each, on the given routes.
pub fn routed_layout(steps: &[RoutedStep<'_>], edges: &[(&str, &str)]) -> Arc<StepLayout> {
    let names: Vec<&str> = steps.iter().map(|(name, _, _)| *name).collect();
    let mut layout = Arc::unwrap_or_clone(layout(&names, edges));
    for (step, &(_, handler, queue)) in layout.steps.iter_mut().zip(steps) {
        step.handler = handler.to_owned();
        step.queue = queue.map(str::to_owned);
    }
    Arc::new(layout)
}

/// A claim request of `worker-1` with `filter`.
pub fn filtered_request(filter: ClaimFilter, limit: u32, now: Timestamp) -> ClaimRequest {
    ClaimRequest {
        filter,
        ..claim_request("worker-1", limit, now)
    }
}

/// Claim for `worker-1` with `filter`.
pub async fn claim_filtered(
    store: &dyn Store,
    filter: ClaimFilter,
    limit: u32,
    now: Timestamp,
) -> Vec<ClaimedStep> {
    store
        .claim_steps(&filtered_request(filter, limit, now))
        .await
        .expect("claim")
}

/// A template `conformance/<name>` at `version`, with an empty step list.
pub fn new_template(name: &str, version: &str) -> NewTemplate {
    NewTemplate {
        namespace: "conformance".into(),
        name: name.into(),
        version: version.into(),
        description: Some(format!("{name} {version}")),
        definition: json!({"name": name, "version": version, "steps": []}),
    }
}

/// Registers the template `conformance/flow@1.0.0` (idempotent) and returns its id.
pub async fn template(store: &dyn Store) -> TemplateId {
    store
        .register_template(&new_template("flow", "1.0.0"), t0())
        .await
        .expect("register template")
        .id
}

/// A task of `template_id` with `layout`, the context `{"order": 42}` and no identity.
pub fn new_task(template_id: TemplateId, layout: &Arc<StepLayout>) -> NewTask {
    NewTask {
        template_id,
        context: json!({"order": 42}),
        identity_hash: None,
        idempotency_key: None,
        traceparent: None,
        layout: Arc::clone(layout),
    }
}

/// Register the template (idempotent) and create one task from `layout` at `now`.
pub async fn create(store: &dyn Store, layout: &Arc<StepLayout>, now: Timestamp) -> TaskId {
    let template_id = template(store).await;
    let created = store
        .create_tasks(&[new_task(template_id, layout)], now)
        .await
        .expect("create task");
    assert!(created[0].created);
    created[0].id
}

/// A claim for `owner` of up to `limit` in-process steps at `now`, with a lease of [`LEASE_SECS`].
pub fn claim_request(owner: &str, limit: u32, now: Timestamp) -> ClaimRequest {
    ClaimRequest {
        owner: owner.into(),
        limit,
        now,
        lease_expires_at: now + secs(LEASE_SECS),
        only_task: None,
        filter: ClaimFilter::any_in_process(),
    }
}

/// Claims up to `limit` in-process steps for `worker-1` at `now`.
pub async fn claim(store: &dyn Store, limit: u32, now: Timestamp) -> Vec<ClaimedStep> {
    store
        .claim_steps(&claim_request("worker-1", limit, now))
        .await
        .expect("claim")
}

/// The names of the claimed steps, in claim order.
pub fn names(claimed: &[ClaimedStep]) -> Vec<String> {
    claimed.iter().map(|c| c.name.clone()).collect()
}

/// A successful outcome of the claimed attempt, reported by `worker-1`.
pub fn success(claimed: &ClaimedStep, result: Value) -> StepOutcome {
    StepOutcome {
        step_id: claimed.step_id,
        task_id: claimed.task_id,
        owner: "worker-1".into(),
        attempt: claimed.attempt,
        lease_expired: false,
        result: OutcomeKind::Succeeded { result },
    }
}

/// A failed outcome (`boom`) of the claimed attempt, reported by `worker-1`, retried at `retry_at`
/// (`None`: never).
pub fn failure(claimed: &ClaimedStep, retry_at: Option<Timestamp>) -> StepOutcome {
    StepOutcome {
        step_id: claimed.step_id,
        task_id: claimed.task_id,
        owner: "worker-1".into(),
        attempt: claimed.attempt,
        lease_expired: false,
        result: OutcomeKind::Failed {
            error: "boom".into(),
            retry_at,
            backoff_request_seconds: None,
            metadata: json!({}),
        },
    }
}

/// Records one outcome at `now` and returns its result.
pub async fn complete(store: &dyn Store, outcome: StepOutcome, now: Timestamp) -> CompletionResult {
    let mut results = store
        .complete_steps(&[outcome], now)
        .await
        .expect("complete");
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// The step of the task with this name (panics when there is none).
pub async fn step_named(store: &dyn Store, task_id: TaskId, name: &str) -> StepRecord {
    store
        .steps_of_task(task_id)
        .await
        .expect("steps of task")
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in task {task_id}"))
}

/// The latest transition of a step of `task_id`.
pub async fn last_step_transition(
    store: &dyn Store,
    task_id: TaskId,
    step_id: StepId,
) -> TransitionRecord {
    store
        .step_transitions_of_task(task_id)
        .await
        .expect("history")
        .into_iter()
        .rfind(|t| t.owner_id == step_id)
        .unwrap_or_else(|| panic!("no transition of step {step_id}"))
}

/// The step is running its first attempt under `worker`'s lease taken at `now`, and its
/// history records the claim.
pub async fn assert_claimed_by(
    store: &dyn Store,
    claimed: &ClaimedStep,
    worker: &str,
    now: Timestamp,
) {
    let step = store
        .step(claimed.step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(step.state, State::InProgress, "{}", step.name);
    assert_eq!(step.attempts, 1);
    assert_eq!(step.lease_owner.as_deref(), Some(worker));
    assert_eq!(step.lease_expires_at, Some(now + secs(LEASE_SECS)));
    assert_eq!(step.last_attempted_at, Some(now));
    assert_eq!(step.ready_at, None);
    let last = last_step_transition(store, claimed.task_id, step.id).await;
    assert_eq!(
        (last.from_state, last.to_state),
        (Some(State::Pending), State::InProgress)
    );
    assert_eq!(last.metadata, json!({"attempt": 1, "worker": worker}));
}

/// The task's state (panics when the task does not exist).
pub async fn task_state(store: &dyn Store, task_id: TaskId) -> State {
    store
        .task(task_id)
        .await
        .expect("task")
        .expect("task exists")
        .state
}

/// Contiguous sort keys from 1, a null `from_state` only first, each `from` the previous `to`,
/// exactly one `most_recent` (the last), ending in `current`.
pub fn check_history(rows: &[TransitionRecord], current: State, what: &str) {
    assert!(!rows.is_empty(), "{what}: no history");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.sort_key, i as i32 + 1, "{what}: sort keys {rows:#?}");
        assert_eq!(
            row.most_recent,
            i + 1 == rows.len(),
            "{what}: most_recent {rows:#?}"
        );
        let expected_from = if i == 0 {
            None
        } else {
            Some(rows[i - 1].to_state)
        };
        assert_eq!(row.from_state, expected_from, "{what}: chain {rows:#?}");
    }
    assert_eq!(
        rows[rows.len() - 1].to_state,
        current,
        "{what}: last transition"
    );
}

/// Everything that must hold of a task at any moment: history invariants, the SQL readiness
/// equals the model's, and the fast path (`ready_at <= now`) equals `ready_for_execution`.
pub async fn check_task(store: &dyn Store, task_id: TaskId, now: Timestamp) {
    let task = store
        .task(task_id)
        .await
        .expect("task")
        .expect("task exists");
    let steps = store.steps_of_task(task_id).await.expect("steps");

    let task_rows = store.task_transitions(task_id).await.expect("task history");
    check_history(&task_rows, task.state, &format!("task {task_id}"));
    let current = store
        .current_task_transition(task_id)
        .await
        .expect("current transition");
    assert_eq!(
        current.as_ref(),
        task_rows.last(),
        "current task transition"
    );

    let step_rows = store
        .step_transitions_of_task(task_id)
        .await
        .expect("step history");
    let mut by_step: HashMap<i64, Vec<TransitionRecord>> = HashMap::new();
    for row in step_rows {
        by_step.entry(row.owner_id).or_default().push(row);
    }
    for step in &steps {
        let mut rows = by_step.remove(&step.id).unwrap_or_default();
        rows.sort_by_key(|r| r.sort_key);
        check_history(&rows, step.state, &format!("step {}", step.name));
        assert!(
            step.attempts <= step.max_attempts,
            "step {} made {} of {} attempts",
            step.name,
            step.attempts,
            step.max_attempts
        );
    }
    assert!(
        by_step.is_empty(),
        "transitions of unknown steps: {by_step:?}"
    );

    let model = step_readiness(&task, &steps, now);
    let sql = store
        .step_readiness(&[task_id], now)
        .await
        .expect("step readiness");
    assert_eq!(
        sql, model,
        "step readiness of task {task_id} (sql vs model)"
    );
    for (step, readiness) in steps.iter().zip(&model) {
        let fast = step.ready_at.is_some_and(|at| at <= now);
        assert_eq!(
            fast, readiness.ready_for_execution,
            "fast path vs model for step {} ({:?}) of task {task_id} in state {}",
            step.name, step, task.state
        );
    }
    let context = store
        .task_execution_context(&[task_id], now)
        .await
        .expect("execution context");
    assert_eq!(
        context,
        vec![task_execution_context(task_id, &model)],
        "execution context of task {task_id}"
    );
}
