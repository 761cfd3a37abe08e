//! Baseline: the database's practical limit for a plain job queue (claim 100, mark them done,
//! no DAG, no history), in the same database, and the engine's steps/s as a fraction of it.

use super::scale::{ScaleSize, Target};
use super::stats::{Spread, ms};
use super::{Plan, database, progress};
use anyhow::bail;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct BaselineRun {
    pub jobs: u64,
    pub workers: usize,
    pub batch: u32,
    pub insert_ms: f64,
    pub run_ms: f64,
    pub jobs_per_sec: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub runs: Vec<BaselineRun>,
    pub jobs_per_sec: Spread,
    /// The scale measurement the engine's figure comes from.
    pub engine_tasks: u64,
    pub engine_steps_per_sec: f64,
    /// Engine steps/s over queue jobs/s (medians).
    pub ratio: f64,
    pub target: Option<Target>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

/// Workers of the ideal queue: PostgreSQL lets several claim at once (4 was its best on
/// our machine); SQLite has one writer.
fn workers(skip_locked: bool) -> usize {
    if skip_locked { 4 } else { 1 }
}

pub async fn run(
    url: &str,
    plan: &Plan,
    engine_size: &ScaleSize,
) -> anyhow::Result<BaselineReport> {
    // As many jobs as the engine ran steps, so both face the same amount of work.
    let jobs = engine_size.steps.max(1_000);
    let mut runs = Vec::with_capacity(plan.runs);
    let mut backend = String::new();
    for i in 0..plan.runs {
        progress(
            plan,
            &format!(
                "baseline: {jobs} jobs through the ideal queue, run {}/{}",
                i + 1,
                plan.runs
            ),
        );
        let fresh = database::fresh(url).await?;
        let store = fresh.engine.store().clone();
        backend = store.backend_name().to_owned();
        let result = store
            .baseline_queue(jobs, workers(store.capabilities().skip_locked))
            .await;
        drop(store);
        fresh.cleanup().await?;
        let report = result?;
        if report.completed != jobs || report.claimed_twice != 0 {
            bail!(
                "baseline run {}: {} of {jobs} jobs done, {} claimed twice",
                i + 1,
                report.completed,
                report.claimed_twice
            );
        }
        let run_ms = ms(report.run_time);
        let run = BaselineRun {
            jobs,
            workers: report.workers,
            batch: report.batch,
            insert_ms: ms(report.insert_time),
            run_ms,
            jobs_per_sec: jobs as f64 / (run_ms / 1000.0),
        };
        progress(plan, &format!("  {:.0} jobs/s", run.jobs_per_sec));
        runs.push(run);
    }
    let jobs_per_sec = Spread::of(runs.iter().map(|r| r.jobs_per_sec));
    let engine_steps_per_sec = engine_size.steps_per_sec.median;
    let ratio = engine_steps_per_sec / jobs_per_sec.median.max(1e-9);
    Ok(BaselineReport {
        runs,
        jobs_per_sec,
        engine_tasks: engine_size.tasks,
        engine_steps_per_sec,
        ratio,
        target: (backend == "postgres").then(|| Target {
            text: ">= 0.5".into(),
            limit_ms: 0.5,
            met: ratio >= 0.5,
        }),
        checks: vec![format!(
            "every one of {jobs} jobs done exactly once, in every run"
        )],
        checks_passed: true,
    })
}
