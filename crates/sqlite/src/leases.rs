//! Leases: renewal, the rescuer's view of expired ones, release on shutdown, and wake-up times.

use crate::bookkeeping;
use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::{history, queries};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use tasker_model::{State, StepId, TaskId, Timestamp};
use tasker_store::{ExpiredLease, OutstandingWork, Result};

pub(crate) fn renew(
    conn: &mut Connection,
    owner: &str,
    steps: &[(StepId, i32)],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Vec<StepId>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let mut renewed = Vec::new();
    {
        let mut stmt = tx.prepare_cached(queries::RENEW_LEASES).sql()?;
        for &(step_id, attempt) in steps {
            let changed = stmt
                .execute(params![
                    step_id,
                    attempt,
                    owner,
                    micros(expires_at),
                    micros(now)
                ])
                .sql()?;
            if changed > 0 {
                renewed.push(step_id);
            }
        }
    }
    tx.commit().sql()?;
    Ok(renewed)
}

pub(crate) fn database_time(conn: &Connection) -> Result<Timestamp> {
    let at: i64 = conn
        .prepare_cached(queries::DATABASE_TIME)
        .sql()?
        .query_row([], |row| row.get(0))
        .sql()?;
    codec::timestamp(at)
}

pub(crate) fn expired(conn: &Connection, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>> {
    let mut stmt = conn.prepare_cached(queries::EXPIRED_LEASES).sql()?;
    let mut rows = stmt.query(params![micros(now), i64::from(limit)]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(ExpiredLease {
            step_id: row.get(0).sql()?,
            task_id: row.get(1).sql()?,
            template_id: row.get(2).sql()?,
            name: row.get(3).sql()?,
            owner: row.get::<_, Option<String>>(4).sql()?.unwrap_or_default(),
            attempt: row.get(5).sql()?,
            max_attempts: row.get(6).sql()?,
            retryable: row.get(7).sql()?,
            lease_expires_at: codec::ts_at(row, 8)?,
        });
    }
    Ok(out)
}

pub(crate) fn release(conn: &mut Connection, owner: &str, now: Timestamp) -> Result<u64> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let held: Vec<(StepId, TaskId, i32)> = {
        let mut stmt = tx.prepare_cached(queries::LEASES_OF_OWNER).sql()?;
        let mut rows = stmt.query([owner]).sql()?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().sql()? {
            out.push((row.get(0).sql()?, row.get(1).sql()?, row.get(2).sql()?));
        }
        out
    };
    let mut released = 0u64;
    for (step_id, task_id, attempt) in held {
        let released_by = json!({"released": true, "attempt": attempt, "worker": owner});
        if release_one(&tx, step_id, task_id, now, now, &released_by)? {
            released += 1;
        }
    }
    tx.commit().sql()?;
    Ok(released)
}

/// Gives one running step back (`in_progress -> pending`, attempt not counted), runnable at
/// `ready_at` unless its task is blocked or cancelled, with its history row; fails a blocked
/// task that waited only for it. `false` when the step was no longer running.
fn release_one(
    tx: &rusqlite::Transaction<'_>,
    step_id: StepId,
    task_id: TaskId,
    now: Timestamp,
    ready_at: Timestamp,
    released_by: &serde_json::Value,
) -> Result<bool> {
    let task = bookkeeping::task_row(tx, task_id)?;
    let ready_at = task.accepts_work().then_some(micros(ready_at));
    let seq: Option<i32> = tx
        .prepare_cached(queries::RELEASE_LEASE)
        .sql()?
        .query_row(params![step_id, micros(now), ready_at], |row| row.get(0))
        .optional()
        .sql()?;
    let Some(seq) = seq else { return Ok(false) };
    history::step(
        tx,
        step_id,
        Some(State::InProgress),
        State::Pending,
        seq,
        released_by,
        now,
    )?;
    // A blocked task waits only for its running steps; this one no longer runs.
    bookkeeping::block_if_idle(tx, task_id, task.state, task.steps_failed, now, None)?;
    Ok(true)
}

/// Gives back the given leases of `owner` without counting their attempts (see
/// `Store::release_steps`).
pub(crate) fn release_steps(
    conn: &mut Connection,
    owner: &str,
    steps: &[(StepId, i32)],
    now: Timestamp,
    ready_at: Timestamp,
    reason: &str,
) -> Result<Vec<StepId>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let mut released = Vec::new();
    for &(step_id, attempt) in steps {
        let task_id: Option<TaskId> = tx
            .prepare_cached(queries::LEASE_TASK)
            .sql()?
            .query_row(params![step_id, owner, attempt], |row| row.get(0))
            .optional()
            .sql()?;
        let Some(task_id) = task_id else { continue };
        let released_by = json!({"released": reason, "attempt": attempt, "worker": owner});
        if release_one(&tx, step_id, task_id, now, ready_at, &released_by)? {
            released.push(step_id);
        }
    }
    tx.commit().sql()?;
    Ok(released)
}

pub(crate) fn outstanding(conn: &Connection) -> Result<OutstandingWork> {
    conn.prepare_cached(queries::OUTSTANDING_WORK)
        .sql()?
        .query_row([], |row| {
            Ok(OutstandingWork {
                scheduled: row.get(0)?,
                running: row.get(1)?,
            })
        })
        .sql()
}
