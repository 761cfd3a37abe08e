//! Baseline: the engine against a bare DAG queue in the same database, in the same invocation,
//! run in turn (engine, bare queue, bare queue with history) so that every ratio compares
//! measurements taken minutes apart on the same machine. The bare queue is the store's
//! [`bare_dag_queue`](tasker::store::Store::bare_dag_queue): the same workloads with nothing of the
//! engine, once without history and once keeping a row for every state change.
//!
//! Three workloads: diamond tasks (steps/s from the first create to the last completion),
//! linear tasks one at a time (latency per task), one-step tasks (jobs/s once created). The
//! plain job queue of earlier rounds (no DAG, no history) stays as a fourth line.

use super::database::{self, TemplateChoice};
use super::latency::{self, WARM_UP};
use super::scale::{self, Target};
use super::stats::{Latency, Spread, ms};
use super::{Plan, progress};
use anyhow::bail;
use serde::Serialize;
use std::time::Duration;
use tasker::TemplateRef;
use tasker::store::{BareMode, BareQueueReport, BareQueueSpec, BareShape};

/// Steps a bare queue worker claims per statement.
const BATCH: u32 = 100;
/// PostgreSQL workers of the bare queue, each on its own connection (the reference design's
/// figure); SQLite has one writer and runs one.
const POSTGRES_WORKERS: usize = 4;

/// One step, the built-in no-op handler: what the engine runs for the one-step workload.
const ONE_STEP: &str = "namespace: bench\nname: one_step\nversion: 1.0.0\n\
description: A plain job, for comparing the engine with a job queue.\n\
steps:\n  - name: job\n    handler: noop\n";

/// Engine and bare queue on one throughput workload: steps/s, median over the runs.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub tasks: u64,
    pub steps: u64,
    /// What the rates count: "first create to last completion" or "once created".
    pub measured: &'static str,
    pub engine: Spread,
    pub bare: Spread,
    pub bare_history: Spread,
    /// Engine over bare queue, and over bare queue with history (medians).
    pub ratio: f64,
    pub ratio_history: f64,
    pub engine_peak_rss_bytes: Option<u64>,
}

/// Engine and bare queue on linear tasks run one at a time: p50 and p99 in ms.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyComparison {
    pub samples: usize,
    pub engine_p50_ms: Spread,
    pub engine_p99_ms: Spread,
    pub bare_p50_ms: Spread,
    pub bare_p99_ms: Spread,
    pub bare_history_p50_ms: Spread,
    pub bare_history_p99_ms: Spread,
}

/// The plain job queue of earlier rounds: no DAG, no history.
#[derive(Debug, Clone, Serialize)]
pub struct PlainQueue {
    pub jobs: u64,
    pub workers: usize,
    pub jobs_per_sec: Spread,
    /// The engine's diamond steps/s over these jobs/s.
    pub ratio: f64,
}

/// A target of the comparison, with the figure it is judged on.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub what: String,
    pub figure: String,
    pub target: Target,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub backend: String,
    pub runs: usize,
    pub workers: usize,
    pub batch: u32,
    pub diamond: Throughput,
    pub linear: LatencyComparison,
    pub one_step: Throughput,
    pub plain: PlainQueue,
    pub goals: Vec<Goal>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

/// Which figure of an engine scale run a workload compares.
#[derive(Clone, Copy)]
enum Rate {
    /// Steps over the time from the first create to the last completion.
    Total,
    /// Steps over the time from the last create to the last completion.
    RunPhase,
}

impl Rate {
    fn label(self) -> &'static str {
        match self {
            Rate::Total => "first create to last completion",
            Rate::RunPhase => "once created",
        }
    }
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<BaselineReport> {
    let diamond_tasks = plan.tasks.iter().copied().max().unwrap_or(1);
    let one_step_tasks = diamond_tasks.saturating_mul(2);
    let mut checks = Vec::new();
    let backend = {
        let fresh = database::fresh(url).await?;
        let name = fresh.engine.store().backend_name().to_owned();
        fresh.cleanup().await?;
        name
    };
    let workers = if backend == "postgres" {
        POSTGRES_WORKERS
    } else {
        1
    };

    let diamond = throughput(
        url,
        plan,
        &TemplateChoice::Bundled(TemplateRef::new("examples", "diamond")),
        BareShape::Diamond,
        diamond_tasks,
        Rate::Total,
        workers,
        &mut checks,
    )
    .await?;
    let one_step = throughput(
        url,
        plan,
        &TemplateChoice::Inline(ONE_STEP),
        BareShape::OneStep,
        one_step_tasks,
        Rate::RunPhase,
        workers,
        &mut checks,
    )
    .await?;
    let linear = latencies(url, plan, workers, &mut checks).await?;
    let plain = plain_queue(url, plan, diamond.steps, diamond.engine.median).await?;
    checks.push(format!(
        "plain queue: every one of {} jobs done exactly once, in every run",
        plain.jobs
    ));

    let goals = goals(&backend, &diamond, &linear, &one_step);
    Ok(BaselineReport {
        backend,
        runs: plan.runs,
        workers,
        batch: BATCH,
        diamond,
        linear,
        one_step,
        plain,
        goals,
        checks,
        checks_passed: true,
    })
}

