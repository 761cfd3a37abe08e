//! The latest failure kept on the step record: written with the failed outcome, read by both
//! step reads, kept after a later success.

use super::fixture::{
    LEASE_SECS, claim, complete, create, failure, layout, layout_with, secs, step_named, success,
    t0,
};
use crate::{ClaimedStep, OutcomeKind, StepOutcome, Store};
use serde_json::json;
use std::sync::Arc;
use tasker_model::{State, StepFailure, StepId, Timestamp};

/// A failed outcome of `claimed` as the engine writes one: its text and its kind.
fn failed(
    claimed: &ClaimedStep,
    error: &str,
    kind: &str,
    retry_at: Option<Timestamp>,
) -> StepOutcome {
    let mut outcome = failure(claimed, retry_at);
    outcome.result = OutcomeKind::Failed {
        error: error.into(),
        retry_at,
        backoff_request_seconds: None,
        metadata: json!({ "failure": kind }),
    };
    outcome
}

fn expected(message: &str, kind: &str, attempt: i32, at: Timestamp) -> Option<StepFailure> {
    Some(StepFailure {
        message: message.into(),
        kind: kind.into(),
        attempt,
        at,
    })
}

/// `step` and `steps_of_task` agree on the step's `last_error`.
async fn last_error_of(
    store: &dyn Store,
    task_id: i64,
    step_id: StepId,
    name: &str,
) -> Option<StepFailure> {
    let by_id = store
        .step(step_id)
        .await
        .expect("step")
        .expect("exists")
        .last_error;
    let of_task = step_named(store, task_id, name).await.last_error;
    assert_eq!(
        by_id, of_task,
        "step and steps_of_task disagree on last_error"
    );
    by_id
}

/// A failed attempt leaves its message, kind, attempt and time on the step; a second failure
/// replaces it, and a later success keeps it.
pub async fn a_failed_attempt_keeps_its_error_after_a_later_success(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a"], &[]), t0()).await;
    let first = claim(&*store, 1, t0()).await.remove(0);
    assert_eq!(
        last_error_of(&*store, task_id, first.step_id, "a").await,
        None
    );

    // Stored times keep microseconds: `at` is the step's `last_failure_at`, to the microsecond.
    let failed_at = t0() + secs(1) + chrono::Duration::nanoseconds(1_234_567);
    let outcome = failed(&first, "connection reset", "handler", Some(failed_at));
    assert!(complete(&*store, outcome, failed_at).await.applied);
    let stored_at = t0() + secs(1) + chrono::Duration::microseconds(1_234);
    assert_eq!(
        last_error_of(&*store, task_id, first.step_id, "a").await,
        expected("connection reset", "handler", 1, stored_at)
    );
    assert_eq!(
        step_named(&*store, task_id, "a").await.last_failure_at,
        Some(stored_at)
    );

    // A second failure replaces the first: the record keeps the latest.
    let second = claim(&*store, 1, failed_at).await.remove(0);
    let again_at = stored_at + secs(1);
    let outcome = failed(&second, "timed out after 500 ms", "timeout", Some(again_at));
    assert!(complete(&*store, outcome, again_at).await.applied);
    let latest = expected("timed out after 500 ms", "timeout", 2, again_at);
    assert_eq!(
        last_error_of(&*store, task_id, first.step_id, "a").await,
        latest
    );

    let third = claim(&*store, 1, again_at).await.remove(0);
    let done_at = again_at + secs(1);
    let done = complete(&*store, success(&third, json!("ok")), done_at).await;
    assert_eq!(done.task_finished, Some(State::Complete));
    let step = step_named(&*store, task_id, "a").await;
    assert_eq!(step.state, State::Complete);
    assert_eq!(step.last_error, latest, "a success keeps the last failure");
    assert_eq!(step.last_failure_at, Some(again_at));
}

/// A failure without a retry records its error too, with the default kind when the outcome
/// names none.
pub async fn a_permanent_failure_records_its_error(store: Arc<dyn Store>) {
    let task_id = create(
        &*store,
        &layout_with(&[("a", true, 3), ("b", true, 3)], &[]),
        t0(),
    )
    .await;
    let running = claim(&*store, 2, t0()).await;
    let now = t0() + secs(1);
    let outcome = failed(&running[0], "card declined", "permanent", None);
    assert!(complete(&*store, outcome, now).await.applied);
    assert_eq!(
        last_error_of(&*store, task_id, running[0].step_id, "a").await,
        expected("card declined", "permanent", 1, now)
    );
    // An outcome that names no kind is recorded as the handler's.
    let unnamed = complete(&*store, failure(&running[1], None), now).await;
    assert_eq!(unnamed.task_finished, Some(State::Error));
    assert_eq!(
        last_error_of(&*store, task_id, running[1].step_id, "b").await,
        expected("boom", StepFailure::DEFAULT_KIND, 1, now)
    );
}

/// The rescuer's outcome for an expired lease is recorded as a `lease_expired` last error.
pub async fn the_rescuers_expired_lease_is_recorded_as_the_last_error(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a"], &[]), t0()).await;
    let claimed = claim(&*store, 1, t0()).await.remove(0);
    let late = t0() + secs(LEASE_SECS + 5);
    let mut rescued = failed(
        &claimed,
        "lease expired (owner worker-1)",
        "lease_expired",
        Some(late),
    );
    rescued.lease_expired = true;
    assert!(complete(&*store, rescued, late).await.applied);
    assert_eq!(
        last_error_of(&*store, task_id, claimed.step_id, "a").await,
        expected("lease expired (owner worker-1)", "lease_expired", 1, late)
    );
}
