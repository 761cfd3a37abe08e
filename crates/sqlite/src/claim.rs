//! Claiming runnable steps under a lease.

use crate::bookkeeping::{self, TaskRow};
use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::{history, queries, routes};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use tasker_model::{State, StepId, TaskId, Timestamp};
use tasker_store::{ClaimRequest, ClaimedStep, Result};

/// What `claim_step.sql` returns about a step it moved to `in_progress`.
struct ClaimedRow {
    task_id: TaskId,
    name: String,
    attempt: i32,
    max_attempts: i32,
    retryable: bool,
    inputs: Option<String>,
    seq: i32,
    parents: i32,
    ready_at: i64,
    handler: String,
}

/// What a claim reads once per task, shared by the task's claimed steps.
struct ClaimedTask {
    row: TaskRow,
    context: Arc<Value>,
    traceparent: Option<Arc<str>>,
    created_at: Timestamp,
}

pub(crate) fn claim(conn: &mut Connection, request: &ClaimRequest) -> Result<Vec<ClaimedStep>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let candidates = match request.only_task {
        None => routes::ready_candidates(&tx, request)?,
        Some(task) => routes::task_candidates(&tx, request, task)?,
    };
    let claimed = claim_candidates(&tx, candidates, request)?;
    tx.commit().sql()?;
    Ok(claimed)
}

/// Move each candidate (a runnable step, with its state) to `in_progress` for the request's
/// owner, recording the history and starting its task; in the caller's transaction.
pub(crate) fn claim_candidates(
    tx: &Connection,
    candidates: Vec<(StepId, String)>,
    request: &ClaimRequest,
) -> Result<Vec<ClaimedStep>> {
    let now = micros(request.now);
    // Per task of the batch: its row, its context, trace context and creation time, read once
    // and shared by its steps.
    let mut tasks: HashMap<TaskId, ClaimedTask> = HashMap::new();
    let mut claimed = Vec::with_capacity(candidates.len());
    for (step_id, state) in candidates {
        let from = codec::state(&state)?;
        let updated = tx
            .prepare_cached(queries::CLAIM_STEP)
            .sql()?
            .query_row(
                params![
                    step_id,
                    state,
                    request.owner,
                    micros(request.lease_expires_at),
                    now
                ],
                |row| {
                    Ok(ClaimedRow {
                        task_id: row.get(0)?,
                        name: row.get(1)?,
                        attempt: row.get(2)?,
                        max_attempts: row.get(3)?,
                        retryable: row.get(4)?,
                        inputs: row.get(5)?,
                        seq: row.get(6)?,
                        parents: row.get(7)?,
                        ready_at: row.get(8)?,
                        handler: row.get(9)?,
                    })
                },
            )
            .optional()
            .sql()?;
        // The single connection serializes writers, so the candidate cannot have moved; the
        // compare-and-set still refuses to overwrite a state it did not expect.
        let Some(ClaimedRow {
            task_id,
            name,
            attempt,
            max_attempts,
            retryable,
            inputs,
            seq,
            parents,
            ready_at,
            handler,
        }) = updated
        else {
            continue;
        };
        history::step(
            tx,
            step_id,
            Some(from),
            State::InProgress,
            seq,
            &json!({"attempt": attempt, "worker": request.owner}),
            request.now,
        )?;
        let task = match tasks.entry(task_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(claimed_task(tx, task_id)?),
        };
        let mut task_started = false;
        if task.row.state == State::Pending {
            task_started = bookkeeping::set_task_state(
                tx,
                task_id,
                State::Pending,
                State::InProgress,
                &json!({"worker": request.owner}),
                request.now,
            )?;
            task.row.state = State::InProgress;
        }
        claimed.push(ClaimedStep {
            step_id,
            task_id,
            template_id: task.row.template_id,
            name,
            handler,
            attempt,
            max_attempts,
            retryable,
            lease_expires_at: request.lease_expires_at,
            inputs: codec::opt_json(inputs)?,
            task_context: Arc::clone(&task.context),
            // Roots, the bulk of wide workloads, skip the lookup.
            parent_results: if parents == 0 {
                Vec::new()
            } else {
                parent_results(tx, step_id)?
            },
            task_started,
            traceparent: task.traceparent.clone(),
            ready_at: codec::timestamp(ready_at)?,
            task_created_at: task.created_at,
        });
    }
    Ok(claimed)
}

fn claimed_task(conn: &Connection, task_id: TaskId) -> Result<ClaimedTask> {
    let row = bookkeeping::task_row(conn, task_id)?;
    let (context, traceparent, created_at): (String, Option<String>, i64) = conn
        .prepare_cached(queries::TASK_CONTEXT)
        .sql()?
        .query_row([task_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .sql()?;
    Ok(ClaimedTask {
        row,
        context: Arc::new(codec::json(&context)?),
        traceparent: traceparent.map(Arc::from),
        created_at: codec::timestamp(created_at)?,
    })
}

fn parent_results(conn: &Connection, step_id: StepId) -> Result<Vec<(String, Value)>> {
    let mut stmt = conn.prepare_cached(queries::PARENT_RESULTS).sql()?;
    let mut rows = stmt.query([step_id]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        let name: String = row.get(0).sql()?;
        let results = codec::opt_json(row.get(1).sql()?)?.unwrap_or(Value::Null);
        out.push((name, results));
    }
    Ok(out)
}
