//! Analytics over finished tasks: throughput per time bucket, per-step durations, failures,
//! retries and waits (the bottleneck view), and the slowest tasks.
//!
//! Each reads a bounded sample through [`tasker_store::AnalyticsStore`] (index range scans by
//! completion time, capped) and aggregates it here, so both backends answer the same. The
//! cost of a call depends on its range and its cap, never on the history outside the range:
//! `throughput` reads one index entry per task finished in the range (at most 1,000 buckets),
//! `step_analytics` the steps of at most 10,000 tasks, `slowest_tasks` at most 100,000 task
//! rows. Answers say how many tasks they sampled and whether the cap cut the range short.

mod aggregate;

use super::Engine;
use crate::error::{Error, Result};
use aggregate::TemplateName;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;
use tasker_model::{State, TaskId, TemplateId, Timestamp};
use tasker_store::FinishedQuery;

/// At most this many buckets in one throughput answer.
pub const MAX_BUCKETS: i64 = 1_000;
/// The widest throughput bucket: a year (366 days). Buckets are aligned to the Unix epoch, so
/// a wider one could start or end outside the range of timestamps a database can compute.
pub const MAX_BUCKET_SECONDS: i64 = 366 * 86_400;
/// At most this many tasks' steps are aggregated by one step analytics call.
pub const STEP_ANALYTICS_TASKS: u32 = 10_000;
/// At most this many finished tasks are read to find the slowest.
pub const SLOWEST_SCAN_TASKS: u32 = 100_000;
/// At most this many slowest tasks are returned.
pub const MAX_SLOWEST: u32 = 1_000;

/// Tasks and steps that finished in one bucket (`[bucket_start, bucket_start + bucket)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThroughputBucket {
    /// The bucket's start.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub bucket_start: Timestamp,
    /// Tasks that finished in the bucket and are complete.
    pub tasks_complete: i64,
    /// Tasks that finished in the bucket in error.
    pub tasks_error: i64,
    /// Tasks that were cancelled in the bucket.
    pub tasks_cancelled: i64,
    /// Steps of the tasks that finished in the bucket.
    pub steps: i64,
}

/// One step of one template (all its versions), over the sampled finished tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepStats {
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub template: String,
    /// The step's name.
    pub step: String,
    /// Sampled steps that ran at least once.
    pub runs: u64,
    /// Percentiles of the last attempt's duration (nearest rank); `None` without runs.
    pub p50_duration_ms: Option<i64>,
    /// The 95th percentile of the last attempt's duration; null without runs.
    pub p95_duration_ms: Option<i64>,
    /// Runs that ended in error, over runs.
    pub error_rate: f64,
    /// Runs that took more than one attempt, over runs.
    pub retry_rate: f64,
    /// 95th percentile of the wait from runnable to started.
    pub p95_wait_ms: Option<i64>,
}

/// Statistics of every step of the sampled finished tasks: the bottleneck view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepAnalytics {
    /// One entry per step of each template, by namespace, template and step name.
    pub steps: Vec<StepStats>,
    /// Finished tasks whose steps were aggregated (the newest in the range).
    pub tasks_sampled: usize,
    /// The range held more than [`STEP_ANALYTICS_TASKS`] finished tasks; the oldest were left
    /// out.
    pub truncated: bool,
}

/// A finished task and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlowTask {
    /// The task's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    /// The template's namespace.
    pub namespace: String,
    /// The template's name.
    pub template: String,
    /// The template's version.
    pub version: String,
    /// The task's final state.
    pub state: State,
    /// When the task was created.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When the task finished.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub completed_at: Timestamp,
    /// From creation to completion.
    pub duration_ms: i64,
}

/// The slowest finished tasks of a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlowestTasks {
    /// Slowest first.
    pub tasks: Vec<SlowTask>,
    /// Finished tasks read to find them (the newest in the range).
    pub tasks_sampled: usize,
    /// The range held more than [`SLOWEST_SCAN_TASKS`] finished tasks; the oldest were not
    /// read.
    pub truncated: bool,
}

fn check_range(since: Timestamp, until: Timestamp) -> Result<()> {
    if since < until {
        Ok(())
    } else {
        Err(Error::InvalidRange(format!(
            "since ({}) must be before until ({})",
            since.to_rfc3339(),
            until.to_rfc3339()
        )))
    }
}

