//! Scale: N tasks created in bulk, then run to completion by the orchestrator(s). The figure
//! is the time from the first create to the last task complete, every step claimed, run and
//! recorded with its history.

use super::checks::{self, Expected};
use super::database::{self, TemplateChoice};
use super::stats::{Latency, Spread, ms};
use super::workers::{self, Counters};
use super::{Plan, history, progress};
use anyhow::bail;
use serde::Serialize;
use std::time::Instant;
use tasker::{CreateTask, Engine, State, TaskFilter, TaskId, TemplateRef};

/// Tasks per `create_tasks` call.
const CREATE_BATCH: usize = 1_000;
/// Tasks per page when reading the finished tasks back.
const PAGE: u32 = 1_000;
/// Samples of each hot read after a run.
const HOT_READS: usize = 200;
/// From this size on, a run is held to the growth targets against the size before it.
const GROWTH_FROM: u64 = 500_000;
/// Growth targets: steps/s at least this share of the smaller size's, peak RSS below this,
/// hot reads' p50 at most this multiple (the history scenario's limit).
const GROWTH_STEPS_PER_SEC: f64 = 0.85;
const GROWTH_RSS_BYTES: u64 = 128 * 1024 * 1024;
const GROWTH_READS: f64 = 1.5;

/// The largest size against the one before it: does the engine stay flat as runs grow?
#[derive(Debug, Clone, Serialize)]
pub struct Growth {
    pub tasks: u64,
    pub against: u64,
    /// Steps/s of the larger size over the smaller's (medians).
    pub steps_per_sec_ratio: f64,
    pub readiness_ratio: f64,
    pub context_ratio: f64,
    pub peak_rss_bytes: Option<u64>,
    /// Held to the targets (the larger size is at least 500,000 tasks).
    pub targets: Vec<(String, Target)>,
}

