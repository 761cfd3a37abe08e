//! Reads over finished tasks for the analytics API. Every read is an index range scan over
//! tasks by the time they finished (`completed_at`), bounded by the range and by a row limit:
//! its cost does not grow with the history outside the range.

use crate::Result;
use async_trait::async_trait;
use serde::Serialize;
use tasker_model::{State, TaskId, TemplateId, Timestamp};

/// Tasks finished in `[since, until)`, newest finished first.
#[derive(Debug, Clone)]
pub struct FinishedQuery {
    pub since: Timestamp,
    pub until: Timestamp,
    /// Only tasks of these templates (empty: every template).
    pub template_ids: Vec<TemplateId>,
    /// At most this many tasks are read.
    pub limit: u32,
}

/// Tasks and steps that finished in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedCount {
    pub bucket_start: Timestamp,
    /// Tasks whose `completed_at` falls in the bucket, by final state.
    pub tasks_complete: i64,
    pub tasks_error: i64,
    pub tasks_cancelled: i64,
    /// Steps of those tasks (their `steps_total`).
    pub steps: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedTask {
    pub id: TaskId,
    pub template_id: TemplateId,
    pub state: State,
    pub created_at: Timestamp,
    pub completed_at: Timestamp,
    pub steps_total: i32,
}

/// One step of a finished task, as the analytics need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepSample {
    pub task_id: TaskId,
    pub template_id: TemplateId,
    pub name: String,
    pub state: State,
    pub attempts: i32,
    /// From the start of its last attempt to its last update (milliseconds); `None` when the
    /// step never ran (resolved by hand, cancelled).
    pub duration_ms: Option<i64>,
    /// From the time its last attempt became runnable to the time it was claimed.
    pub wait_ms: Option<i64>,
}

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Tasks finished in `[since, until)` counted per bucket of `bucket_seconds` (aligned to
    /// the Unix epoch); buckets with none are left out; oldest first. An index-only count.
    async fn finished_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket_seconds: i64,
    ) -> Result<Vec<FinishedCount>>;
    /// Up to `limit` finished tasks, newest finished first.
    async fn finished_tasks(&self, query: &FinishedQuery) -> Result<Vec<FinishedTask>>;
    /// The steps of up to `limit` finished tasks (the same tasks as
    /// [`AnalyticsStore::finished_tasks`] would return), by task then template order.
    async fn finished_step_samples(&self, query: &FinishedQuery) -> Result<Vec<StepSample>>;
    /// How many steps are runnable at `now` (`ready_at <= now`), counting at most `cap` of
    /// them: a walk of the ready index that stops at `cap` (the runnable-steps gauge), so
    /// its cost does not grow with a backlog beyond `cap`.
    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64>;
}
