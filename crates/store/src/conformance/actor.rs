//! Who performed an operator action is recorded in every transition the action writes.

use super::fixture::{check_task, claim, complete, create, failure, layout_with, secs, t0};
use crate::Store;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use tasker_model::{State, TaskId, TransitionRecord};

/// Every transition of the task and its steps, keyed so that new ones can be told apart.
async fn history(store: &dyn Store, task_id: TaskId) -> Vec<((bool, i64, i32), TransitionRecord)> {
    let tasks = store.task_transitions(task_id).await.expect("task history");
    let steps = store
        .step_transitions_of_task(task_id)
        .await
        .expect("step history");
    tasks
        .into_iter()
        .map(|t| ((true, t.owner_id, t.sort_key), t))
        .chain(
            steps
                .into_iter()
                .map(|t| ((false, t.owner_id, t.sort_key), t)),
        )
        .collect()
}

/// Runs `action` and returns the transitions it wrote: (is a task transition, from, to,
/// metadata), in a stable order.
async fn written_by<F, Fut>(
    store: &dyn Store,
    task_id: TaskId,
    action: F,
) -> Vec<(bool, State, State, Value)>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before: HashSet<_> = history(store, task_id)
        .await
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    action().await;
    let mut new: Vec<_> = history(store, task_id)
        .await
        .into_iter()
        .filter(|(key, _)| !before.contains(key))
        .map(|((is_task, owner, seq), t)| {
            let from = t
                .from_state
                .expect("an action's transition has a from state");
            (
                (is_task, owner, seq),
                (is_task, from, t.to_state, t.metadata),
            )
        })
        .collect();
    new.sort_by_key(|(key, _)| *key);
    new.into_iter().map(|(_, row)| row).collect()
}

/// Checks that operator actions record their actor.
pub async fn operator_actions_record_their_actor(store: Arc<dyn Store>) {
    let retrier = json!({"token": 1, "name": "ops"});
    let resolver = json!({"token": 2, "name": "oncall"});
    let canceller = json!("cli:alice");

    // a fails for good, so the task errors; b waits for a.
    let steps = layout_with(&[("a", false, 1), ("b", true, 3)], &[("a", "b")]);
    let task_id = create(&*store, &steps, t0()).await;
    let a = claim(&*store, 1, t0()).await.remove(0);
    complete(&*store, failure(&a, None), t0()).await;

    let now = t0() + secs(1);
    let rows = written_by(&*store, task_id, || async {
        store
            .retry_task(task_id, now, Some(&retrier))
            .await
            .expect("retry");
    })
    .await;
    assert_eq!(
        rows,
        [
            (
                false,
                State::Error,
                State::Pending,
                json!({"task_retry": true, "actor": retrier})
            ),
            (
                true,
                State::Error,
                State::InProgress,
                json!({"task_retry": true, "actor": retrier})
            ),
        ]
    );
    check_task(&*store, task_id, now).await;

    // The claim and the failure are not operator actions: no actor.
    let rows = written_by(&*store, task_id, || async {
        let a = claim(&*store, 1, now).await.remove(0);
        complete(&*store, failure(&a, None), now).await;
    })
    .await;
    assert!(
        rows.iter().all(|(_, _, _, m)| m.get("actor").is_none()),
        "{rows:?}"
    );

    // Resolving a unblocks the task: both rows name the resolver.
    let a_id = a.step_id;
    let rows = written_by(&*store, task_id, || async {
        store
            .resolve_step(a_id, now, Some(&resolver))
            .await
            .expect("resolve");
    })
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.contains(&(
        false,
        State::Error,
        State::ResolvedManually,
        json!({"actor": resolver})
    )));
    let task_row = rows
        .iter()
        .find(|(is_task, ..)| *is_task)
        .expect("the task's transition");
    assert_eq!(
        (task_row.1, task_row.2, task_row.3.get("actor")),
        (State::Error, State::InProgress, Some(&resolver))
    );
    check_task(&*store, task_id, now).await;

    // Cancelling writes the task's row and one per cancelled step (b).
    let rows = written_by(&*store, task_id, || async {
        store
            .cancel_task(task_id, now, Some(&canceller))
            .await
            .expect("cancel");
    })
    .await;
    assert_eq!(
        rows,
        [
            (
                false,
                State::Pending,
                State::Cancelled,
                json!({"actor": canceller})
            ),
            (
                true,
                State::InProgress,
                State::Cancelled,
                json!({"actor": canceller})
            ),
        ]
    );
    check_task(&*store, task_id, now).await;

    // Resolving the last step completes its task: that row names the resolver too.
    let single = create(&*store, &layout_with(&[("only", true, 1)], &[]), t0()).await;
    let only = store.steps_of_task(single).await.expect("steps")[0].id;
    let rows = written_by(&*store, single, || async {
        store
            .resolve_step(only, now, Some(&resolver))
            .await
            .expect("resolve");
    })
    .await;
    assert_eq!(
        rows,
        [
            (
                false,
                State::Pending,
                State::ResolvedManually,
                json!({"actor": resolver})
            ),
            (
                true,
                State::Pending,
                State::Complete,
                json!({"actor": resolver})
            ),
        ]
    );

    // Without an actor, nothing is added.
    let plain = create(&*store, &layout_with(&[("x", true, 1)], &[]), t0()).await;
    let rows = written_by(&*store, plain, || async {
        store.cancel_task(plain, now, None).await.expect("cancel");
    })
    .await;
    assert!(rows.iter().all(|(_, _, _, m)| m == &json!({})), "{rows:?}");
}
