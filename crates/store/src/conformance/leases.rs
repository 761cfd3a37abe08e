//! Leases and wake-up times.

use super::fixture::{
    LEASE_SECS, check_task, claim, claim_request, create, layout, names, secs, t0,
};
use crate::Store;
use serde_json::json;
use std::sync::Arc;
use tasker_model::{State, StepId};

/// Checks that leases are renewed, expire and are released.
pub async fn leases_are_renewed_expired_and_released(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[]), t0()).await;
    let claimed = claim(&*store, 2, t0()).await;
    let (a, b) = (&claimed[0], &claimed[1]);
    let later = t0() + secs(2 * LEASE_SECS);
    let renew_at = t0() + secs(10);
    assert_eq!(
        store
            .renew_leases("worker-1", &[(a.step_id, 1)], renew_at, later)
            .await
            .expect("renew"),
        vec![a.step_id]
    );
    assert_eq!(
        store
            .renew_leases("worker-2", &[(b.step_id, 1)], renew_at, later)
            .await
            .expect("renew"),
        Vec::<StepId>::new()
    );
    assert_eq!(
        store
            .renew_leases("worker-1", &[(b.step_id, 2)], renew_at, later)
            .await
            .expect("renew"),
        Vec::<StepId>::new()
    );
    assert_eq!(
        store
            .step(a.step_id)
            .await
            .expect("step")
            .map(|s| s.lease_expires_at),
        Some(Some(later))
    );
    // b's lease ends at t0 + LEASE_SECS: from then on it is lost, rescued or not, and only
    // a's (still live) lease is renewed.
    for at in [t0() + secs(LEASE_SECS), t0() + secs(LEASE_SECS + 1)] {
        assert_eq!(
            store
                .renew_leases(
                    "worker-1",
                    &[(b.step_id, 1), (a.step_id, 1)],
                    at,
                    at + secs(LEASE_SECS)
                )
                .await
                .expect("renew"),
            vec![a.step_id]
        );
    }
    let lease_of = |id| {
        let store = Arc::clone(&store);
        async move {
            store
                .step(id)
                .await
                .expect("step")
                .and_then(|s| s.lease_expires_at)
        }
    };
    assert_eq!(lease_of(b.step_id).await, Some(t0() + secs(LEASE_SECS)));
    assert_eq!(
        lease_of(a.step_id).await,
        Some(t0() + secs(2 * LEASE_SECS + 1))
    );

    let check_at = t0() + secs(LEASE_SECS + 1);
    let expired = store.expired_leases(check_at, 10).await.expect("expired");
    assert_eq!(
        expired.iter().map(|e| e.step_id).collect::<Vec<_>>(),
        vec![b.step_id]
    );
    assert_eq!(expired[0].lease_expires_at, t0() + secs(LEASE_SECS));
    assert_eq!(
        (expired[0].task_id, expired[0].name.as_str()),
        (task_id, "b")
    );
    assert!(
        store
            .expired_leases(t0(), 10)
            .await
            .expect("expired")
            .is_empty()
    );

    let now = t0() + secs(3);
    assert_eq!(
        store
            .release_leases("worker-2", now)
            .await
            .expect("release"),
        0
    );
    assert_eq!(
        store
            .release_leases("worker-1", now)
            .await
            .expect("release"),
        2
    );
    for step in store.steps_of_task(task_id).await.expect("steps") {
        assert_eq!(
            (step.state, step.attempts, step.ready_at),
            (State::Pending, 0, Some(now))
        );
    }
    check_task(&*store, task_id, now).await;
    let again = store
        .claim_steps(&claim_request("worker-2", 10, now))
        .await
        .expect("claim");
    assert_eq!(names(&again), ["a", "b"]);
    assert!(again.iter().all(|c| c.attempt == 1));
    check_task(&*store, task_id, now).await;
}

/// Checks what `next_ready_at` and `outstanding_work` report as steps are claimed and finish.
pub async fn next_ready_at_and_outstanding_work(store: Arc<dyn Store>) {
    assert_eq!(
        store
            .next_ready_at(&crate::ClaimFilter::any_in_process())
            .await
            .expect("next"),
        None
    );
    let idle = store.outstanding_work().await.expect("outstanding");
    assert!(!idle.scheduled && !idle.running);

    create(&*store, &layout(&["a"], &[]), t0() + secs(5)).await;
    create(&*store, &layout(&["b"], &[]), t0() + secs(2)).await;
    assert_eq!(
        store
            .next_ready_at(&crate::ClaimFilter::any_in_process())
            .await
            .expect("next"),
        Some(t0() + secs(2))
    );
    let waiting = store.outstanding_work().await.expect("outstanding");
    assert!(waiting.scheduled && !waiting.running);

    assert_eq!(claim(&*store, 10, t0() + secs(10)).await.len(), 2);
    assert_eq!(
        store
            .next_ready_at(&crate::ClaimFilter::any_in_process())
            .await
            .expect("next"),
        None
    );
    let busy = store.outstanding_work().await.expect("outstanding");
    assert!(!busy.scheduled && busy.running);
}

