//! Reads over finished tasks for the analytics API, and the runnable-steps gauge.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::get;
use crate::sql;
use tasker_model::Timestamp;
use tasker_store::Result;

#[async_trait::async_trait]
impl tasker_store::AnalyticsStore for PostgresStore {
    async fn finished_counts(
        &self,
        _since: Timestamp,
        _until: Timestamp,
        _bucket_seconds: i64,
    ) -> Result<Vec<tasker_store::FinishedCount>> {
        Err(tasker_store::Error::Database(
            "analytics not implemented".into(),
        ))
    }
    async fn finished_tasks(
        &self,
        _query: &tasker_store::FinishedQuery,
    ) -> Result<Vec<tasker_store::FinishedTask>> {
        Err(tasker_store::Error::Database(
            "analytics not implemented".into(),
        ))
    }
    async fn finished_step_samples(
        &self,
        _query: &tasker_store::FinishedQuery,
    ) -> Result<Vec<tasker_store::StepSample>> {
        Err(tasker_store::Error::Database(
            "analytics not implemented".into(),
        ))
    }
    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(sql::COUNT_RUNNABLE_STEPS)
            .await
            .db()?;
        let row = client
            .query_one(&statement, &[&now, &i64::from(cap)])
            .await
            .db()?;
        let n: i64 = get(&row, "n")?;
        u64::try_from(n).map_err(|_| tasker_store::Error::Corrupt(format!("count {n}")))
    }
}
