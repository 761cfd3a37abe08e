//! Leases and wake-up times.

use super::fixture::{
    LEASE_SECS, check_task, claim, claim_request, create, layout, names, secs, t0,
};
use crate::Store;
use std::sync::Arc;
use tasker_model::State;

pub async fn leases_are_renewed_expired_and_released(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[]), t0()).await;
    let claimed = claim(&*store, 2, t0()).await;
    let (a, b) = (&claimed[0], &claimed[1]);
    let later = t0() + secs(2 * LEASE_SECS);
    assert_eq!(
        store
            .renew_leases("worker-1", &[(a.step_id, 1)], later)
            .await
            .expect("renew"),
        1
    );
    assert_eq!(
        store
            .renew_leases("worker-2", &[(b.step_id, 1)], later)
            .await
            .expect("renew"),
        0
    );
    assert_eq!(
        store
            .renew_leases("worker-1", &[(b.step_id, 2)], later)
            .await
            .expect("renew"),
        0
    );
    assert_eq!(
        store
            .step(a.step_id)
            .await
            .expect("step")
            .map(|s| s.lease_expires_at),
        Some(Some(later))
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

pub async fn next_ready_at_and_outstanding_work(store: Arc<dyn Store>) {
    assert_eq!(store.next_ready_at().await.expect("next"), None);
    let idle = store.outstanding_work().await.expect("outstanding");
    assert!(!idle.scheduled && !idle.running);

    create(&*store, &layout(&["a"], &[]), t0() + secs(5)).await;
    create(&*store, &layout(&["b"], &[]), t0() + secs(2)).await;
    assert_eq!(
        store.next_ready_at().await.expect("next"),
        Some(t0() + secs(2))
    );
    let waiting = store.outstanding_work().await.expect("outstanding");
    assert!(waiting.scheduled && !waiting.running);

    assert_eq!(claim(&*store, 10, t0() + secs(10)).await.len(), 2);
    assert_eq!(store.next_ready_at().await.expect("next"), None);
    let busy = store.outstanding_work().await.expect("outstanding");
    assert!(!busy.scheduled && busy.running);
}

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