/// Checks that releasing the last running step of a blocked task errors it.
pub async fn releasing_the_last_running_step_of_a_blocked_task_errors_it(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[]), t0()).await;
    let running = claim(&*store, 2, t0()).await;
    let failed = super::fixture::failure(&running[0], None);
    super::fixture::complete(&*store, failed, t0()).await;
    assert_eq!(
        super::fixture::task_state(&*store, task_id).await,
        State::InProgress
    );
    assert_eq!(
        store
            .release_leases("worker-1", t0())
            .await
            .expect("release"),
        1
    );
    let b = super::fixture::step_named(&*store, task_id, "b").await;
    assert_eq!((b.state, b.attempts, b.ready_at), (State::Pending, 0, None));
    assert_eq!(
        super::fixture::task_state(&*store, task_id).await,
        State::Error
    );
    check_task(&*store, task_id, t0()).await;
}

/// Checks that released steps run again without counting the attempt.
pub async fn released_steps_run_again_without_counting_the_attempt(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b", "c"], &[]), t0()).await;
    let claimed = claim(&*store, 3, t0()).await;
    assert_eq!(names(&claimed), ["a", "b", "c"]);
    let (a, b, c) = (claimed[0].step_id, claimed[1].step_id, claimed[2].step_id);
    let now = t0() + secs(5);
    let ready_at = t0() + secs(30);

    // Another owner's lease, or a stale attempt, is not given back.
    let none = Vec::<StepId>::new();
    let by_other = store
        .release_steps("worker-2", &[(a, 1)], now, ready_at, "no handler")
        .await
        .expect("release");
    assert_eq!(by_other, none);
    let stale = store
        .release_steps("worker-1", &[(a, 2)], now, ready_at, "no handler")
        .await
        .expect("release");
    assert_eq!(stale, none);

    let mut released = store
        .release_steps("worker-1", &[(b, 1), (a, 1)], now, ready_at, "no handler")
        .await
        .expect("release");
    released.sort_unstable();
    assert_eq!(released, vec![a, b]);
    for id in [a, b] {
        let step = store.step(id).await.expect("step").expect("exists");
        assert_eq!(
            (
                step.state,
                step.attempts,
                step.ready_at,
                step.lease_owner.as_deref(),
                step.lease_expires_at
            ),
            (State::Pending, 0, Some(ready_at), None, None),
            "step {}",
            step.name
        );
        let last = super::fixture::last_step_transition(&*store, task_id, id).await;
        assert_eq!(
            (last.from_state, last.to_state),
            (Some(State::InProgress), State::Pending)
        );
        assert_eq!(
            last.metadata,
            json!({"released": "no handler", "attempt": 1, "worker": "worker-1"})
        );
        assert_eq!(last.created_at, now);
    }
    // Released again: nothing left to give back.
    let twice = store
        .release_steps("worker-1", &[(a, 1)], now, ready_at, "no handler")
        .await
        .expect("release");
    assert_eq!(twice, none);
    assert_eq!(
        super::fixture::task_state(&*store, task_id).await,
        State::InProgress
    );

    // Not claimable before ready_at; then claimed with the same attempt number.
    let early = store
        .claim_steps(&claim_request("worker-2", 10, ready_at - secs(1)))
        .await
        .expect("claim");
    assert!(early.is_empty(), "claimed before ready_at: {early:?}");
    let again = store
        .claim_steps(&claim_request("worker-2", 10, ready_at))
        .await
        .expect("claim");
    assert_eq!(names(&again), ["a", "b"]);
    assert!(again.iter().all(|c| c.attempt == 1));

    // An expired lease that nobody rescued may still be given back by its owner.
    let late = t0() + secs(LEASE_SECS + 10);
    let expired = store
        .release_steps("worker-1", &[(c, 1)], late, late, "template not loadable")
        .await
        .expect("release");
    assert_eq!(expired, vec![c]);
    let step_c = store.step(c).await.expect("step").expect("exists");
    assert_eq!(
        (step_c.state, step_c.attempts, step_c.ready_at),
        (State::Pending, 0, Some(late))
    );
    check_task(&*store, task_id, late).await;
}

/// Checks that releasing a step of a blocked task leaves it waiting.
pub async fn releasing_a_step_of_a_blocked_task_leaves_it_waiting(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b", "c"], &[]), t0()).await;
    let running = claim(&*store, 3, t0()).await;
    let failed = super::fixture::failure(&running[0], None);
    super::fixture::complete(&*store, failed, t0()).await;
    let (b, c) = (running[1].step_id, running[2].step_id);
    let ready_at = t0() + secs(30);
    let released = store
        .release_steps("worker-1", &[(b, 1)], t0(), ready_at, "no handler")
        .await
        .expect("release");
    assert_eq!(released, vec![b]);
    // Blocked: b is not runnable, and the task still waits for c.
    let step_b = store.step(b).await.expect("step").expect("exists");
    assert_eq!(
        (step_b.state, step_b.attempts, step_b.ready_at),
        (State::Pending, 0, None)
    );
    assert_eq!(
        super::fixture::task_state(&*store, task_id).await,
        State::InProgress
    );
    let released = store
        .release_steps("worker-1", &[(c, 1)], t0(), ready_at, "no handler")
        .await
        .expect("release");
    assert_eq!(released, vec![c]);
    assert_eq!(
        super::fixture::task_state(&*store, task_id).await,
        State::Error
    );
    check_task(&*store, task_id, t0()).await;
}

/// Checks that the database's time is close to the system clock.
pub async fn database_time_is_close_to_the_system_clock(store: Arc<dyn Store>) {
    let before = chrono::Utc::now();
    let at = store.database_time().await.expect("database time");
    let after = chrono::Utc::now();
    assert!(
        at > before - secs(5) && at < after + secs(5),
        "database time {at} is not within 5 s of {before}..{after}"
    );
}
