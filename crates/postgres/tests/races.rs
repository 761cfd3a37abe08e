//! Races between claimers, completions and operator actions on PostgreSQL: a task goes to
//! `error` only while none of its steps runs, no step of a blocked task starts, and claims,
//! cancels and resolves never deadlock.

mod common;

use serde_json::json;
use std::sync::Arc;
use tasker_model::{State, Timestamp};
use tasker_postgres::PostgresStore;
use tasker_store::conformance::fixture::{layout, layout_with, new_task, secs, t0, template};
use tasker_store::{
    ClaimFilter, ClaimRequest, ClaimedStep, Error, OutcomeKind, StepOutcome, Store,
};

fn request(owner: &str, limit: u32, now: Timestamp) -> ClaimRequest {
    ClaimRequest {
        owner: owner.into(),
        limit,
        now,
        lease_expires_at: now + secs(3600),
        only_task: None,
        filter: ClaimFilter::any_in_process(),
    }
}

fn failed_for_good(claimed: &ClaimedStep, owner: &str) -> StepOutcome {
    StepOutcome {
        step_id: claimed.step_id,
        task_id: claimed.task_id,
        owner: owner.into(),
        attempt: claimed.attempt,
        lease_expired: false,
        result: OutcomeKind::Failed {
            error: "boom".into(),
            retry_at: None,
            backoff_request_seconds: None,
            metadata: json!({}),
        },
    }
}

async fn create_many(store: &PostgresStore, layout: &Arc<tasker_store::StepLayout>, n: usize) {
    let template_id = template(store).await;
    let tasks: Vec<_> = (0..n).map(|_| new_task(template_id, layout)).collect();
    for chunk in tasks.chunks(200) {
        store.create_tasks(chunk, t0()).await.expect("create");
    }
}

/// Each task has a step `a` that fails for good and a sibling `b` that, once claimed, runs
/// for the rest of the test. Claimers race: one fails an `a` while another claims its `b`.
/// A task may only go to `error` when nothing of it runs, so no task may end in `error`
/// with its `b` running; and a `b` claimed after its task was blocked would be exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_errors_only_when_none_of_its_steps_runs() {
    const TASKS: usize = 400;
    const CLAIMERS: usize = 4;
    let Some(fresh) = common::fresh_schema("a_task_errors_only_when_none_of_its_steps_runs").await
    else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    create_many(
        &store,
        &layout_with(&[("a", false, 1), ("b", true, 1)], &[]),
        TASKS,
    )
    .await;
    let now = t0() + secs(1);
    let mut claimers = Vec::new();
    for n in 0..CLAIMERS {
        let store = Arc::clone(&store);
        claimers.push(tokio::spawn(async move {
            let owner = format!("claimer-{n}");
            loop {
                let claimed = store
                    .claim_steps(&request(&owner, 1 + (n as u32 % 2), now))
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    return;
                }
                let failures: Vec<StepOutcome> = claimed
                    .iter()
                    .filter(|c| c.name == "a")
                    .map(|c| failed_for_good(c, &owner))
                    .collect();
                if !failures.is_empty() {
                    let results = store.complete_steps(&failures, now).await.expect("fail");
                    assert!(results.iter().all(|r| r.applied));
                }
            }
        }));
    }
    for claimer in claimers {
        claimer.await.expect("claimer");
    }

    let client = fresh.client().await;
    let rows = client
        .query(
            "SELECT t.id, t.state, b.state AS b_state
             FROM tasks t JOIN workflow_steps b ON b.task_id = t.id AND b.name = 'b'",
            &[],
        )
        .await
        .expect("states");
    let mut broken = Vec::new();
    let mut errored = 0;
    for row in &rows {
        let (id, task, b): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        if task == State::Error.as_str() {
            errored += 1;
            if b != State::Pending.as_str() {
                broken.push((id, b));
            }
        } else {
            assert_eq!(task, State::InProgress.as_str(), "task {id}");
            assert_eq!(b, State::InProgress.as_str(), "step b of task {id}");
        }
    }
    assert_eq!(rows.len(), TASKS);
    assert!(
        broken.is_empty(),
        "{} of {errored} tasks in error have a step that started anyway: {broken:?}",
        broken.len()
    );
}

