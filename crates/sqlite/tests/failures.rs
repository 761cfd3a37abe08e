//! SQLite-specific safety net: a retry time for a step that has no attempt left is recorded
//! as a failure for good, so the stored readiness never disagrees with the model's.

use std::sync::Arc;
use tasker_model::State;
use tasker_sqlite::SqliteStore;
use tasker_store::Store;
use tasker_store::conformance::fixture::{
    check_task, claim, complete, create, failure, layout_with, secs, t0, task_state,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_past_the_last_attempt_is_a_failure_for_good() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").expect("open"));
    store.migrate().await.expect("migrate");
    let task_id = create(
        &*store,
        &layout_with(&[("a", true, 1), ("b", false, 3)], &[]),
        t0(),
    )
    .await;
    let claimed = claim(&*store, 2, t0()).await;
    for step in &claimed {
        let result = complete(&*store, failure(step, Some(t0() + secs(5))), t0()).await;
        assert!(result.applied);
    }
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!((task.state, task.steps_failed), (State::Error, 2));
    for step in store.steps_of_task(task_id).await.expect("steps") {
        assert_eq!(
            (step.state, step.ready_at),
            (State::Error, None),
            "{}",
            step.name
        );
    }
    check_task(&*store, task_id, t0() + secs(5)).await;
    assert_eq!(task_state(&*store, task_id).await, State::Error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_of_an_unknown_template_is_not_found_and_nothing_is_written() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").expect("open"));
    store.migrate().await.expect("migrate");
    let template_id = tasker_store::conformance::fixture::template(&*store).await;
    let shape = layout_with(&[("a", true, 1)], &[]);
    let good = tasker_store::conformance::fixture::new_task(template_id, &shape);
    let bad = tasker_store::conformance::fixture::new_task(template_id + 1, &shape);
    let err = store.create_tasks(&[good, bad], t0()).await.unwrap_err();
    assert!(
        matches!(
            err,
            tasker_store::Error::NotFound {
                what: "template",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        store
            .count_tasks_by_state()
            .await
            .expect("count")
            .is_empty()
    );
}
