//! Operator actions: cancel and retry a task, resolve a step by hand.

use crate::bookkeeping::{self, task_row};
use crate::error::SqlResultExt;
use crate::{codec, queries, tasks};
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::{Value, json};
use tasker_model::backoff::retry_eligible;
use tasker_model::state::{step_transition_allowed, task_transition_allowed};
use tasker_model::{State, StepId, StepRecord, TaskId, TaskRecord, Timestamp};
use tasker_store::{Error, Result, with_actor};

fn invalid(what: String, from: State, to: State) -> Error {
    Error::InvalidTransition { what, from, to }
}

fn reload_task(conn: &Connection, task_id: TaskId) -> Result<TaskRecord> {
    tasks::by_id(conn, task_id)?.ok_or_else(|| Error::NotFound {
        what: "task",
        id: task_id.to_string(),
    })
}

pub(crate) fn cancel(
    conn: &mut Connection,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<TaskRecord> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let task = task_row(&tx, task_id)?;
    if !task_transition_allowed(task.state, State::Cancelled)
        || !bookkeeping::set_task_state(
            &tx,
            task_id,
            task.state,
            State::Cancelled,
            &with_actor(json!({}), actor),
            now,
        )?
    {
        return Err(invalid(
            format!("task {task_id}"),
            task.state,
            State::Cancelled,
        ));
    }
    let steps: Vec<(StepId, String)> = {
        let mut stmt = tx.prepare_cached(queries::CANCELLABLE_STEPS).sql()?;
        let mut rows = stmt.query([task_id]).sql()?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().sql()? {
            out.push((row.get(0).sql()?, row.get(1).sql()?));
        }
        out
    };
    for (step_id, state) in steps {
        let from = codec::state(&state)?;
        bookkeeping::set_step_state(
            &tx,
            step_id,
            from,
            State::Cancelled,
            &with_actor(json!({}), actor),
            now,
        )?;
    }
    bookkeeping::clear_ready(&tx, task_id)?;
    let record = reload_task(&tx, task_id)?;
    tx.commit().sql()?;
    Ok(record)
}

pub(crate) fn retry(
    conn: &mut Connection,
    task_id: TaskId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<TaskRecord> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let task = task_row(&tx, task_id)?;
    if task.state != State::Error {
        return Err(invalid(
            format!("task {task_id}"),
            task.state,
            State::InProgress,
        ));
    }
    let failed: Vec<StepId> = {
        let mut stmt = tx.prepare_cached(queries::FAILED_FOR_GOOD_STEPS).sql()?;
        let mut rows = stmt.query([task_id]).sql()?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().sql()? {
            out.push(row.get(0).sql()?);
        }
        out
    };
    let at = codec::micros(now);
    for step_id in failed {
        let seq: i32 = tx
            .prepare_cached(queries::RETRY_STEP)
            .sql()?
            .query_row(params![step_id, at], |row| row.get(0))
            .sql()?;
        crate::history::step(
            &tx,
            step_id,
            Some(State::Error),
            State::Pending,
            seq,
            &with_actor(json!({"task_retry": true}), actor),
            now,
        )?;
    }
    tx.prepare_cached(queries::TASK_RESET_FAILED)
        .sql()?
        .execute(params![task_id, at])
        .sql()?;
    if !bookkeeping::set_task_state(
        &tx,
        task_id,
        State::Error,
        State::InProgress,
        &with_actor(json!({"task_retry": true}), actor),
        now,
    )? {
        return Err(Error::Conflict(format!(
            "task {task_id} changed during retry"
        )));
    }
    bookkeeping::restore_ready(&tx, task_id, now)?;
    let record = reload_task(&tx, task_id)?;
    tx.commit().sql()?;
    Ok(record)
}

pub(crate) fn resolve(
    conn: &mut Connection,
    step_id: StepId,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<StepRecord> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let step = tasks::step(&tx, step_id)?.ok_or_else(|| Error::NotFound {
        what: "step",
        id: step_id.to_string(),
    })?;
    let what = || format!("step {step_id}");
    if !step_transition_allowed(step.state, State::ResolvedManually) {
        return Err(invalid(what(), step.state, State::ResolvedManually));
    }
    let was_failed_for_good = step.state == State::Error
        && !retry_eligible(step.attempts, step.max_attempts, step.retryable);
    if !bookkeeping::set_step_state(
        &tx,
        step_id,
        step.state,
        State::ResolvedManually,
        &with_actor(json!({}), actor),
        now,
    )? {
        return Err(invalid(what(), step.state, State::ResolvedManually));
    }
    bookkeeping::step_done(&tx, step_id, step.task_id, was_failed_for_good, now, actor)?;
    let record = tasks::step(&tx, step_id)?.ok_or_else(|| Error::NotFound {
        what: "step",
        id: step_id.to_string(),
    })?;
    tx.commit().sql()?;
    Ok(record)
}