fn goals(
    backend: &str,
    diamond: &Throughput,
    linear: &LatencyComparison,
    one_step: &Throughput,
) -> Vec<Goal> {
    let at_least = |what: String, ratio: f64, limit: f64, of: &str| Goal {
        what,
        figure: format!("{ratio:.2} of the {of}"),
        target: Target {
            text: format!(">= {limit}"),
            limit_ms: limit,
            met: ratio >= limit,
        },
    };
    let mut goals = Vec::new();
    let engine_p50 = linear.engine_p50_ms.median;
    if backend == "postgres" {
        goals.push(at_least(
            format!("{} diamond tasks, steps/s", diamond.tasks),
            diamond.ratio,
            0.5,
            "bare queue",
        ));
        goals.push(at_least(
            format!("{} diamond tasks, steps/s", diamond.tasks),
            diamond.ratio_history,
            0.6,
            "bare queue with history",
        ));
        let bare_p50 = linear.bare_p50_ms.median;
        goals.push(Goal {
            what: "linear task p50".into(),
            figure: format!("{engine_p50:.2} ms against the bare chain's {bare_p50:.2} ms"),
            target: Target {
                text: "<= bare chain".into(),
                limit_ms: bare_p50,
                met: engine_p50 <= bare_p50,
            },
        });
    } else {
        goals.push(at_least(
            format!("{} diamond tasks, steps/s", diamond.tasks),
            diamond.ratio,
            0.25,
            "bare queue",
        ));
        goals.push(Goal {
            what: "linear task p50".into(),
            figure: format!("{engine_p50:.2} ms"),
            target: Target {
                text: "< 1.5 ms".into(),
                limit_ms: 1.5,
                met: engine_p50 < 1.5,
            },
        });
    }
    goals.push(at_least(
        format!("{} one-step tasks, jobs/s", one_step.tasks),
        one_step.ratio,
        0.5,
        "bare queue",
    ));
    goals
}

#[allow(clippy::too_many_arguments)]
async fn throughput(
    url: &str,
    plan: &Plan,
    template: &TemplateChoice,
    shape: BareShape,
    tasks: u64,
    rate: Rate,
    workers: usize,
    checks: &mut Vec<String>,
) -> anyhow::Result<Throughput> {
    let name = match shape {
        BareShape::Diamond => "diamond",
        BareShape::Linear => "linear",
        BareShape::OneStep => "one-step",
    };
    let steps = tasks * u64::from(shape.steps());
    let (mut engine, mut bare, mut bare_history, mut rss) = (vec![], vec![], vec![], None);
    for i in 0..plan.runs {
        progress(
            plan,
            &format!(
                "baseline: {tasks} {name} tasks, engine then bare queue, run {}/{}",
                i + 1,
                plan.runs
            ),
        );
        let size = scale::size(url, plan, template, tasks, 1).await?;
        let run = size
            .runs
            .first()
            .ok_or_else(|| anyhow::anyhow!("the engine's {name} run reported nothing"))?;
        let seconds = match rate {
            Rate::Total => run.total_ms,
            Rate::RunPhase => run.run_ms,
        } / 1000.0;
        engine.push(steps as f64 / seconds.max(1e-9));
        rss = rss.max(run.peak_rss_bytes);
        checks.extend(size.checks.iter().map(|c| format!("engine, {name}: {c}")));
        for (history, into) in [(false, &mut bare), (true, &mut bare_history)] {
            let spec = BareQueueSpec {
                shape,
                tasks,
                history,
                mode: BareMode::Throughput,
                workers,
                batch: BATCH,
            };
            let report = bare_queue(url, spec).await?;
            let time = match rate {
                Rate::Total => report.create_time + report.run_time,
                Rate::RunPhase => report.run_time,
            };
            into.push(steps as f64 / time.as_secs_f64().max(1e-9));
        }
        progress(
            plan,
            &format!(
                "  engine {:.0}, bare {:.0}, bare with history {:.0} steps/s",
                engine[i], bare[i], bare_history[i]
            ),
        );
    }
    checks.push(format!(
        "bare queue, {name}: {steps} steps each done exactly once, history complete, in every run"
    ));
    let (engine, bare, bare_history) = (
        Spread::of(engine),
        Spread::of(bare),
        Spread::of(bare_history),
    );
    Ok(Throughput {
        tasks,
        steps,
        measured: rate.label(),
        ratio: engine.median / bare.median.max(1e-9),
        ratio_history: engine.median / bare_history.median.max(1e-9),
        engine,
        bare,
        bare_history,
        engine_peak_rss_bytes: rss,
    })
}

