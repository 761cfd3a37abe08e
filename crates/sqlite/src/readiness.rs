//! Readiness introspection, recomputed in SQL from states and edges.

use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, params};
use tasker_model::{StepReadiness, TaskExecutionContext, TaskId, Timestamp};
use tasker_store::{Error, Result};

fn sorted(task_ids: &[TaskId]) -> Vec<TaskId> {
    let mut ids = task_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

pub(crate) fn steps(
    conn: &Connection,
    task_ids: &[TaskId],
    now: Timestamp,
) -> Result<Vec<StepReadiness>> {
    let mut stmt = conn.prepare_cached(queries::STEP_READINESS).sql()?;
    let mut out = Vec::new();
    for task_id in sorted(task_ids) {
        let mut rows = stmt.query(params![task_id, micros(now)]).sql()?;
        while let Some(row) = rows.next().sql()? {
            out.push(StepReadiness {
                task_id: row.get(0).sql()?,
                step_id: row.get(1).sql()?,
                name: row.get(2).sql()?,
                current_state: codec::state_at(row, 3)?,
                dependencies_satisfied: row.get(4).sql()?,
                retry_eligible: row.get(5).sql()?,
                ready_for_execution: row.get(6).sql()?,
                last_failure_at: codec::opt_ts_at(row, 7)?,
                next_retry_at: codec::opt_ts_at(row, 8)?,
                total_parents: row.get(9).sql()?,
                completed_parents: row.get(10).sql()?,
                attempts: row.get(11).sql()?,
                max_attempts: row.get(12).sql()?,
                backoff_request_seconds: row.get(13).sql()?,
                last_attempted_at: codec::opt_ts_at(row, 14)?,
            });
        }
    }
    Ok(out)
}

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|e| Error::Corrupt(format!("readiness query: {e}")))
}

pub(crate) fn contexts(
    conn: &Connection,
    task_ids: &[TaskId],
    now: Timestamp,
) -> Result<Vec<TaskExecutionContext>> {
    let mut exists = conn.prepare_cached(queries::TASK_EXISTS).sql()?;
    let mut stmt = conn.prepare_cached(queries::TASK_EXECUTION_CONTEXT).sql()?;
    let mut out = Vec::new();
    for task_id in sorted(task_ids) {
        if !exists
            .query_row([task_id], |row| row.get::<_, bool>(0))
            .sql()?
        {
            continue;
        }
        let mut rows = stmt.query(params![task_id, micros(now)]).sql()?;
        if let Some(row) = rows.next().sql()? {
            out.push(TaskExecutionContext {
                task_id,
                total_steps: row.get(0).sql()?,
                pending_steps: row.get(1).sql()?,
                in_progress_steps: row.get(2).sql()?,
                completed_steps: row.get(3).sql()?,
                failed_steps: row.get(4).sql()?,
                ready_steps: row.get(5).sql()?,
                permanently_blocked_steps: row.get(6).sql()?,
                execution_status: parse(&row.get::<_, String>(7).sql()?)?,
                recommended_action: parse(&row.get::<_, String>(8).sql()?)?,
                completion_percentage: row.get(9).sql()?,
                health_status: parse(&row.get::<_, String>(10).sql()?)?,
            });
        }
    }
    Ok(out)
}