fn growth(sizes: &[ScaleSize]) -> Option<Growth> {
    let mut by_size: Vec<&ScaleSize> = sizes.iter().collect();
    by_size.sort_by_key(|s| s.tasks);
    let (large, small) = match by_size.as_slice() {
        [.., small, large] => (*large, *small),
        _ => return None,
    };
    let over = |a: f64, b: f64| a / b.max(1e-9);
    let steps_per_sec_ratio = over(large.steps_per_sec.median, small.steps_per_sec.median);
    let readiness_ratio = over(large.readiness_p50_ms.median, small.readiness_p50_ms.median);
    let context_ratio = over(large.context_p50_ms.median, small.context_p50_ms.median);
    let mut targets = Vec::new();
    if large.tasks >= GROWTH_FROM {
        let at_most = |text: &str, value: f64, limit: f64| Target {
            text: text.to_owned(),
            limit_ms: limit,
            met: value <= limit,
        };
        targets.push((
            format!("steps/s {steps_per_sec_ratio:.2}x"),
            Target {
                text: format!(">= {GROWTH_STEPS_PER_SEC}x"),
                limit_ms: GROWTH_STEPS_PER_SEC,
                met: steps_per_sec_ratio >= GROWTH_STEPS_PER_SEC,
            },
        ));
        let rss_mib = large.peak_rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0));
        targets.push((
            format!(
                "peak RSS {}",
                rss_mib.map_or("-".into(), |m| format!("{m:.0} MiB"))
            ),
            at_most(
                "< 128 MiB",
                rss_mib.unwrap_or(f64::INFINITY),
                (GROWTH_RSS_BYTES / (1024 * 1024)) as f64,
            ),
        ));
        targets.push((
            format!("readiness p50 {readiness_ratio:.2}x"),
            at_most("<= 1.5x", readiness_ratio, GROWTH_READS),
        ));
        targets.push((
            format!("execution context p50 {context_ratio:.2}x"),
            at_most("<= 1.5x", context_ratio, GROWTH_READS),
        ));
    }
    Some(Growth {
        tasks: large.tasks,
        against: small.tasks,
        steps_per_sec_ratio,
        readiness_ratio,
        context_ratio,
        peak_rss_bytes: large.peak_rss_bytes,
        targets,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleRun {
    /// Creating the tasks (bulk, in batches of 1,000).
    pub create_ms: f64,
    /// From the last create to the last task's `completed_at`: the orchestrators at work.
    pub run_ms: f64,
    /// The orchestrators from start to stop, including noticing that nothing is left (and, with
    /// worker processes, their start-up and shutdown).
    pub orchestrators_ms: f64,
    /// From the first create to the last task's `completed_at`, by the store's timestamps.
    pub total_ms: f64,
    pub tasks_per_sec: f64,
    /// Steps over `run_ms`.
    pub steps_per_sec: f64,
    /// Per task: `completed_at - created_at`.
    pub task_latency: Latency,
    pub peak_rss_bytes: Option<u64>,
    pub counters: Counters,
    /// Step readiness and execution context of random tasks, read after the run with its
    /// whole history in the database.
    pub readiness: Latency,
    pub context: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub text: String,
    pub limit_ms: f64,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleSize {
    pub tasks: u64,
    pub steps: u64,
    pub runs: Vec<ScaleRun>,
    pub total_ms: Spread,
    pub create_ms: Spread,
    pub run_ms: Spread,
    pub tasks_per_sec: Spread,
    pub steps_per_sec: Spread,
    pub p50_ms: Spread,
    pub p99_ms: Spread,
    pub peak_rss_bytes: Option<u64>,
    pub readiness_p50_ms: Spread,
    pub context_p50_ms: Spread,
    /// The original target for this size, compared with the median total.
    pub target: Option<Target>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleReport {
    pub template: String,
    pub workers: usize,
    pub sizes: Vec<ScaleSize>,
    /// The largest size against the one before it, when several ran.
    pub growth: Option<Growth>,
    /// What was checked, for every size and run.
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

/// The original targets: end to end, PostgreSQL; SQLite aims at 5 s for 50,000.
fn target(backend: &str, tasks: u64) -> Option<(f64, String)> {
    let limit = match (backend, tasks) {
        ("sqlite", 50_000) => 5_000.0,
        (_, 50) => 100.0,
        (_, 500) => 500.0,
        (_, 5_000) => 2_000.0,
        (_, 50_000) => 10_000.0,
        _ => return None,
    };
    let text = if limit < 1_000.0 {
        format!("< {limit:.0} ms")
    } else {
        format!("< {:.0} s", limit / 1_000.0)
    };
    Some((limit, text))
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<ScaleReport> {
    let mut sizes = Vec::with_capacity(plan.tasks.len());
    for &n in &plan.tasks {
        sizes.push(size(url, plan, &plan.template, n, plan.runs).await?);
    }
    let checks = sizes
        .iter()
        .map(|s| {
            format!(
                "{} tasks, {} run(s): {}",
                s.tasks,
                s.runs.len(),
                s.checks.join("; ")
            )
        })
        .collect();
    Ok(ScaleReport {
        template: plan.template_label(),
        workers: plan.workers,
        growth: growth(&sizes),
        sizes,
        checks,
        checks_passed: true,
    })
}

/// `runs` measurements of `n` tasks, each on a fresh database.
pub async fn size(
    url: &str,
    plan: &Plan,
    template: &TemplateChoice,
    n: u64,
    runs: usize,
) -> anyhow::Result<ScaleSize> {
    let mut measured = Vec::with_capacity(runs);
    let mut checks = Vec::new();
    let mut backend = String::new();
    let mut steps = 0;
    for i in 0..runs {
        progress(plan, &format!("scale: {n} tasks, run {}/{runs}", i + 1));
        let fresh = database::fresh(url).await?;
        backend = fresh.engine.store().backend_name().to_owned();
        let result = one(&fresh.engine, fresh.url(), template, n, plan.workers).await;
        fresh.cleanup().await?;
        let (run, run_checks, run_steps) =
            result.map_err(|e| e.context(format!("scale {n} tasks, run {}", i + 1)))?;
        progress(
            plan,
            &format!(
                "  {:.0} ms to all complete ({:.0} steps/s)",
                run.total_ms, run.steps_per_sec
            ),
        );
        measured.push(run);
        checks = run_checks;
        steps = run_steps;
    }
    let spread = |f: fn(&ScaleRun) -> f64| Spread::of(measured.iter().map(f));
    let total_ms = spread(|r| r.total_ms);
    let target = target(&backend, n).map(|(limit_ms, text)| Target {
        met: total_ms.median < limit_ms,
        text,
        limit_ms,
    });
    Ok(ScaleSize {
        tasks: n,
        steps,
        total_ms,
        create_ms: spread(|r| r.create_ms),
        run_ms: spread(|r| r.run_ms),
        tasks_per_sec: spread(|r| r.tasks_per_sec),
        steps_per_sec: spread(|r| r.steps_per_sec),
        p50_ms: spread(|r| r.task_latency.p50_ms),
        p99_ms: spread(|r| r.task_latency.p99_ms),
        readiness_p50_ms: spread(|r| r.readiness.p50_ms),
        context_p50_ms: spread(|r| r.context.p50_ms),
        peak_rss_bytes: measured.iter().filter_map(|r| r.peak_rss_bytes).max(),
        runs: measured,
        target,
        checks,
        checks_passed: true,
    })
}

async fn one(
    engine: &Engine,
    url: &str,
    template: &TemplateChoice,
    n: u64,
    workers: usize,
) -> anyhow::Result<(ScaleRun, Vec<String>, u64)> {
    let reference = database::template(engine, template).await?;
    let (_, layout) = engine.template_layout(&reference).await?;
    let run_tag = engine.clock().now().timestamp_micros();

    let first_create = engine.clock().now();
    let started = Instant::now();
    create(engine, &reference, n, run_tag).await?;
    let create_time = started.elapsed();
    let created = engine.clock().now();

    let ran = workers::run_until_idle(engine, url, workers).await?;
    let wall = started.elapsed();

    let counts = engine.store().table_counts().await?;
    let expected = Expected::runs(n, layout.steps.len(), layout.edges.len());
    let mut checks = checks::all_complete("scale", &counts, expected)?;
    let steps = expected.steps as u64;
    if ran.counters.steps_succeeded != steps || ran.counters.fenced_out != 0 {
        bail!(
            "the orchestrators report {} steps succeeded and {} fenced out; expected {steps} and 0",
            ran.counters.steps_succeeded,
            ran.counters.fenced_out
        );
    }
    checks.push(format!(
        "orchestrators ran {steps} steps, none failed or fenced out"
    ));

    let (latencies, last_complete) = task_latencies(engine, n).await?;
    let (readiness, context) = history::hot_reads(engine, reference, HOT_READS).await?;
    let since = |from: tasker::Timestamp, fallback: f64| {
        last_complete
            .map(|at| (at - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
            .unwrap_or(fallback)
    };
    let total_ms = since(first_create, ms(wall));
    let run_ms = since(created, ms(ran.wall));
    Ok((
        ScaleRun {
            create_ms: ms(create_time),
            run_ms,
            orchestrators_ms: ms(ran.wall),
            total_ms,
            tasks_per_sec: n as f64 / (total_ms / 1000.0),
            steps_per_sec: steps as f64 / (run_ms / 1000.0),
            task_latency: Latency::of(&latencies),
            peak_rss_bytes: ran.peak_rss_bytes,
            counters: ran.counters,
            readiness,
            context,
        },
        checks,
        steps,
    ))
}

pub async fn create(
    engine: &Engine,
    reference: &TemplateRef,
    n: u64,
    run_tag: i64,
) -> anyhow::Result<()> {
    let mut next = 0u64;
    while next < n {
        let batch = (n - next).min(CREATE_BATCH as u64);
        let requests: Vec<CreateTask> = (next..next + batch)
            .map(|i| {
                CreateTask::new(
                    reference.clone(),
                    serde_json::json!({ "bench_run": run_tag, "n": i }),
                )
            })
            .collect();
        let created = engine.create_tasks(requests).await?;
        if created.iter().any(|c| !c.created) {
            bail!("a bench task was taken for an existing one: its identity is not unique");
        }
        next += batch;
    }
    Ok(())
}

/// `completed_at - created_at` of every complete task, in ms, and the last completion.
async fn task_latencies(
    engine: &Engine,
    n: u64,
) -> anyhow::Result<(Vec<f64>, Option<tasker::Timestamp>)> {
    let mut latencies = Vec::with_capacity(n as usize);
    let mut last = None;
    let mut before: Option<TaskId> = None;
    loop {
        let page = engine
            .list_tasks(TaskFilter {
                state: Some(State::Complete),
                before_id: before,
                limit: PAGE,
                ..TaskFilter::default()
            })
            .await?;
        for task in &page {
            let Some(done) = task.completed_at else {
                bail!("task {} is complete but has no completion time", task.id);
            };
            let micros = (done - task.created_at).num_microseconds().unwrap_or(0);
            latencies.push(micros as f64 / 1000.0);
            last = last.max(Some(done));
        }
        match page.last() {
            Some(oldest) if page.len() == PAGE as usize => before = Some(oldest.id),
            _ => break,
        }
    }
    if latencies.len() as u64 != n {
        bail!("read back {} complete tasks, expected {n}", latencies.len());
    }
    Ok((latencies, last))
}
