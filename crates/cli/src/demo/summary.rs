//! What the demo reports: final states read back from the store, counters, throughput, latency.

use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tasker::model::{State, TaskId, TaskRecord};
use tasker::store::TaskFilter;
use tasker::{Engine, RunStats};

const PAGE: u32 = 1000;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub database_url: String,
    pub tasks: usize,
    pub by_template: BTreeMap<String, usize>,
    pub by_state: BTreeMap<String, usize>,
    pub steps_run: u64,
    pub steps_succeeded: u64,
    pub steps_failed: u64,
    pub retries: u64,
    pub create_ms: u64,
    pub run_ms: u64,
    pub tasks_per_sec: f64,
    pub steps_per_sec: f64,
    pub latency_ms: Option<Latency>,
    pub failed_example: Option<TaskId>,
    pub completed_example: Option<TaskId>,
    pub stats: RunStats,
}

/// Task latency: `created_at -> completed_at` of the finished tasks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn new(
        database_url: &str,
        records: &[TaskRecord],
        stats: RunStats,
        create_time: Duration,
        run_time: Duration,
    ) -> Summary {
        let mut by_state = BTreeMap::new();
        let mut by_template = BTreeMap::new();
        for task in records {
            *by_state.entry(task.state.to_string()).or_insert(0) += 1;
            *by_template
                .entry(format!("{}/{}", task.namespace, task.name))
                .or_insert(0) += 1;
        }
        let latencies: Vec<f64> = records
            .iter()
            .filter_map(|t| {
                let done = t.completed_at?;
                Some((done - t.created_at).num_microseconds()? as f64 / 1000.0)
            })
            .collect();
        let secs = run_time.as_secs_f64().max(1e-9);
        let example = |state: State| records.iter().find(|t| t.state == state).map(|t| t.id);
        Summary {
            database_url: database_url.to_owned(),
            tasks: records.len(),
            by_template,
            by_state,
            steps_run: stats.steps_claimed,
            steps_succeeded: stats.steps_succeeded,
            steps_failed: stats.steps_failed,
            retries: stats.retries_scheduled,
            create_ms: create_time.as_millis() as u64,
            run_ms: run_time.as_millis() as u64,
            tasks_per_sec: round1(records.len() as f64 / secs),
            steps_per_sec: round1((stats.steps_succeeded + stats.steps_failed) as f64 / secs),
            latency_ms: latency(latencies),
            failed_example: example(State::Error),
            completed_example: example(State::Complete),
            stats,
        }
    }

    /// Tasks neither complete nor in error: after an idle orchestrator, a sign of a bug.
    pub fn unfinished(&self) -> usize {
        self.by_state
            .iter()
            .filter(|(state, _)| !matches!(state.as_str(), "complete" | "error"))
            .map(|(_, n)| n)
            .sum()
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn latency(mut ms: Vec<f64>) -> Option<Latency> {
    if ms.is_empty() {
        return None;
    }
    ms.sort_by(f64::total_cmp);
    Some(Latency {
        p50: round1(percentile(&ms, 0.50)),
        p99: round1(percentile(&ms, 0.99)),
        max: round1(ms[ms.len() - 1]),
    })
}

/// Nearest rank on sorted, non-empty data.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The records of the given tasks, read a page at a time, newest first, from the highest id
/// down to the lowest: other tasks in the same database (a shared PostgreSQL) are skipped.
pub async fn collect(engine: &Engine, ids: &[TaskId]) -> tasker::Result<Vec<TaskRecord>> {
    let (Some(&low), Some(&high)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: HashSet<TaskId> = ids.iter().copied().collect();
    let mut records = Vec::with_capacity(wanted.len());
    let mut before = high + 1;
    loop {
        let page = engine
            .list_tasks(TaskFilter {
                before_id: Some(before),
                limit: PAGE,
                ..TaskFilter::default()
            })
            .await?;
        let Some(last) = page.last().map(|t| t.id) else {
            break;
        };
        records.extend(page.into_iter().filter(|t| wanted.contains(&t.id)));
        if last <= low {
            break;
        }
        before = last;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let data: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = latency(data).expect("data");
        assert_eq!((l.p50, l.p99, l.max), (50.0, 99.0, 100.0));
        let one = latency(vec![7.0]).expect("data");
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert_eq!(latency(Vec::new()), None);
    }

    #[test]
    fn percentiles_do_not_depend_on_input_order() {
        let l = latency(vec![30.0, 10.0, 20.0]).expect("data");
        assert_eq!((l.p50, l.p99), (20.0, 30.0));
    }
}