/// Claimers take steps of pending tasks while an operator cancels those tasks and resolves
/// their steps: every cancel and resolve either applies or is refused as an invalid
/// transition, never a deadlock or a conflict, and every claim succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_and_operator_actions_never_deadlock() {
    const TASKS: usize = 300;
    let Some(fresh) = common::fresh_schema("claims_and_operator_actions_never_deadlock").await
    else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    create_many(&store, &layout(&["a", "b", "c", "d"], &[]), TASKS).await;
    let task_ids: Vec<i64> = {
        let client = fresh.client().await;
        client
            .query("SELECT id FROM tasks ORDER BY id", &[])
            .await
            .expect("ids")
            .iter()
            .map(|row| row.get(0))
            .collect()
    };
    let now = t0() + secs(1);
    let mut workers = Vec::new();
    for n in 0..2 {
        let store = Arc::clone(&store);
        workers.push(tokio::spawn(async move {
            let owner = format!("claimer-{n}");
            loop {
                let claimed = store
                    .claim_steps(&request(&owner, 3, now))
                    .await
                    .unwrap_or_else(|e| panic!("claim failed: {e}"));
                if claimed.is_empty() {
                    return;
                }
            }
        }));
    }
    // One operator cancels tasks, another resolves their steps, both from the oldest, where
    // the claimers are.
    let cancelling = {
        let (store, task_ids) = (Arc::clone(&store), task_ids.clone());
        tokio::spawn(async move {
            for task_id in task_ids.into_iter().skip(1).step_by(2) {
                match store.cancel_task(task_id, now, None).await {
                    Ok(_) | Err(Error::InvalidTransition { .. }) => {}
                    Err(e) => panic!("cancel of task {task_id} failed: {e}"),
                }
            }
        })
    };
    let resolving = {
        let (store, task_ids) = (Arc::clone(&store), task_ids.clone());
        tokio::spawn(async move {
            for task_id in task_ids.into_iter().step_by(2) {
                let steps = store.steps_of_task(task_id).await.expect("steps");
                if let Some(step) = steps.iter().rev().find(|s| s.state == State::Pending) {
                    match store.resolve_step(step.id, now, None).await {
                        Ok(_) | Err(Error::InvalidTransition { .. }) => {}
                        Err(e) => panic!("resolve of step {} failed: {e}", step.id),
                    }
                }
            }
        })
    };
    cancelling.await.expect("canceller");
    resolving.await.expect("resolver");
    for worker in workers {
        worker.await.expect("claimer");
    }
}

/// A transaction that holds task `task_id`'s row lock in `mode` until it ends.
async fn hold_task<'a>(
    client: &'a mut tokio_postgres::Client,
    task_id: i64,
    mode: &str,
) -> tokio_postgres::Transaction<'a> {
    let tx = client.transaction().await.expect("begin");
    tx.execute(
        &format!("SELECT id FROM tasks WHERE id = $1 FOR {mode}"),
        &[&task_id],
    )
    .await
    .expect("lock");
    tx
}

/// The task lock of a claim is the weakest that does the job: a claim of a running task goes
/// on while a completion of the same task holds its lock (NO KEY UPDATE), so that one wide
/// task's claims and completions overlap; it skips a task locked exclusively (FOR UPDATE, as a
/// blocking failure or an operator locks it); and an operator's action waits for a claim that
/// locked the task first (KEY SHARE) instead of changing the task under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_goes_on_beside_a_completion_but_not_beside_a_block() {
    let Some(fresh) =
        common::fresh_schema("a_claim_goes_on_beside_a_completion_but_not_beside_a_block").await
    else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    create_many(&store, &layout(&["a", "b", "c", "d"], &[]), 1).await;
    let now = t0() + secs(1);
    // One step of the task, if a claim takes one.
    let claim_one = async || {
        store
            .claim_steps(&request("w", 1, now))
            .await
            .expect("claim")
    };
    let first = claim_one().await;
    assert_eq!(first.len(), 1);
    let task_id = first[0].task_id;

    let mut client = fresh.client().await;

    // A completion's lock: the claim goes on beside it.
    let completion = hold_task(&mut client, task_id, "NO KEY UPDATE").await;
    let beside = claim_one().await;
    assert_eq!(beside.len(), 1, "a claim beside a completion of its task");
    completion.rollback().await.expect("rollback");

    // A blocking writer's lock: the claim skips the task until it is gone.
    let blocker = hold_task(&mut client, task_id, "UPDATE").await;
    let skipped = claim_one().await;
    assert!(
        skipped.is_empty(),
        "a claim beside a blocking writer: {skipped:?}"
    );
    blocker.rollback().await.expect("rollback");
    let after = claim_one().await;
    assert_eq!(after.len(), 1, "a claim once the blocking writer is gone");

    // A claim's lock (KEY SHARE) held open: a cancel waits for it, then applies.
    let claim = hold_task(&mut client, task_id, "KEY SHARE").await;
    let cancelling = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.cancel_task(task_id, now, None).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !cancelling.is_finished(),
        "the cancel went ahead while a claim held the task"
    );
    claim.commit().await.expect("commit");
    cancelling.await.expect("canceller").expect("cancel");
    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(task.state, State::Cancelled);
}
