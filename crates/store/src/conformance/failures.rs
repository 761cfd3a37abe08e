//! Fencing of outcomes, retryable and permanent failures.

use super::fixture::{
    LEASE_SECS, check_task, claim, complete, create, failure, last_step_transition, layout,
    layout_with, names, secs, step_named, success, t0, task_state,
};
use crate::{OutcomeKind, Store};
use serde_json::json;
use std::sync::Arc;
use tasker_model::State;

/// Checks that outcomes are fenced by owner attempt and lease.
pub async fn outcomes_are_fenced_by_owner_attempt_and_lease(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a"], &[]), t0()).await;
    let claimed = claim(&*store, 1, t0()).await.remove(0);
    let history_len = || {
        let store = Arc::clone(&store);
        async move {
            store
                .step_transitions_of_task(task_id)
                .await
                .expect("history")
                .len()
        }
    };
    let before = history_len().await;
    let now = t0() + secs(1);

    let mut wrong_owner = success(&claimed, json!(1));
    wrong_owner.owner = "someone-else".into();
    let mut wrong_attempt = success(&claimed, json!(1));
    wrong_attempt.attempt = 2;
    let mut expired_on_live_lease = failure(&claimed, None);
    expired_on_live_lease.lease_expired = true;
    let fenced = store
        .complete_steps(&[wrong_owner, wrong_attempt, expired_on_live_lease], now)
        .await
        .expect("complete");
    assert!(
        fenced
            .iter()
            .all(|r| !r.applied && r.released_steps.is_empty() && r.task_finished.is_none())
    );
    assert_eq!(fenced[0].step_id, claimed.step_id);

    let late = t0() + secs(LEASE_SECS + 1);
    assert!(
        !complete(&*store, success(&claimed, json!(1)), late)
            .await
            .applied,
        "lease expired"
    );
    assert_eq!(history_len().await, before, "fenced outcomes write nothing");
    let step = store
        .step(claimed.step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(
        (step.state, step.results.clone()),
        (State::InProgress, None)
    );

    let applied = complete(&*store, success(&claimed, json!(1)), now).await;
    assert!(applied.applied);
    assert_eq!(applied.task_finished, Some(State::Complete));
    let twice = complete(&*store, success(&claimed, json!(2)), now).await;
    assert!(!twice.applied, "double completion");
    let step = store
        .step(claimed.step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(step.results, Some(json!(1)));
    check_task(&*store, task_id, now).await;
}

/// Checks that expired lease outcome is applied after expiry.
pub async fn expired_lease_outcome_is_applied_after_expiry(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a"], &[]), t0()).await;
    let claimed = claim(&*store, 1, t0()).await.remove(0);
    let late = t0() + secs(LEASE_SECS + 5);
    let expired = store.expired_leases(late, 10).await.expect("expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (
            expired[0].step_id,
            expired[0].owner.as_str(),
            expired[0].attempt
        ),
        (claimed.step_id, "worker-1", 1)
    );
    let mut rescued = failure(&claimed, Some(late + secs(1)));
    rescued.lease_expired = true;
    let result = complete(&*store, rescued, late).await;
    assert!(result.applied);
    let step = store
        .step(claimed.step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(step.state, State::Error);
    assert_eq!(step.ready_at, Some(late + secs(1)));
    assert!(
        store
            .expired_leases(late, 10)
            .await
            .expect("expired")
            .is_empty()
    );
    check_task(&*store, task_id, late).await;
}

/// Checks that retryable failure is claimed again after retry at.
pub async fn retryable_failure_is_claimed_again_after_retry_at(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[("a", "b")]), t0()).await;
    let first = claim(&*store, 1, t0()).await.remove(0);
    let failed_at = t0() + secs(1);
    let retry_at = failed_at + secs(10);
    let mut outcome = failure(&first, Some(retry_at));
    outcome.result = OutcomeKind::Failed {
        error: "timeout".into(),
        retry_at: Some(retry_at),
        backoff_request_seconds: Some(10),
        metadata: json!({"backoff_ms": 10_000}),
    };
    let result = complete(&*store, outcome, failed_at).await;
    assert!(result.applied && result.task_finished.is_none() && result.released_steps.is_empty());

    let step = step_named(&*store, task_id, "a").await;
    assert_eq!(step.state, State::Error);
    assert_eq!(step.ready_at, Some(retry_at));
    assert_eq!(step.last_failure_at, Some(failed_at));
    assert_eq!(step.backoff_request_seconds, Some(10));
    let last = last_step_transition(&*store, task_id, step.id).await;
    assert_eq!(
        (last.from_state, last.to_state),
        (Some(State::InProgress), State::Error)
    );
    assert_eq!(last.metadata["attempt"], json!(1));
    assert_eq!(last.metadata["error"], json!("timeout"));
    assert_eq!(last.metadata["backoff_ms"], json!(10_000));
    assert!(!last.metadata["retry_at"].is_null());
    assert_eq!(task_state(&*store, task_id).await, State::InProgress);
    check_task(&*store, task_id, failed_at).await;

    assert!(
        claim(&*store, 10, retry_at - secs(1)).await.is_empty(),
        "not before retry_at"
    );
    assert_eq!(
        store
            .next_ready_at(&crate::ClaimFilter::any_in_process())
            .await
            .expect("next"),
        Some(retry_at)
    );
    let outstanding = store.outstanding_work().await.expect("outstanding");
    assert!(outstanding.scheduled && !outstanding.running);
    check_task(&*store, task_id, retry_at - secs(1)).await;
    check_task(&*store, task_id, retry_at).await;

    let second = claim(&*store, 10, retry_at).await;
    assert_eq!(names(&second), ["a"]);
    assert_eq!(second[0].attempt, 2);
    assert!(!second[0].task_started);
    let history = store
        .step_transitions_of_task(task_id)
        .await
        .expect("history");
    let last = history
        .iter()
        .rfind(|t| t.owner_id == step.id)
        .expect("transition");
    assert_eq!(
        (last.from_state, last.to_state),
        (Some(State::Error), State::InProgress)
    );
    assert_eq!(last.metadata["attempt"], json!(2));
    let done = complete(&*store, success(&second[0], json!("ok")), retry_at).await;
    assert!(done.applied);
    assert_eq!(done.released_steps.len(), 1);
    check_task(&*store, task_id, retry_at).await;
}

