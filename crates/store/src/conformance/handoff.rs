//! The hand-off: a completion claims, in its own transaction, the steps its outcomes released.

use super::fixture::{
    LEASE_SECS, assert_claimed_by, check_task, claim, create, failure, layout, names, secs,
    success, t0,
};
use crate::{ClaimFilter, Completion, Handoff, StepOutcome, Store};
use serde_json::json;
use std::sync::Arc;
use tasker_model::Timestamp;

fn handoff(limit: u32, now: Timestamp) -> Handoff {
    Handoff {
        owner: "worker-2".into(),
        limit,
        lease_expires_at: now + secs(LEASE_SECS),
        filter: ClaimFilter::any_in_process(),
    }
}

async fn complete_and_claim(
    store: &dyn Store,
    outcomes: &[StepOutcome],
    now: Timestamp,
    limit: u32,
) -> Completion {
    store
        .complete_and_claim(outcomes, now, Some(&handoff(limit, now)))
        .await
        .expect("complete and claim")
}

/// Checks that completion hands released steps to its owner.
pub async fn completion_hands_released_steps_to_its_owner(store: Arc<dyn Store>) {
    let diamond = layout(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let task_id = create(&*store, &diamond, t0()).await;
    let roots = claim(&*store, 1, t0()).await;
    assert_eq!(names(&roots), ["a"]);
    // Runnable before the diamond's children, so a claim would take it first: the hand-off
    // must take only what its outcomes released.
    let other = create(&*store, &layout(&["x"], &[]), t0() + secs(1)).await;

    let now = t0() + secs(2);
    let done = complete_and_claim(&*store, &[success(&roots[0], json!({"a": 1}))], now, 10).await;
    assert!(done.results[0].applied);
    assert_eq!(names(&done.claimed), ["b", "c"]);
    let released: Vec<_> = done.claimed.iter().map(|c| c.step_id).collect();
    assert_eq!(
        done.results[0].released_steps, released,
        "handed-off steps still count as released"
    );
    for c in &done.claimed {
        assert_eq!(c.task_id, task_id);
        assert_eq!(c.attempt, 1);
        assert!(!c.task_started, "the task was already running");
        assert_eq!(c.lease_expires_at, now + secs(LEASE_SECS));
        assert_eq!(*c.task_context, json!({"order": 42}));
        assert_eq!(c.inputs, Some(json!({"step": c.name})));
        assert_eq!(c.parent_results, vec![("a".to_string(), json!({"a": 1}))]);
        assert_claimed_by(&*store, c, "worker-2", now).await;
    }
    check_task(&*store, task_id, now).await;

    // b's end releases nothing (d waits for c); c's end with no room leaves d for a claimer.
    let b = &done.claimed[0];
    let c = &done.claimed[1];
    let mut b_done = success(b, json!("b"));
    b_done.owner = "worker-2".into();
    let after_b = complete_and_claim(&*store, &[b_done], now, 10).await;
    assert!(after_b.results[0].applied);
    assert!(after_b.claimed.is_empty());
    let mut c_done = success(c, json!("c"));
    c_done.owner = "worker-2".into();
    let after_c = complete_and_claim(&*store, &[c_done], now, 0).await;
    assert!(after_c.results[0].applied);
    assert!(after_c.claimed.is_empty(), "a limit of 0 claims nothing");
    assert_eq!(after_c.results[0].released_steps.len(), 1);
    check_task(&*store, task_id, now).await;

    let rest = claim(&*store, 10, now).await;
    assert_eq!(names(&rest), ["x", "d"], "unclaimed steps stay runnable");
    assert_eq!(rest[0].task_id, other);
    check_task(&*store, task_id, now).await;
    check_task(&*store, other, now).await;
}

/// Checks that handoff claims no more than its limit.
pub async fn handoff_claims_no_more_than_its_limit(store: Arc<dyn Store>) {
    let fan = layout(
        &["a", "b1", "b2", "b3", "b4"],
        &[("a", "b1"), ("a", "b2"), ("a", "b3"), ("a", "b4")],
    );
    let task_id = create(&*store, &fan, t0()).await;
    let roots = claim(&*store, 10, t0()).await;
    let now = t0() + secs(1);

    // A fenced-out outcome and a failure release nothing, so they hand nothing off.
    let mut stale = success(&roots[0], json!(null));
    stale.attempt += 1;
    let fenced = complete_and_claim(&*store, &[stale], now, 10).await;
    assert!(!fenced.results[0].applied);
    assert!(fenced.claimed.is_empty());
    let failed = complete_and_claim(&*store, &[failure(&roots[0], Some(now))], now, 10).await;
    assert!(failed.results[0].applied);
    assert!(failed.claimed.is_empty());
    check_task(&*store, task_id, now).await;

    let retried = claim(&*store, 10, now).await;
    assert_eq!(names(&retried), ["a"]);
    let later = now + secs(1);
    let done = complete_and_claim(&*store, &[success(&retried[0], json!(1))], later, 2).await;
    assert_eq!(
        names(&done.claimed),
        ["b1", "b2"],
        "oldest first, up to the limit"
    );
    assert_eq!(done.results[0].released_steps.len(), 4);
    for c in &done.claimed {
        assert_claimed_by(&*store, c, "worker-2", later).await;
    }
    let rest = claim(&*store, 10, later).await;
    assert_eq!(names(&rest), ["b3", "b4"]);
    check_task(&*store, task_id, later).await;
}
