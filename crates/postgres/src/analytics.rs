//! Reads over finished tasks for the analytics API, and the runnable-steps gauge.

use crate::PostgresStore;
use crate::read::query;
use crate::rows::{self, get};
use crate::sql;
use async_trait::async_trait;
use tasker_model::Timestamp;
use tasker_store::{
    AnalyticsStore, Error, FinishedCount, FinishedQuery, FinishedTask, Result, StepSample,
    StepTimes, check_bucket, sample_times,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// The finished tasks of `query`, with `all` or `by_template` as the statement.
async fn finished(
    store: &PostgresStore,
    request: &FinishedQuery,
    all: &str,
    by_template: &str,
) -> Result<Vec<Row>> {
    let limit = i64::from(request.limit);
    if request.template_ids.is_empty() {
        query(store, all, &[&request.since, &request.until, &limit]).await
    } else {
        let params: [&(dyn ToSql + Sync); 4] = [
            &request.since,
            &request.until,
            &limit,
            &request.template_ids,
        ];
        query(store, by_template, &params).await
    }
}

#[async_trait]
impl AnalyticsStore for PostgresStore {
    async fn finished_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket_seconds: i64,
    ) -> Result<Vec<FinishedCount>> {
        check_bucket(bucket_seconds)?;
        let rows = query(
            self,
            sql::FINISHED_COUNTS,
            &[&since, &until, &bucket_seconds],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FinishedCount {
                    bucket_start: get(row, "bucket_start")?,
                    tasks_complete: get(row, "tasks_complete")?,
                    tasks_error: get(row, "tasks_error")?,
                    tasks_cancelled: get(row, "tasks_cancelled")?,
                    steps: get(row, "steps")?,
                })
            })
            .collect()
    }

    async fn finished_tasks(&self, query: &FinishedQuery) -> Result<Vec<FinishedTask>> {
        let rows = finished(
            self,
            query,
            sql::FINISHED_TASKS,
            sql::FINISHED_TASKS_BY_TEMPLATE,
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FinishedTask {
                    id: get(row, "id")?,
                    template_id: get(row, "template_id")?,
                    state: rows::state_col(row, "state")?,
                    created_at: get(row, "created_at")?,
                    completed_at: get(row, "completed_at")?,
                    steps_total: get(row, "steps_total")?,
                })
            })
            .collect()
    }

    async fn finished_step_samples(&self, query: &FinishedQuery) -> Result<Vec<StepSample>> {
        let rows = finished(
            self,
            query,
            sql::FINISHED_STEP_SAMPLES,
            sql::FINISHED_STEP_SAMPLES_BY_TEMPLATE,
        )
        .await?;
        rows.iter()
            .map(|row| {
                let state = rows::state_col(row, "state")?;
                let (duration_ms, wait_ms) = sample_times(StepTimes {
                    state,
                    last_ready_at: get(row, "last_ready_at")?,
                    last_attempted_at: get(row, "last_attempted_at")?,
                    last_failure_at: get(row, "last_failure_at")?,
                    updated_at: get(row, "updated_at")?,
                });
                Ok(StepSample {
                    task_id: get(row, "task_id")?,
                    template_id: get(row, "template_id")?,
                    name: get(row, "name")?,
                    state,
                    attempts: get(row, "attempts")?,
                    duration_ms,
                    wait_ms,
                })
            })
            .collect()
    }

    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64> {
        let rows = query(self, sql::COUNT_RUNNABLE_STEPS, &[&now, &i64::from(cap)]).await?;
        let row = rows
            .first()
            .ok_or_else(|| Error::Database("the runnable steps count returned no row".into()))?;
        let n: i64 = get(row, "n")?;
        u64::try_from(n).map_err(|_| Error::Corrupt(format!("runnable steps count {n}")))
    }
}
