//! Reads over finished tasks for the analytics API.
//!
//! A task's `completed_at` is the time it reached `complete`, `error` or `cancelled`, the
//! states in which nothing more happens unless an operator acts; it is cleared when a task in
//! `error` is retried or unblocked back into progress, and set again when it next finishes.
//! Every read here is an index range scan over tasks by that time (`tasks (completed_at, id)`,
//! or `tasks (template_id, completed_at, id)` per template), bounded by the range and by a row
//! limit: its cost does not grow with the history outside the range.

use crate::Result;
use async_trait::async_trait;
use serde::Serialize;
use tasker_model::{State, TaskId, TemplateId, Timestamp};

/// Tasks finished in `[since, until)`, newest finished first (by `completed_at`, then id).
#[derive(Debug, Clone)]
pub struct FinishedQuery {
    /// The start of the range, inclusive.
    pub since: Timestamp,
    /// The end of the range, exclusive.
    pub until: Timestamp,
    /// Only tasks of these templates (empty: every template).
    pub template_ids: Vec<TemplateId>,
    /// At most this many tasks are read.
    pub limit: u32,
}

/// Tasks and steps that finished in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedCount {
    /// The bucket's start: a multiple of the bucket length since the Unix epoch.
    pub bucket_start: Timestamp,
    /// Tasks whose `completed_at` falls in the bucket, by final state.
    pub tasks_complete: i64,
    /// Tasks that ended in `error`.
    pub tasks_error: i64,
    /// Tasks that were cancelled.
    pub tasks_cancelled: i64,
    /// Steps of those tasks (their `steps_total`).
    pub steps: i64,
}

/// A task that finished, as the analytics need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedTask {
    /// The task's id.
    pub id: TaskId,
    /// The template it was created from.
    pub template_id: TemplateId,
    /// Its final state: `complete`, `error` or `cancelled`.
    pub state: State,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it reached its final state.
    pub completed_at: Timestamp,
    /// Steps the task has.
    pub steps_total: i32,
}

/// One step of a finished task, as the analytics need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepSample {
    /// The id of the step's task.
    pub task_id: TaskId,
    /// The template the task was created from.
    pub template_id: TemplateId,
    /// The step's name within its template.
    pub name: String,
    /// The step's state.
    pub state: State,
    /// Attempts made so far.
    pub attempts: i32,
    /// How long its last attempt ran (milliseconds): to its last update for a complete step,
    /// to its last failure for one whose last attempt failed. `None` when the step never ran
    /// (resolved by hand or cancelled while pending). See [`sample_times`].
    pub duration_ms: Option<i64>,
    /// From the time its last attempt became runnable (`last_ready_at`) to the time it was
    /// claimed (`last_attempted_at`); `None` when the step never ran.
    pub wait_ms: Option<i64>,
}

/// The times of a step as its row keeps them: what [`sample_times`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTimes {
    /// The step's state.
    pub state: State,
    /// When its last attempt became runnable; `None` if it never did.
    pub last_ready_at: Option<Timestamp>,
    /// When its last attempt was claimed; `None` if it never ran.
    pub last_attempted_at: Option<Timestamp>,
    /// When its last attempt failed; `None` if none did.
    pub last_failure_at: Option<Timestamp>,
    /// When its row last changed.
    pub updated_at: Timestamp,
}

/// `(duration_ms, wait_ms)` of a [`StepSample`], from its row's times; the one rule both
/// backends apply. A step's last attempt ran from `last_attempted_at` to its completion
/// (`updated_at` of a complete step: nothing touches a finished step's row) or to its last
/// failure when that came after the attempt started (a failed step, also one resolved or
/// cancelled after failing). The wait is from `last_ready_at`, kept by the claim.
pub fn sample_times(times: StepTimes) -> (Option<i64>, Option<i64>) {
    let Some(started) = times.last_attempted_at else {
        return (None, None);
    };
    let ended = if times.state == State::Complete {
        Some(times.updated_at)
    } else {
        times.last_failure_at.filter(|failed| *failed >= started)
    };
    let duration = ended.map(|ended| (ended - started).num_milliseconds());
    let wait = times
        .last_ready_at
        .map(|ready| (started - ready).num_milliseconds());
    (duration, wait)
}

