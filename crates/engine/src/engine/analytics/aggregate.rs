//! The arithmetic of the analytics, over what the store read: plain functions, no I/O.

use super::{SlowTask, StepStats, ThroughputBucket};
use std::collections::HashMap;
use tasker_model::{State, TaskId, TemplateId, Timestamp};
use tasker_store::{FinishedCount, FinishedTask, StepSample};

/// What the analytics name a template by: namespace, name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateName {
    pub namespace: String,
    pub name: String,
    pub version: String,
}

/// The number of the epoch-aligned bucket of `bucket_seconds` that holds `at`.
pub(crate) fn bucket_of(at: Timestamp, bucket_seconds: i64) -> i64 {
    at.timestamp().div_euclid(bucket_seconds)
}

/// How many epoch-aligned buckets `[since, until)` touches (`since < until`).
pub(crate) fn bucket_count(since: Timestamp, until: Timestamp, bucket_seconds: i64) -> i64 {
    // The last instant of the range is one microsecond before `until`.
    let last = until - chrono::Duration::microseconds(1);
    bucket_of(last, bucket_seconds) - bucket_of(since, bucket_seconds) + 1
}

/// Every bucket the range touches, oldest first, with the counts the store found (buckets it
/// did not report finished nothing).
pub(crate) fn fill_buckets(
    since: Timestamp,
    until: Timestamp,
    bucket_seconds: i64,
    counts: &[FinishedCount],
) -> Vec<ThroughputBucket> {
    let by_start: HashMap<Timestamp, &FinishedCount> =
        counts.iter().map(|c| (c.bucket_start, c)).collect();
    let first = bucket_of(since, bucket_seconds);
    (0..bucket_count(since, until, bucket_seconds))
        .filter_map(|i| {
            let start = chrono::DateTime::from_timestamp((first + i) * bucket_seconds, 0)?;
            let found = by_start.get(&start);
            let count = |f: fn(&FinishedCount) -> i64| found.map_or(0, |c| f(c));
            Some(ThroughputBucket {
                bucket_start: start,
                tasks_complete: count(|c| c.tasks_complete),
                tasks_error: count(|c| c.tasks_error),
                tasks_cancelled: count(|c| c.tasks_cancelled),
                steps: count(|c| c.steps),
            })
        })
        .collect()
}

/// The nearest-rank percentile `p` (0-100] of `values`, which it sorts; `None` when empty.
pub(crate) fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    // rank = ceil(p / 100 * n), at least 1.
    let rank = (values.len() * p as usize).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// Keeps the steps of the first `cap` tasks of `samples` (in their order); returns how many
/// tasks that is, and whether there were more.
pub(crate) fn cap_tasks(samples: &mut Vec<StepSample>, cap: usize) -> (usize, bool) {
    let mut seen: Vec<TaskId> = Vec::new();
    let mut keep = samples.len();
    for (i, sample) in samples.iter().enumerate() {
        if seen.last() != Some(&sample.task_id) {
            if seen.len() == cap {
                keep = i;
                break;
            }
            seen.push(sample.task_id);
        }
    }
    let truncated = keep < samples.len();
    samples.truncate(keep);
    (seen.len(), truncated)
}

