//! What a claim carries about its task beyond the context: the trace context the task was
//! created with, when the task was created, and when each step became runnable.

use super::fixture::{LEASE_SECS, claim, complete, failure, layout, new_task, secs, t0, template};
use crate::{Handoff, Store, TaskFilter};
use std::sync::Arc;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Checks that claims carry the trace context and times of their task.
pub async fn claims_carry_the_trace_context_and_times_of_their_task(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    let steps = layout(&["a", "c", "b"], &[("a", "b")]);
    let traced = {
        let mut task = new_task(template_id, &steps);
        task.traceparent = Some(TRACEPARENT.into());
        task
    };
    let traced_id = store.create_tasks(&[traced], t0()).await.expect("create")[0].id;
    let plain_id = store
        .create_tasks(
            &[new_task(template_id, &layout(&["x"], &[]))],
            t0() + secs(1),
        )
        .await
        .expect("create")[0]
        .id;

    let task = store.task(traced_id).await.expect("task").expect("exists");
    assert_eq!(task.traceparent.as_deref(), Some(TRACEPARENT));
    let plain = store.task(plain_id).await.expect("task").expect("exists");
    assert_eq!(plain.traceparent, None);
    let listed = store
        .list_tasks(&TaskFilter {
            limit: 10,
            ..TaskFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|t| (t.id, t.traceparent.as_deref()))
            .collect::<Vec<_>>(),
        [(plain_id, None), (traced_id, Some(TRACEPARENT))]
    );

    let now = t0() + secs(2);
    let claimed = claim(&*store, 10, now).await;
    let by_name = |name: &str| {
        claimed
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name} was not claimed"))
    };
    let (a, c, x) = (by_name("a"), by_name("c"), by_name("x"));
    for step in [a, c] {
        assert_eq!(
            step.traceparent.as_deref(),
            Some(TRACEPARENT),
            "{}",
            step.name
        );
        assert_eq!((step.ready_at, step.task_created_at), (t0(), t0()));
    }
    let (a_trace, c_trace) = (a.traceparent.as_ref(), c.traceparent.as_ref());
    assert!(
        a_trace.zip(c_trace).is_some_and(|(a, c)| Arc::ptr_eq(a, c)),
        "the steps of a task claimed together share one copy of its trace context"
    );
    assert_eq!(x.traceparent, None);
    assert_eq!(
        (x.ready_at, x.task_created_at),
        (t0() + secs(1), t0() + secs(1))
    );

    // The hand-off claim of b carries them too; b became runnable when a finished.
    let finished_at = t0() + secs(5);
    let done = store
        .complete_and_claim(
            &[super::fixture::success(a, serde_json::json!(1))],
            finished_at,
            Some(&Handoff {
                owner: "worker-1".into(),
                limit: 10,
                lease_expires_at: finished_at + secs(LEASE_SECS),
                filter: crate::ClaimFilter::any_in_process(),
            }),
        )
        .await
        .expect("complete and claim");
    assert_eq!(done.claimed.len(), 1);
    let b = &done.claimed[0];
    assert_eq!(b.name, "b");
    assert_eq!(b.traceparent.as_deref(), Some(TRACEPARENT));
    assert_eq!((b.ready_at, b.task_created_at), (finished_at, t0()));

    // A retry is claimed at its retry time or later; ready_at says when it was due.
    let retry_at = t0() + secs(10);
    complete(&*store, failure(c, Some(retry_at)), t0() + secs(6)).await;
    let again = claim(&*store, 10, t0() + secs(12)).await;
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].name.as_str(), again[0].attempt), ("c", 2));
    assert_eq!(again[0].ready_at, retry_at);
    assert_eq!(again[0].traceparent.as_deref(), Some(TRACEPARENT));
}

/// Checks that runnable steps are counted up to a cap.
pub async fn runnable_steps_are_counted_up_to_a_cap(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    assert_eq!(
        store.count_runnable_steps(t0(), 100).await.expect("count"),
        0
    );
    // Three roots runnable at t0, one child waiting; two more roots runnable at t0 + 10 s.
    let early = layout(&["a", "b", "c", "d"], &[("a", "d")]);
    store
        .create_tasks(&[new_task(template_id, &early)], t0())
        .await
        .expect("create");
    let late = layout(&["e", "f"], &[]);
    store
        .create_tasks(&[new_task(template_id, &late)], t0() + secs(10))
        .await
        .expect("create");

    let count = |at, cap| {
        let store = Arc::clone(&store);
        async move { store.count_runnable_steps(at, cap).await.expect("count") }
    };
    assert_eq!(count(t0() - secs(1), 100).await, 0);
    assert_eq!(count(t0(), 100).await, 3);
    assert_eq!(count(t0() + secs(10), 100).await, 5);
    assert_eq!(
        count(t0() + secs(10), 4).await,
        4,
        "counting stops at the cap"
    );
    assert_eq!(count(t0() + secs(10), 0).await, 0);

    // Claimed steps are no longer runnable.
    let claimed = claim(&*store, 2, t0() + secs(10)).await;
    assert_eq!(claimed.len(), 2);
    assert_eq!(count(t0() + secs(10), 100).await, 3);
}