/// Reads over finished tasks for the analytics API, an aggregate of its own that every backend
/// implements.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Tasks finished in `[since, until)` counted per bucket of `bucket_seconds` (aligned to
    /// the Unix epoch; at least 1, else an error); buckets with none are left out; oldest
    /// first. It reads every index entry in the range (on PostgreSQL an index-only scan, on
    /// SQLite a covering index): its cost is the number of tasks finished in the range.
    async fn finished_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket_seconds: i64,
    ) -> Result<Vec<FinishedCount>>;
    /// Up to `limit` finished tasks, newest finished first (by `completed_at`, then id).
    async fn finished_tasks(&self, query: &FinishedQuery) -> Result<Vec<FinishedTask>>;
    /// The steps of up to `limit` finished tasks (the same tasks as
    /// [`AnalyticsStore::finished_tasks`] would return, in its order), each task's steps in
    /// template order. Steps are read by task through `workflow_steps (task_id, position)`.
    async fn finished_step_samples(&self, query: &FinishedQuery) -> Result<Vec<StepSample>>;
    /// How many steps are runnable at `now` (`ready_at <= now`), counting at most `cap` of
    /// them: a walk of the ready index that stops at `cap` (the runnable-steps gauge), so
    /// its cost does not grow with a backlog beyond `cap`.
    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64>;
}

/// The start of the bucket numbered `bucket` (seconds since the epoch / `bucket_seconds`).
pub fn bucket_start(bucket: i64, bucket_seconds: i64) -> crate::Result<Timestamp> {
    bucket
        .checked_mul(bucket_seconds)
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .ok_or_else(|| crate::Error::Corrupt(format!("bucket {bucket} is out of range")))
}

/// Refuses a bucket of less than a second (the backends divide by it).
pub fn check_bucket(bucket_seconds: i64) -> crate::Result<()> {
    if bucket_seconds >= 1 {
        Ok(())
    } else {
        Err(crate::Error::Database(format!(
            "bucket_seconds must be at least 1, got {bucket_seconds}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{StepTimes, sample_times};
    use tasker_model::State;

    #[test]
    fn sample_times_follow_the_last_attempt() {
        let at = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(1_767_225_600_000 + ms).unwrap_or_default()
        };
        let times = |state: State,
                     ready: Option<i64>,
                     started: Option<i64>,
                     failed: Option<i64>,
                     updated: i64| StepTimes {
            state,
            last_ready_at: ready.map(at),
            last_attempted_at: started.map(at),
            last_failure_at: failed.map(at),
            updated_at: at(updated),
        };
        let cases = [
            // Ran once and completed.
            (
                times(State::Complete, Some(0), Some(5), None, 25),
                (Some(20), Some(5)),
            ),
            // Failed before, then ran again and completed: the last attempt counts.
            (
                times(State::Complete, Some(40), Some(45), Some(30), 60),
                (Some(15), Some(5)),
            ),
            // Failed for good; its row was touched later (blocked, cancelled, resolved).
            (
                times(State::Error, Some(0), Some(5), Some(12), 99),
                (Some(7), Some(5)),
            ),
            (
                times(State::ResolvedManually, Some(0), Some(5), Some(12), 99),
                (Some(7), Some(5)),
            ),
            // Resolved by hand after a success-less release: its start has no end.
            (
                times(State::ResolvedManually, Some(0), Some(5), Some(1), 99),
                (None, Some(5)),
            ),
            // Never ran.
            (times(State::Cancelled, None, None, None, 99), (None, None)),
            // Ran before last_ready_at was kept: no wait.
            (
                times(State::Complete, None, Some(5), None, 25),
                (Some(20), None),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(sample_times(input), expected, "{input:?}");
        }
    }
}
