//! The introspection queries agree with the model and with the fast path.

use super::fixture::{check_task, claim, create, failure, layout, layout_with, secs, success, t0};
use crate::Store;
use serde_json::json;
use std::sync::Arc;
use tasker_model::{ExecutionStatus, HealthStatus, State};

/// Checks that readiness agrees with the model through a run.
pub async fn readiness_agrees_with_the_model_through_a_run(store: Arc<dyn Store>) {
    let shape = layout(
        &["a", "b", "c", "d", "e"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let running = create(&*store, &shape, t0()).await;
    let blocked = create(
        &*store,
        &layout_with(
            &[("x", true, 1), ("y", true, 3), ("z", true, 3)],
            &[("x", "z")],
        ),
        t0(),
    )
    .await;
    let cancelled = create(&*store, &shape, t0()).await;
    let all = [running, blocked, cancelled];
    let mut now = t0();
    let check_all = |now| {
        let store = Arc::clone(&store);
        async move {
            for id in all {
                check_task(&*store, id, now).await;
            }
        }
    };
    check_all(now).await;
    store
        .cancel_task(cancelled, now, None)
        .await
        .expect("cancel");
    check_all(now).await;

    let mut rounds = 0;
    loop {
        let claimed = claim(&*store, 3, now).await;
        if claimed.is_empty() {
            break;
        }
        check_all(now).await;
        now += secs(1);
        let outcomes: Vec<_> = claimed
            .iter()
            .map(|c| match c.name.as_str() {
                // Fails once with a retry, then succeeds.
                "c" if c.attempt == 1 => failure(c, Some(now)),
                "x" => failure(c, None),
                _ => success(c, json!({"by": c.name})),
            })
            .collect();
        let results = store
            .complete_steps(&outcomes, now)
            .await
            .expect("complete");
        assert!(results.iter().all(|r| r.applied));
        check_all(now).await;
        check_all(now + secs(1)).await;
        rounds += 1;
        assert!(rounds < 20, "the run does not end");
    }
    let context = store
        .task_execution_context(&all, now)
        .await
        .expect("context");
    assert_eq!(context.iter().map(|c| c.task_id).collect::<Vec<_>>(), {
        let mut sorted = all.to_vec();
        sorted.sort();
        sorted
    });
    let by_id = |id| context.iter().find(|c| c.task_id == id).expect("context");
    assert_eq!(
        by_id(running).execution_status,
        ExecutionStatus::AllComplete
    );
    assert_eq!(by_id(running).completion_percentage, 100.0);
    assert_eq!(
        by_id(blocked).execution_status,
        ExecutionStatus::BlockedByFailures
    );
    assert_eq!(by_id(blocked).health_status, HealthStatus::Blocked);
    // x fails in the first round with nothing else of its task running: y never starts.
    assert_eq!(by_id(blocked).completion_percentage, 0.0);
    assert_eq!(by_id(cancelled).completion_percentage, 0.0);
    let task = store.task(blocked).await.expect("task").expect("exists");
    assert_eq!(task.state, State::Error);
    let readiness = store
        .step_readiness(&[blocked, running], now)
        .await
        .expect("readiness");
    assert_eq!(readiness.len(), 8);
    assert!(
        readiness.windows(2).all(|w| w[0].task_id <= w[1].task_id),
        "ordered by task"
    );
    assert!(
        store
            .task_execution_context(&[i64::MAX], now)
            .await
            .expect("context")
            .is_empty()
    );
}
