//! Reads over finished tasks for the analytics API, and the runnable-steps gauge.

use crate::SqliteStore;
use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::queries;
use async_trait::async_trait;
use rusqlite::{Connection, params};
use std::cmp::Reverse;
use tasker_model::Timestamp;
use tasker_store::{
    AnalyticsStore, Error, FinishedCount, FinishedQuery, FinishedTask, Result, StepSample,
    StepTimes, bucket_start, check_bucket, sample_times,
};

fn counts(
    conn: &Connection,
    since: Timestamp,
    until: Timestamp,
    bucket_seconds: i64,
) -> Result<Vec<FinishedCount>> {
    let bucket_micros = bucket_seconds
        .checked_mul(1_000_000)
        .ok_or_else(|| Error::Database(format!("bucket of {bucket_seconds} s is too large")))?;
    let mut stmt = conn.prepare_cached(queries::FINISHED_COUNTS).sql()?;
    let mut rows = stmt
        .query(params![micros(since), micros(until), bucket_micros])
        .sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(FinishedCount {
            bucket_start: bucket_start(row.get(0).sql()?, bucket_seconds)?,
            tasks_complete: row.get(1).sql()?,
            tasks_error: row.get(2).sql()?,
            tasks_cancelled: row.get(3).sql()?,
            steps: row.get(4).sql()?,
        });
    }
    Ok(out)
}

/// The newest finished tasks of the query: one walk of the index for all templates, or one
/// per template merged here.
fn finished(conn: &Connection, query: &FinishedQuery) -> Result<Vec<FinishedTask>> {
    let (since, until, limit) = (micros(query.since), micros(query.until), query.limit);
    let mut out = Vec::new();
    let mut read = |sql: &str, template_id: Option<i64>| -> Result<()> {
        let mut stmt = conn.prepare_cached(sql).sql()?;
        let mut rows = match template_id {
            None => stmt.query(params![since, until, limit]),
            Some(id) => stmt.query(params![since, until, limit, id]),
        }
        .sql()?;
        while let Some(row) = rows.next().sql()? {
            out.push(FinishedTask {
                id: row.get(0).sql()?,
                template_id: row.get(1).sql()?,
                state: codec::state_at(row, 2)?,
                created_at: codec::ts_at(row, 3)?,
                completed_at: codec::ts_at(row, 4)?,
                steps_total: row.get(5).sql()?,
            });
        }
        Ok(())
    };
    if query.template_ids.is_empty() {
        read(queries::FINISHED_TASKS, None)?;
        return Ok(out);
    }
    for &id in &query.template_ids {
        read(queries::FINISHED_TASKS_BY_TEMPLATE, Some(id))?;
    }
    out.sort_unstable_by_key(|t| Reverse((t.completed_at, t.id)));
    out.truncate(limit as usize);
    Ok(out)
}

fn samples(conn: &Connection, query: &FinishedQuery) -> Result<Vec<StepSample>> {
    let tasks = finished(conn, query)?;
    let mut stmt = conn.prepare_cached(queries::STEP_SAMPLES).sql()?;
    let mut out = Vec::new();
    for task in tasks {
        let mut rows = stmt.query([task.id]).sql()?;
        while let Some(row) = rows.next().sql()? {
            let state = codec::state_at(row, 1)?;
            let (duration_ms, wait_ms) = sample_times(StepTimes {
                state,
                last_ready_at: codec::opt_ts_at(row, 3)?,
                last_attempted_at: codec::opt_ts_at(row, 4)?,
                last_failure_at: codec::opt_ts_at(row, 5)?,
                updated_at: codec::ts_at(row, 6)?,
            });
            out.push(StepSample {
                task_id: task.id,
                template_id: task.template_id,
                name: row.get(0).sql()?,
                state,
                attempts: row.get(2).sql()?,
                duration_ms,
                wait_ms,
            });
        }
    }
    Ok(out)
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn finished_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket_seconds: i64,
    ) -> Result<Vec<FinishedCount>> {
        check_bucket(bucket_seconds)?;
        self.read(move |conn| counts(conn, since, until, bucket_seconds))
            .await
    }

    async fn finished_tasks(&self, query: &FinishedQuery) -> Result<Vec<FinishedTask>> {
        let query = query.clone();
        self.read(move |conn| finished(conn, &query)).await
    }

    async fn finished_step_samples(&self, query: &FinishedQuery) -> Result<Vec<StepSample>> {
        let query = query.clone();
        self.read(move |conn| samples(conn, &query)).await
    }

    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64> {
        let n: i64 = self
            .run(move |conn| {
                conn.prepare_cached(queries::COUNT_RUNNABLE_STEPS)
                    .sql()?
                    .query_row(params![micros(now), i64::from(cap)], |row| row.get(0))
                    .sql()
            })
            .await?;
        u64::try_from(n).map_err(|_| Error::Corrupt(format!("runnable steps count {n}")))
    }
}