/// Per template (namespace and name, all versions) and step: runs, the p50 and p95 of the
/// last attempt's duration, how many ended in error or needed more than one attempt, and the
/// p95 wait from runnable to started. A run is a step that was attempted at least once.
/// Ordered by namespace, template name, then the order steps first appear in (template
/// order).
pub(crate) fn step_stats(
    samples: &[StepSample],
    templates: &HashMap<TemplateId, TemplateName>,
) -> Vec<StepStats> {
    struct Acc {
        order: usize,
        runs: u64,
        errors: u64,
        retried: u64,
        durations: Vec<i64>,
        waits: Vec<i64>,
    }
    let mut by_step: HashMap<(String, String, String), Acc> = HashMap::new();
    for sample in samples {
        let (namespace, template) = templates.get(&sample.template_id).map_or_else(
            || (String::new(), format!("#{}", sample.template_id)),
            |t| (t.namespace.clone(), t.name.clone()),
        );
        let next = by_step.len();
        let acc = by_step
            .entry((namespace, template, sample.name.clone()))
            .or_insert_with(|| Acc {
                order: next,
                runs: 0,
                errors: 0,
                retried: 0,
                durations: Vec::new(),
                waits: Vec::new(),
            });
        if sample.attempts == 0 {
            continue;
        }
        acc.runs += 1;
        acc.errors += u64::from(sample.state == State::Error);
        acc.retried += u64::from(sample.attempts > 1);
        acc.durations.extend(sample.duration_ms);
        acc.waits.extend(sample.wait_ms);
    }
    let rate = |n: u64, runs: u64| {
        if runs == 0 {
            0.0
        } else {
            n as f64 / runs as f64
        }
    };
    let mut stats: Vec<(usize, StepStats)> = by_step
        .into_iter()
        .map(|((namespace, template, step), mut acc)| {
            let stats = StepStats {
                namespace,
                template,
                step,
                runs: acc.runs,
                p50_duration_ms: percentile(&mut acc.durations, 50),
                p95_duration_ms: percentile(&mut acc.durations, 95),
                error_rate: rate(acc.errors, acc.runs),
                retry_rate: rate(acc.retried, acc.runs),
                p95_wait_ms: percentile(&mut acc.waits, 95),
            };
            (acc.order, stats)
        })
        .collect();
    stats.sort_by(|(a_order, a), (b_order, b)| {
        (&a.namespace, &a.template, a_order).cmp(&(&b.namespace, &b.template, b_order))
    });
    stats.into_iter().map(|(_, s)| s).collect()
}

