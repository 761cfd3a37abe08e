//! Operator actions: cancel and retry a task, resolve a step by hand. Each locks the task row
//! first, then its steps (the order of every writer that waits for locks; claims take both
//! without waiting), checks the transition against the model's tables, then applies it as a
//! compare-and-set.

use crate::PostgresStore;
use crate::complete;
use crate::error::DbResult;
use crate::read;
use crate::rows::{self, get};
use crate::sql;
use crate::transitions::History;
use deadpool_postgres::Transaction;
use serde_json::{Value, json};
use tasker_model::state::{step_transition_allowed, task_transition_allowed};
use tasker_model::{State, StepId, StepRecord, TaskId, TaskRecord, Timestamp};
use tasker_store::{Error, Result};

struct LockedTask {
    state: State,
    steps_remaining: i32,
    steps_failed: i32,
}

async fn lock_task(tx: &Transaction<'_>, task_id: TaskId) -> Result<LockedTask> {
    let lock = tx.prepare_cached(sql::LOCK_TASK).await.db()?;
    let row = tx
        .query_opt(&lock, &[&task_id])
        .await
        .db()?
        .ok_or_else(|| Error::NotFound {
            what: "task",
            id: task_id.to_string(),
        })?;
    Ok(LockedTask {
        state: rows::state_col(&row, "state")?,
        steps_remaining: get(&row, "steps_remaining")?,
        steps_failed: get(&row, "steps_failed")?,
    })
}

fn check_task(task_id: TaskId, from: State, to: State) -> Result<()> {
    if task_transition_allowed(from, to) {
        Ok(())
    } else {
        Err(Error::InvalidTransition {
            what: format!("task {task_id}"),
            from,
            to,
        })
    }
}

/// Compare-and-set of the task's state and counters; returns the new transition sequence.
async fn set_task(
    tx: &Transaction<'_>,
    task_id: TaskId,
    now: Timestamp,
    expected: State,
    state: State,
    steps_remaining: i32,
    steps_failed: i32,
) -> Result<i32> {
    let set = tx.prepare_cached(sql::SET_TASK_STATE).await.db()?;
    let row = tx
        .query_opt(
            &set,
            &[
                &task_id,
                &now,
                &expected.as_str(),
                &state.as_str(),
                &steps_remaining,
                &steps_failed,
            ],
        )
        .await
        .db()?
        .ok_or_else(|| Error::Conflict(format!("task {task_id} changed state concurrently")))?;
    get(&row, "transition_seq")
}

async fn wake_steps(tx: &Transaction<'_>, task_id: TaskId, now: Timestamp) -> Result<()> {
    let wake = tx.prepare_cached(sql::WAKE_TASK_STEPS).await.db()?;
    tx.execute(&wake, &[&task_id, &now]).await.db()?;
    Ok(())
}

async fn task_record(store: &PostgresStore, task_id: TaskId) -> Result<TaskRecord> {
    read::task(store, task_id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "task",
            id: task_id.to_string(),
        })
}

pub(crate) async fn cancel_task(
    store: &PostgresStore,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<TaskRecord> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    let result = cancel_in(&tx, task_id, now, actor).await;
    finish(tx, result).await?;
    task_record(store, task_id).await
}

async fn cancel_in(
    tx: &Transaction<'_>,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<()> {
    let task = lock_task(tx, task_id).await?;
    check_task(task_id, task.state, State::Cancelled)?;
    let mut history = History::by(actor);
    let seq = set_task(
        tx,
        task_id,
        now,
        task.state,
        State::Cancelled,
        task.steps_remaining,
        task.steps_failed,
    )
    .await?;
    history.task(task_id, task.state, State::Cancelled, json!({}), seq);
    let cancel = tx.prepare_cached(sql::CANCEL_TASK_STEPS).await.db()?;
    for row in tx.query(&cancel, &[&task_id, &now]).await.db()? {
        history.step(
            get(&row, "id")?,
            rows::state_col(&row, "from_state")?,
            State::Cancelled,
            json!({}),
            get(&row, "transition_seq")?,
        );
    }
    history.write(tx, now).await?;
    Ok(())
}

pub(crate) async fn retry_task(
    store: &PostgresStore,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<TaskRecord> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    let result = retry_in(store, &tx, task_id, now, actor).await;
    finish(tx, result).await?;
    task_record(store, task_id).await
}