async fn latencies(
    url: &str,
    plan: &Plan,
    workers: usize,
    checks: &mut Vec<String>,
) -> anyhow::Result<LatencyComparison> {
    let samples = plan.samples;
    let mut engine: Vec<Latency> = Vec::new();
    let mut bare: Vec<Latency> = Vec::new();
    let mut bare_history: Vec<Latency> = Vec::new();
    for i in 0..plan.runs {
        progress(
            plan,
            &format!(
                "baseline: {samples} linear tasks one at a time, engine then bare chain, run {}/{}",
                i + 1,
                plan.runs
            ),
        );
        let (latency, engine_checks, _) = latency::once(url, samples).await?;
        engine.push(latency);
        checks.extend(engine_checks.iter().map(|c| format!("engine, linear: {c}")));
        for (history, into) in [(false, &mut bare), (true, &mut bare_history)] {
            let spec = BareQueueSpec {
                shape: BareShape::Linear,
                tasks: samples as u64,
                history,
                mode: BareMode::OneAtATime {
                    warm_up: WARM_UP as u64,
                },
                workers,
                batch: BATCH,
            };
            let report = bare_queue(url, spec).await?;
            let measured: Vec<f64> = report.latencies.iter().copied().map(ms).collect();
            into.push(Latency::of(&measured));
        }
        progress(
            plan,
            &format!(
                "  p50: engine {:.2} ms, bare chain {:.2} ms, with history {:.2} ms",
                engine[i].p50_ms, bare[i].p50_ms, bare_history[i].p50_ms
            ),
        );
    }
    checks.push(format!(
        "bare chain: {samples} linear tasks one at a time, each step done exactly once"
    ));
    let p50 = |runs: &[Latency]| Spread::of(runs.iter().map(|l| l.p50_ms));
    let p99 = |runs: &[Latency]| Spread::of(runs.iter().map(|l| l.p99_ms));
    Ok(LatencyComparison {
        samples,
        engine_p50_ms: p50(&engine),
        engine_p99_ms: p99(&engine),
        bare_p50_ms: p50(&bare),
        bare_p99_ms: p99(&bare),
        bare_history_p50_ms: p50(&bare_history),
        bare_history_p99_ms: p99(&bare_history),
    })
}

/// One run of the bare queue on a fresh database, checked: every step done once, the history
/// complete when kept.
async fn bare_queue(url: &str, spec: BareQueueSpec) -> anyhow::Result<BareQueueReport> {
    let fresh = database::fresh(url).await?;
    let result = fresh.engine.store().bare_dag_queue(spec).await;
    fresh.cleanup().await?;
    let report = result?;
    let tasks = match spec.mode {
        BareMode::Throughput => spec.tasks,
        BareMode::OneAtATime { warm_up } => spec.tasks + warm_up,
    };
    let steps = tasks * u64::from(spec.shape.steps());
    let history = if spec.history {
        (3 * steps, 3 * tasks)
    } else {
        (0, 0)
    };
    if report.steps_completed != steps
        || report.claimed_twice != 0
        || (report.step_history_rows, report.task_history_rows) != history
    {
        bail!(
            "bare queue ({:?}, history {}): {} of {steps} steps done, {} claimed twice, \
             {} step and {} task history rows (expected {} and {})",
            spec.shape,
            spec.history,
            report.steps_completed,
            report.claimed_twice,
            report.step_history_rows,
            report.task_history_rows,
            history.0,
            history.1
        );
    }
    Ok(report)
}

/// The plain job queue of earlier rounds, as many jobs as the diamond run has steps.
async fn plain_queue(
    url: &str,
    plan: &Plan,
    jobs: u64,
    engine_steps_per_sec: f64,
) -> anyhow::Result<PlainQueue> {
    let mut rates = Vec::with_capacity(plan.runs);
    let mut workers = 1;
    for i in 0..plan.runs {
        progress(
            plan,
            &format!(
                "baseline: {jobs} jobs through the plain queue, run {}/{}",
                i + 1,
                plan.runs
            ),
        );
        let fresh = database::fresh(url).await?;
        let store = fresh.engine.store().clone();
        let skip_locked = store.capabilities().skip_locked;
        let result = store
            .baseline_queue(jobs, if skip_locked { POSTGRES_WORKERS } else { 1 })
            .await;
        drop(store);
        fresh.cleanup().await?;
        let report = result?;
        if report.completed != jobs || report.claimed_twice != 0 {
            bail!(
                "plain queue run {}: {} of {jobs} jobs done, {} claimed twice",
                i + 1,
                report.completed,
                report.claimed_twice
            );
        }
        workers = report.workers;
        rates.push(jobs as f64 / report.run_time.max(Duration::from_micros(1)).as_secs_f64());
    }
    let jobs_per_sec = Spread::of(rates);
    Ok(PlainQueue {
        jobs,
        workers,
        ratio: engine_steps_per_sec / jobs_per_sec.median.max(1e-9),
        jobs_per_sec,
    })
}