impl Engine {
    /// Tasks (by final state) and steps finished per bucket of `bucket` in `[since, until)`,
    /// every bucket the range touches, oldest first. Buckets are aligned to the Unix epoch (a
    /// bucket of an hour starts on the hour). Refuses a reversed or empty range, a bucket
    /// that is not a whole number of seconds (at least one), a bucket wider than
    /// [`MAX_BUCKET_SECONDS`], and more than [`MAX_BUCKETS`] buckets.
    pub async fn throughput(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket: Duration,
    ) -> Result<Vec<ThroughputBucket>> {
        check_range(since, until)?;
        let bucket_seconds = i64::try_from(bucket.as_secs())
            .ok()
            .filter(|&s| (1..=MAX_BUCKET_SECONDS).contains(&s) && bucket.subsec_nanos() == 0)
            .ok_or_else(|| {
                Error::InvalidRange(format!(
                    "bucket must be a whole number of seconds from 1 s to 366 days; got {bucket:?}"
                ))
            })?;
        let buckets = aggregate::bucket_count(since, until, bucket_seconds);
        if buckets > MAX_BUCKETS {
            return Err(Error::InvalidRange(format!(
                "{buckets} buckets of {bucket_seconds} s between since and until; at most \
                 {MAX_BUCKETS}: use a shorter range or a larger bucket"
            )));
        }
        let counts = self
            .store()
            .finished_counts(since, until, bucket_seconds)
            .await?;
        Ok(aggregate::fill_buckets(
            since,
            until,
            bucket_seconds,
            &counts,
        ))
    }

    /// Per template step, over the newest (at most [`STEP_ANALYTICS_TASKS`]) tasks finished
    /// in `[since, until)`, of one template (all its versions) when `template` names one as
    /// `(namespace, name)`: runs, p50 and p95 durations, error and retry rates, p95 wait
    /// from runnable to started.
    pub async fn step_analytics(
        &self,
        template: Option<(&str, &str)>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<StepAnalytics> {
        check_range(since, until)?;
        let names = self.template_names().await?;
        let template_ids = match template {
            None => Vec::new(),
            Some((namespace, name)) => {
                let ids: Vec<TemplateId> = names
                    .iter()
                    .filter(|(_, t)| t.namespace == namespace && t.name == name)
                    .map(|(id, _)| *id)
                    .collect();
                if ids.is_empty() {
                    return Err(Error::TemplateNotFound(format!("{namespace}/{name}")));
                }
                ids
            }
        };
        let mut samples = self
            .store()
            .finished_step_samples(&FinishedQuery {
                since,
                until,
                template_ids,
                // One more than the cap tells whether the range held more.
                limit: STEP_ANALYTICS_TASKS + 1,
            })
            .await?;
        let (tasks_sampled, truncated) =
            aggregate::cap_tasks(&mut samples, STEP_ANALYTICS_TASKS as usize);
        Ok(StepAnalytics {
            steps: aggregate::step_stats(&samples, &names),
            tasks_sampled,
            truncated,
        })
    }

    /// The `limit` (1 to [`MAX_SLOWEST`]) tasks that took longest from creation to
    /// completion among the newest (at most [`SLOWEST_SCAN_TASKS`]) finished in
    /// `[since, until)`, slowest first.
    pub async fn slowest_tasks(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<SlowestTasks> {
        check_range(since, until)?;
        if !(1..=MAX_SLOWEST).contains(&limit) {
            return Err(Error::InvalidRange(format!(
                "limit must be between 1 and {MAX_SLOWEST}, got {limit}"
            )));
        }
        let mut tasks = self
            .store()
            .finished_tasks(&FinishedQuery {
                since,
                until,
                template_ids: Vec::new(),
                limit: SLOWEST_SCAN_TASKS + 1,
            })
            .await?;
        let truncated = tasks.len() > SLOWEST_SCAN_TASKS as usize;
        tasks.truncate(SLOWEST_SCAN_TASKS as usize);
        let names = self.template_names().await?;
        Ok(SlowestTasks {
            tasks: aggregate::slowest(&tasks, &names, limit as usize),
            tasks_sampled: tasks.len(),
            truncated,
        })
    }

    /// Every template's namespace, name and version, by id (a small table).
    async fn template_names(&self) -> Result<HashMap<TemplateId, TemplateName>> {
        Ok(self
            .store()
            .list_templates()
            .await?
            .into_iter()
            .map(|t| {
                let name = TemplateName {
                    namespace: t.namespace,
                    name: t.name,
                    version: t.version,
                };
                (t.id, name)
            })
            .collect())
    }
}