/// The `limit` finished tasks that took longest from creation to completion, slowest first
/// (ties: newest id first).
pub(crate) fn slowest(
    tasks: &[FinishedTask],
    templates: &HashMap<TemplateId, TemplateName>,
    limit: usize,
) -> Vec<SlowTask> {
    let mut by_duration: Vec<(i64, &FinishedTask)> = tasks
        .iter()
        .map(|t| ((t.completed_at - t.created_at).num_milliseconds(), t))
        .collect();
    by_duration.sort_by(|(a_ms, a), (b_ms, b)| (b_ms, b.id).cmp(&(a_ms, a.id)));
    by_duration
        .into_iter()
        .take(limit)
        .map(|(duration_ms, task)| {
            let name = templates.get(&task.template_id);
            SlowTask {
                task_id: task.id,
                namespace: name.map(|t| t.namespace.clone()).unwrap_or_default(),
                template: name.map_or_else(|| format!("#{}", task.template_id), |t| t.name.clone()),
                version: name.map(|t| t.version.clone()).unwrap_or_default(),
                state: task.state,
                created_at: task.created_at,
                completed_at: task.completed_at,
                duration_ms,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap_or_default()
    }

    fn sample(task_id: TaskId, name: &str, state: State, attempts: i32) -> StepSample {
        StepSample {
            task_id,
            template_id: 1,
            name: name.into(),
            state,
            attempts,
            duration_ms: None,
            wait_ms: None,
        }
    }

    fn timed(mut s: StepSample, duration: i64, wait: i64) -> StepSample {
        s.duration_ms = Some(duration);
        s.wait_ms = Some(wait);
        s
    }

    fn templates() -> HashMap<TemplateId, TemplateName> {
        let name = |namespace: &str, name: &str, version: &str| TemplateName {
            namespace: namespace.into(),
            name: name.into(),
            version: version.into(),
        };
        HashMap::from([
            (1, name("shop", "order", "1.0.0")),
            (2, name("shop", "order", "2.0.0")),
            (3, name("ops", "sweep", "1.0.0")),
        ])
    }

    #[test]
    fn buckets_are_aligned_counted_and_filled() {
        assert_eq!(bucket_count(at(0), at(60), 60), 1);
        assert_eq!(bucket_count(at(0), at(61), 60), 2);
        assert_eq!(bucket_count(at(30), at(90), 60), 2);
        assert_eq!(bucket_count(at(59), at(60), 60), 1);
        assert_eq!(
            bucket_of(at(-1) - chrono::Duration::seconds(1_767_225_600), 60),
            -1
        );

        let found = FinishedCount {
            bucket_start: at(60),
            tasks_complete: 3,
            tasks_error: 1,
            tasks_cancelled: 0,
            steps: 12,
        };
        let filled = fill_buckets(at(30), at(150), 60, &[found]);
        assert_eq!(
            filled
                .iter()
                .map(|b| (b.bucket_start, b.tasks_complete, b.tasks_error, b.steps))
                .collect::<Vec<_>>(),
            [(at(0), 0, 0, 0), (at(60), 3, 1, 12), (at(120), 0, 0, 0)]
        );
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let mut values: Vec<i64> = (1..=20).rev().collect();
        assert_eq!(percentile(&mut values, 50), Some(10));
        assert_eq!(percentile(&mut values, 95), Some(19));
        assert_eq!(percentile(&mut values, 100), Some(20));
        assert_eq!(percentile(&mut [7], 95), Some(7));
        assert_eq!(percentile(&mut [3, 1], 50), Some(1));
        assert_eq!(percentile(&mut [], 50), None);
    }

    #[test]
    fn capping_keeps_whole_tasks_in_order() {
        let mut samples = vec![
            sample(9, "a", State::Complete, 1),
            sample(9, "b", State::Complete, 1),
            sample(7, "a", State::Complete, 1),
            sample(5, "a", State::Complete, 1),
            sample(5, "b", State::Complete, 1),
        ];
        let mut all = samples.clone();
        assert_eq!(cap_tasks(&mut all, 3), (3, false));
        assert_eq!(all.len(), 5);
        assert_eq!(cap_tasks(&mut samples, 2), (2, true));
        assert_eq!(
            samples.iter().map(|s| s.task_id).collect::<Vec<_>>(),
            [9, 9, 7]
        );
    }

    #[test]
    fn step_stats_group_versions_and_count_runs_errors_and_retries() {
        let mut v2 = timed(sample(4, "pay", State::Complete, 1), 40, 4);
        v2.template_id = 2;
        let mut sweep = timed(sample(5, "scan", State::Complete, 1), 7, 1);
        sweep.template_id = 3;
        let samples = vec![
            timed(sample(1, "pay", State::Complete, 1), 10, 1),
            timed(sample(1, "ship", State::Complete, 1), 5, 2),
            timed(sample(2, "pay", State::Error, 3), 30, 3),
            timed(sample(3, "pay", State::Complete, 2), 20, 2),
            // Cancelled before it ran: listed, not a run.
            sample(2, "ship", State::Cancelled, 0),
            v2,
            sweep,
        ];
        let stats = step_stats(&samples, &templates());
        let rows: Vec<_> = stats
            .iter()
            .map(|s| {
                (
                    s.namespace.as_str(),
                    s.template.as_str(),
                    s.step.as_str(),
                    s.runs,
                    s.p50_duration_ms,
                    s.p95_duration_ms,
                    s.error_rate,
                    s.retry_rate,
                    s.p95_wait_ms,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "ops",
                    "sweep",
                    "scan",
                    1,
                    Some(7),
                    Some(7),
                    0.0,
                    0.0,
                    Some(1)
                ),
                (
                    "shop",
                    "order",
                    "pay",
                    4,
                    Some(20),
                    Some(40),
                    0.25,
                    0.5,
                    Some(4)
                ),
                (
                    "shop",
                    "order",
                    "ship",
                    1,
                    Some(5),
                    Some(5),
                    0.0,
                    0.0,
                    Some(2)
                ),
            ]
        );
        let never = step_stats(&[sample(2, "ship", State::Cancelled, 0)], &templates());
        assert_eq!(
            (never[0].runs, never[0].p50_duration_ms, never[0].error_rate),
            (0, None, 0.0)
        );
    }

    #[test]
    fn the_slowest_come_first() {
        let task = |id: TaskId, template_id, created: i64, completed: i64| FinishedTask {
            id,
            template_id,
            state: State::Complete,
            created_at: at(created),
            completed_at: at(completed),
            steps_total: 1,
        };
        let tasks = [
            task(1, 1, 0, 5),
            task(2, 3, 0, 50),
            task(3, 2, 10, 15),
            task(4, 9, 0, 20),
        ];
        let slow = slowest(&tasks, &templates(), 3);
        assert_eq!(
            slow.iter()
                .map(|s| (
                    s.task_id,
                    s.duration_ms,
                    s.template.as_str(),
                    s.version.as_str()
                ))
                .collect::<Vec<_>>(),
            [
                (2, 50_000, "sweep", "1.0.0"),
                (4, 20_000, "#9", ""),
                // 1 and 3 tie: the newer id first.
                (3, 5_000, "order", "2.0.0"),
            ]
        );
    }
}