/// Checks that permanent failure blocks the task.
pub async fn permanent_failure_blocks_the_task(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b", "c", "d"], &[("a", "d")]), t0()).await;
    let running = claim(&*store, 2, t0()).await;
    assert_eq!(names(&running), ["a", "b"]);
    let now = t0() + secs(1);
    let failed = complete(&*store, failure(&running[0], None), now).await;
    assert!(failed.applied);
    assert_eq!(failed.task_finished, None, "b still runs");
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!((task.state, task.steps_failed), (State::InProgress, 1));
    assert_eq!(step_named(&*store, task_id, "c").await.ready_at, None);
    assert!(
        claim(&*store, 10, now).await.is_empty(),
        "siblings of a failure do not start"
    );
    check_task(&*store, task_id, now).await;

    let finished = complete(&*store, success(&running[1], json!("b")), now).await;
    assert!(finished.applied);
    assert!(finished.released_steps.is_empty());
    assert_eq!(finished.task_finished, Some(State::Error));
    assert_eq!(task_state(&*store, task_id).await, State::Error);
    let history = store.task_transitions(task_id).await.expect("history");
    assert_eq!(
        history.last().map(|t| (t.from_state, t.to_state)),
        Some((Some(State::InProgress), State::Error))
    );
    check_task(&*store, task_id, now).await;
    assert!(claim(&*store, 10, now + secs(100)).await.is_empty());
}

/// Checks that last attempt failure with nothing running errors the task.
pub async fn last_attempt_failure_with_nothing_running_errors_the_task(store: Arc<dyn Store>) {
    let task_id = create(
        &*store,
        &layout_with(&[("a", true, 1), ("b", true, 3)], &[("a", "b")]),
        t0(),
    )
    .await;
    let claimed = claim(&*store, 1, t0()).await.remove(0);
    let result = complete(&*store, failure(&claimed, None), t0()).await;
    assert_eq!(result.task_finished, Some(State::Error));
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(
        (task.state, task.steps_failed, task.steps_remaining),
        (State::Error, 1, 2)
    );
    check_task(&*store, task_id, t0()).await;
}
