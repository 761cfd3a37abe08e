//! Operator actions: cancel, retry, resolve.

use super::fixture::{
    check_task, claim, complete, create, failure, layout, layout_with, names, secs, step_named,
    success, t0, task_state,
};
use crate::{Error, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use tasker_model::State;

/// Checks that cancel stops pending and failed steps.
pub async fn cancel_stops_pending_and_failed_steps(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b", "c"], &[("a", "c")]), t0()).await;
    let running = claim(&*store, 2, t0()).await;
    assert_eq!(names(&running), ["a", "b"]);
    let now = t0() + secs(1);
    complete(&*store, failure(&running[1], Some(now + secs(30))), now).await;

    let task = store.cancel_task(task_id, now, None).await.expect("cancel");
    assert_eq!(task.state, State::Cancelled);
    assert_eq!(
        step_named(&*store, task_id, "a").await.state,
        State::InProgress,
        "a running step finishes"
    );
    for name in ["b", "c"] {
        let step = step_named(&*store, task_id, name).await;
        assert_eq!(
            (step.state, step.ready_at),
            (State::Cancelled, None),
            "{name}"
        );
    }
    check_task(&*store, task_id, now).await;
    assert!(claim(&*store, 10, now + secs(60)).await.is_empty());

    let done = complete(&*store, success(&running[0], json!("a")), now).await;
    assert!(done.applied, "the running step's outcome is kept");
    assert!(done.released_steps.is_empty());
    assert_eq!(done.task_finished, None);
    assert_eq!(
        step_named(&*store, task_id, "a").await.state,
        State::Complete
    );
    assert_eq!(task_state(&*store, task_id).await, State::Cancelled);
    check_task(&*store, task_id, now).await;

    let err = store.cancel_task(task_id, now, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidTransition {
                from: State::Cancelled,
                to: State::Cancelled,
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .cancel_task(task_id + 1000, now, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

/// Checks that cancel of a finished task is invalid.
pub async fn cancel_of_a_finished_task_is_invalid(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a"], &[]), t0()).await;
    let claimed = claim(&*store, 1, t0()).await.remove(0);
    complete(&*store, success(&claimed, json!(1)), t0()).await;
    let err = store.cancel_task(task_id, t0(), None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidTransition {
                from: State::Complete,
                ..
            }
        ),
        "{err:?}"
    );
    let pending = create(&*store, &layout(&["a"], &[]), t0()).await;
    assert_eq!(
        store
            .cancel_task(pending, t0(), None)
            .await
            .expect("cancel")
            .state,
        State::Cancelled
    );
    check_task(&*store, pending, t0()).await;
}

/// Checks that retry task gives failed steps more attempts.
pub async fn retry_task_gives_failed_steps_more_attempts(store: Arc<dyn Store>) {
    let task_id = create(
        &*store,
        &layout_with(&[("a", true, 1), ("b", true, 2)], &[("a", "b")]),
        t0(),
    )
    .await;
    let err = store.retry_task(task_id, t0(), None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidTransition {
                from: State::Pending,
                ..
            }
        ),
        "{err:?}"
    );
    let first = claim(&*store, 1, t0()).await.remove(0);
    let failed = complete(&*store, failure(&first, None), t0()).await;
    assert_eq!(failed.task_finished, Some(State::Error));
    check_task(&*store, task_id, t0()).await;

    let now = t0() + secs(5);
    let task = store.retry_task(task_id, now, None).await.expect("retry");
    assert_eq!((task.state, task.steps_failed), (State::InProgress, 0));
    let a = step_named(&*store, task_id, "a").await;
    assert_eq!(
        (a.state, a.attempts, a.max_attempts, a.ready_at),
        (State::Pending, 1, 2, Some(now))
    );
    check_task(&*store, task_id, now).await;
    let history = store.task_transitions(task_id).await.expect("history");
    assert_eq!(
        history.last().map(|t| (t.from_state, t.to_state)),
        Some((Some(State::Error), State::InProgress))
    );

    let again = claim(&*store, 10, now).await;
    assert_eq!(names(&again), ["a"]);
    assert_eq!(again[0].attempt, 2);
    let done = complete(&*store, success(&again[0], json!("a")), now).await;
    assert_eq!(
        done.released_steps,
        vec![step_named(&*store, task_id, "b").await.id]
    );
    let b = claim(&*store, 10, now).await.remove(0);
    assert_eq!(
        complete(&*store, success(&b, json!("b")), now)
            .await
            .task_finished,
        Some(State::Complete)
    );
    check_task(&*store, task_id, now).await;
    let err = store
        .retry_task(task_id + 1000, now, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

/// A non-retryable step gets one fresh attempt from `task retry`; the introspection must call it
/// ready like the fast path does, and a second failure blocks the task again.
pub async fn retry_task_runs_a_non_retryable_step_once_more(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout_with(&[("a", false, 1)], &[]), t0()).await;
    let first = claim(&*store, 1, t0()).await.remove(0);
    complete(&*store, failure(&first, None), t0()).await;
    let now = t0() + secs(1);
    store.retry_task(task_id, now, None).await.expect("retry");
    check_task(&*store, task_id, now).await;
    let readiness = store
        .step_readiness(&[task_id], now)
        .await
        .expect("readiness");
    assert!(readiness[0].ready_for_execution, "{readiness:?}");
    let again = claim(&*store, 1, now).await.remove(0);
    assert_eq!(again.attempt, 2);
    let failed = complete(&*store, failure(&again, None), now).await;
    assert_eq!(failed.task_finished, Some(State::Error));
    check_task(&*store, task_id, now).await;
}

/// Checks that resolve step releases children and unblocks the task.
pub async fn resolve_step_releases_children_and_unblocks_the_task(store: Arc<dyn Store>) {
    let task_id = create(
        &*store,
        &layout_with(&[("a", false, 1), ("b", true, 3)], &[("a", "b")]),
        t0(),
    )
    .await;
    let first = claim(&*store, 1, t0()).await.remove(0);
    complete(&*store, failure(&first, None), t0()).await;
    assert_eq!(task_state(&*store, task_id).await, State::Error);

    let now = t0() + secs(1);
    let resolved = store
        .resolve_step(first.step_id, now, None)
        .await
        .expect("resolve");
    assert_eq!(resolved.state, State::ResolvedManually);
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(
        (task.state, task.steps_failed, task.steps_remaining),
        (State::InProgress, 0, 1)
    );
    let b = step_named(&*store, task_id, "b").await;
    assert_eq!((b.unsatisfied_parents, b.ready_at), (0, Some(now)));
    check_task(&*store, task_id, now).await;

    let child = claim(&*store, 10, now).await;
    assert_eq!(names(&child), ["b"]);
    assert_eq!(
        child[0].parent_results,
        vec![("a".to_string(), Value::Null)]
    );
    let done = complete(&*store, success(&child[0], json!("b")), now).await;
    assert_eq!(done.task_finished, Some(State::Complete));
    check_task(&*store, task_id, now).await;

    let err = store
        .resolve_step(child[0].step_id, now, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidTransition {
                from: State::Complete,
                to: State::ResolvedManually,
                ..
            }
        ),
        "{err:?}"
    );
    let err = store.resolve_step(i64::MAX, now, None).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

/// Checks that resolving the last step completes the task.
pub async fn resolving_the_last_step_completes_the_task(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[("a", "b")]), t0()).await;
    let a = step_named(&*store, task_id, "a").await;
    store
        .resolve_step(a.id, t0(), None)
        .await
        .expect("resolve a");
    assert_eq!(task_state(&*store, task_id).await, State::Pending);
    let b = step_named(&*store, task_id, "b").await;
    assert_eq!(b.ready_at, Some(t0()));
    check_task(&*store, task_id, t0()).await;
    store
        .resolve_step(b.id, t0(), None)
        .await
        .expect("resolve b");
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(
        (task.state, task.steps_remaining, task.completed_at),
        (State::Complete, 0, Some(t0()))
    );
    check_task(&*store, task_id, t0()).await;
    let err = store.resolve_step(b.id, t0(), None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
}

/// Checks that resolving a blocking step while a sibling runs unblocks the task.
pub async fn resolving_a_blocking_step_while_a_sibling_runs_unblocks_the_task(
    store: Arc<dyn Store>,
) {
    let task_id = create(&*store, &layout(&["a", "b", "c", "d"], &[("a", "d")]), t0()).await;
    let running = claim(&*store, 2, t0()).await;
    assert_eq!(names(&running), ["a", "b"]);
    complete(&*store, failure(&running[0], None), t0()).await;
    assert_eq!(step_named(&*store, task_id, "c").await.ready_at, None);
    check_task(&*store, task_id, t0()).await;

    let now = t0() + secs(1);
    store
        .resolve_step(running[0].step_id, now, None)
        .await
        .expect("resolve");
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!((task.state, task.steps_failed), (State::InProgress, 0));
    check_task(&*store, task_id, now).await;
    let next = claim(&*store, 10, now).await;
    assert_eq!(
        names(&next),
        ["c", "d"],
        "the sibling and the released child run again"
    );
    for c in next.iter().chain(std::iter::once(&running[1])) {
        complete(&*store, success(c, json!(null)), now).await;
    }
    assert_eq!(task_state(&*store, task_id).await, State::Complete);
    check_task(&*store, task_id, now).await;
}

/// Checks that a permanent failure with attempts left still blocks.
pub async fn a_permanent_failure_with_attempts_left_still_blocks(store: Arc<dyn Store>) {
    let task_id = create(&*store, &layout(&["a", "b"], &[("a", "b")]), t0()).await;
    let first = claim(&*store, 1, t0()).await.remove(0);
    assert_eq!(first.max_attempts, 3);
    let result = complete(&*store, failure(&first, None), t0()).await;
    assert_eq!(result.task_finished, Some(State::Error));
    let a = step_named(&*store, task_id, "a").await;
    assert_eq!((a.state, a.ready_at), (State::Error, None));
    check_task(&*store, task_id, t0()).await;
    assert!(claim(&*store, 10, t0() + secs(3_600)).await.is_empty());

    store.retry_task(task_id, t0(), None).await.expect("retry");
    let a = step_named(&*store, task_id, "a").await;
    assert_eq!((a.state, a.attempts), (State::Pending, 1));
    assert!(
        a.max_attempts > a.attempts,
        "task retry grants more attempts"
    );
    check_task(&*store, task_id, t0()).await;
    assert_eq!(claim(&*store, 10, t0()).await[0].attempt, 2);
}

/// A step that `task retry` gave a fresh set of attempts stays eligible whenever it is pending
/// again, even though it is not retryable and already made attempts: after a shutdown gave its
/// lease back, and after its task was blocked meanwhile and then unblocked.
pub async fn a_task_retried_step_given_back_at_shutdown_runs_again(store: Arc<dyn Store>) {
    let task_id = create(
        &*store,
        &layout_with(&[("a", false, 1), ("b", false, 1)], &[]),
        t0(),
    )
    .await;
    let first = claim(&*store, 2, t0()).await;
    complete(&*store, failure(&first[0], None), t0()).await;
    complete(&*store, failure(&first[1], None), t0()).await;
    assert_eq!(task_state(&*store, task_id).await, State::Error);

    let now = t0() + secs(1);
    store.retry_task(task_id, now, None).await.expect("retry");
    let second = claim(&*store, 2, now).await;
    assert_eq!(names(&second), ["a", "b"]);
    assert!(second.iter().all(|c| c.attempt == 2));
    // A shutdown gives both back: runnable again at once, with the same attempt number.
    let released = store
        .release_leases("worker-1", now)
        .await
        .expect("release");
    assert_eq!(released, 2);
    check_task(&*store, task_id, now).await;
    let third = claim(&*store, 2, now).await;
    assert_eq!(names(&third), ["a", "b"]);
    assert!(third.iter().all(|c| c.attempt == 2));

    // a fails for good while b runs: blocked. b is given back: the task errors, b waits.
    let later = now + secs(1);
    complete(&*store, failure(&third[0], None), later).await;
    assert_eq!(
        store
            .release_leases("worker-1", later)
            .await
            .expect("release"),
        1
    );
    assert_eq!(task_state(&*store, task_id).await, State::Error);
    let b = step_named(&*store, task_id, "b").await;
    assert_eq!((b.state, b.attempts, b.ready_at), (State::Pending, 1, None));
    check_task(&*store, task_id, later).await;

    // Resolving a unblocks the task: b is runnable again.
    let resolved_at = later + secs(1);
    store
        .resolve_step(third[0].step_id, resolved_at, None)
        .await
        .expect("resolve");
    assert_eq!(task_state(&*store, task_id).await, State::InProgress);
    let b = step_named(&*store, task_id, "b").await;
    assert_eq!((b.state, b.ready_at), (State::Pending, Some(resolved_at)));
    check_task(&*store, task_id, resolved_at).await;
    let fourth = claim(&*store, 2, resolved_at).await;
    assert_eq!(names(&fourth), ["b"]);
    assert_eq!(fourth[0].attempt, 2);
    let done = complete(&*store, success(&fourth[0], json!("b")), resolved_at).await;
    assert_eq!(done.task_finished, Some(State::Complete));
    check_task(&*store, task_id, resolved_at).await;
}