async fn retry_in(
    store: &PostgresStore,
    tx: &Transaction<'_>,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<()> {
    let task = lock_task(tx, task_id).await?;
    if task.state != State::Error {
        return Err(Error::InvalidTransition {
            what: format!("task {task_id}"),
            from: task.state,
            to: State::InProgress,
        });
    }
    let mut history = History::by(actor);
    let retry = tx.prepare_cached(sql::RETRY_TASK_STEPS).await.db()?;
    for row in tx.query(&retry, &[&task_id, &now]).await.db()? {
        history.step(
            get(&row, "id")?,
            State::Error,
            State::Pending,
            json!({ "task_retry": true }),
            get(&row, "transition_seq")?,
        );
    }
    wake_steps(tx, task_id, now).await?;
    let seq = set_task(
        tx,
        task_id,
        now,
        State::Error,
        State::InProgress,
        task.steps_remaining,
        0,
    )
    .await?;
    history.task(
        task_id,
        State::Error,
        State::InProgress,
        json!({ "task_retry": true }),
        seq,
    );
    history.write(tx, now).await?;
    // The retried steps are runnable: other processes may take them now.
    crate::notify::hint(tx, store.schema.as_deref()).await?;
    Ok(())
}

pub(crate) async fn resolve_step(
    store: &PostgresStore,
    step_id: StepId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<StepRecord> {
    let not_found = || Error::NotFound {
        what: "step",
        id: step_id.to_string(),
    };
    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    let result = resolve_in(store, &tx, step_id, now, actor).await;
    finish(tx, result).await?;
    read::step(store, step_id).await?.ok_or_else(not_found)
}

async fn resolve_in(
    store: &PostgresStore,
    tx: &Transaction<'_>,
    step_id: StepId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<()> {
    let not_found = || Error::NotFound {
        what: "step",
        id: step_id.to_string(),
    };
    let find = tx.prepare_cached(sql::STEP_TASK_ID).await.db()?;
    let task_id: TaskId = get(
        &tx.query_opt(&find, &[&step_id])
            .await
            .db()?
            .ok_or_else(not_found)?,
        "task_id",
    )?;
    let task = lock_task(tx, task_id).await?;
    let lock = tx.prepare_cached(sql::LOCK_STEP).await.db()?;
    let step = tx
        .query_opt(&lock, &[&step_id])
        .await
        .db()?
        .ok_or_else(not_found)?;
    let from = rows::state_col(&step, "state")?;
    if !step_transition_allowed(from, State::ResolvedManually) {
        return Err(Error::InvalidTransition {
            what: format!("step {step_id}"),
            from,
            to: State::ResolvedManually,
        });
    }
    let failed_for_good = from == State::Error
        && !tasker_model::backoff::retry_eligible(
            get(&step, "attempts")?,
            get(&step, "max_attempts")?,
            get(&step, "retryable")?,
        );

    let mut history = History::by(actor);
    let resolve = tx.prepare_cached(sql::RESOLVE_STEP).await.db()?;
    let row = tx
        .query_opt(&resolve, &[&step_id, &now, &from.as_str()])
        .await
        .db()?
        .ok_or_else(|| Error::Conflict(format!("step {step_id} changed state concurrently")))?;
    history.step(
        step_id,
        from,
        State::ResolvedManually,
        json!({}),
        get(&row, "transition_seq")?,
    );

    let remaining = task.steps_remaining - 1;
    let failed = task.steps_failed - i32::from(failed_for_good);
    // A cancelled task stays cancelled: a step that failed after the cancel may still be
    // resolved, for the record.
    let new_state = if task.state.is_terminal() {
        task.state
    } else if remaining == 0 {
        State::Complete
    } else if task.state == State::Error && failed == 0 {
        State::InProgress
    } else {
        task.state
    };
    if new_state != task.state {
        check_task(task_id, task.state, new_state)?;
    }
    let seq = set_task(tx, task_id, now, task.state, new_state, remaining, failed).await?;
    if new_state != task.state {
        history.task(task_id, task.state, new_state, json!({}), seq);
    }

    complete::release_children(tx, &[step_id], now).await?;
    let unblocked = task.steps_failed > 0 && failed == 0;
    if unblocked && matches!(new_state, State::Pending | State::InProgress) {
        wake_steps(tx, task_id, now).await?;
    }
    history.write(tx, now).await?;
    if matches!(new_state, State::Pending | State::InProgress) {
        // Released children or an unblocked task: other processes may have work now.
        crate::notify::hint(tx, store.schema.as_deref()).await?;
    }
    Ok(())
}

/// Commits when `result` is Ok; otherwise rolls back before answering. A transaction that is
/// only dropped rolls back when its connection next speaks, so the task row it locked stays
/// locked until then, and a claim that comes first skips that task (`SKIP LOCKED`) as if it
/// had no work.
async fn finish<T>(tx: Transaction<'_>, result: Result<T>) -> Result<T> {
    match result {
        Ok(value) => {
            tx.commit().await.db()?;
            Ok(value)
        }
        Err(e) => {
            // The refusal is what the caller needs to hear; a failed rollback only means the
            // connection is gone, which ends the transaction too.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}
