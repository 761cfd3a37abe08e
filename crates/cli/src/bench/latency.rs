//! Latency: one `examples/linear` task at a time (four steps in a row), from the client's
//! create call to `wait_for_task` returning, with an orchestrator already running.

use super::checks::{self, Expected};
use super::stats::{Latency, Spread, ms};
use super::{Plan, database, progress};
use anyhow::bail;
use serde::Serialize;
use std::time::{Duration, Instant};
use tasker::{CreateTask, Engine, OrchestratorConfig, State, TemplateRef};

/// Tasks run before measuring: connections, caches and prepared statements warm up.
pub const WARM_UP: usize = 5;
const TASK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    pub template: &'static str,
    pub samples: usize,
    pub warm_up: usize,
    pub runs: Vec<Latency>,
    pub p50_ms: Spread,
    pub p99_ms: Spread,
    pub target: Option<super::scale::Target>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<LatencyReport> {
    let mut runs = Vec::with_capacity(plan.runs);
    let mut checks = Vec::new();
    let mut backend = String::new();
    for i in 0..plan.runs {
        progress(
            plan,
            &format!(
                "latency: {} linear tasks one at a time, run {}/{}",
                plan.samples,
                i + 1,
                plan.runs
            ),
        );
        let (latency, run_checks, run_backend) = once(url, plan.samples)
            .await
            .map_err(|e| e.context(format!("latency, run {}", i + 1)))?;
        backend = run_backend;
        progress(
            plan,
            &format!(
                "  p50 {:.2} ms, p99 {:.2} ms",
                latency.p50_ms, latency.p99_ms
            ),
        );
        runs.push(latency);
        checks = run_checks;
    }
    let p50_ms = Spread::of(runs.iter().map(|r| r.p50_ms));
    let limit_ms = if backend == "sqlite" { 5.0 } else { 10.0 };
    Ok(LatencyReport {
        template: "examples/linear",
        samples: plan.samples,
        warm_up: WARM_UP,
        p99_ms: Spread::of(runs.iter().map(|r| r.p99_ms)),
        target: Some(super::scale::Target {
            text: format!("p50 < {limit_ms:.0} ms"),
            limit_ms,
            met: p50_ms.median < limit_ms,
        }),
        p50_ms,
        runs,
        checks,
        checks_passed: true,
    })
}

/// One measurement on a fresh database: the latency, its checks and the backend's name.
pub async fn once(url: &str, samples: usize) -> anyhow::Result<(Latency, Vec<String>, String)> {
    let fresh = database::fresh(url).await?;
    let backend = fresh.engine.store().backend_name().to_owned();
    let result = one(&fresh.engine, samples).await;
    fresh.cleanup().await?;
    let (latency, checks) = result?;
    Ok((latency, checks, backend))
}

async fn one(engine: &Engine, samples: usize) -> anyhow::Result<(Latency, Vec<String>)> {
    let linear = TemplateRef::new("examples", "linear");
    let (_, layout) = engine.template_layout(&linear).await?;
    let orchestrator = engine.orchestrator(OrchestratorConfig::default()).spawn();
    let tag = engine.clock().now().timestamp_micros();
    let mut measured = Vec::with_capacity(samples);
    let mut failure = None;
    for i in 0..WARM_UP + samples {
        let started = Instant::now();
        match create_and_wait(engine, &linear, tag, i).await {
            Ok(()) if i >= WARM_UP => measured.push(ms(started.elapsed())),
            Ok(()) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    orchestrator.shutdown().await?;
    if let Some(e) = failure {
        return Err(e);
    }
    let counts = engine.store().table_counts().await?;
    let expected = Expected::runs(
        (WARM_UP + samples) as u64,
        layout.steps.len(),
        layout.edges.len(),
    );
    let checks = checks::all_complete("latency", &counts, expected)?;
    Ok((Latency::of(&measured), checks))
}

async fn create_and_wait(
    engine: &Engine,
    linear: &TemplateRef,
    tag: i64,
    i: usize,
) -> anyhow::Result<()> {
    let context = serde_json::json!({ "bench_run": tag, "n": i });
    let created = engine
        .create_task(CreateTask::new(linear.clone(), context))
        .await?;
    let task = engine.wait_for_task(created.id, Some(TASK_TIMEOUT)).await?;
    if task.state != State::Complete {
        bail!("task {} ended {} instead of complete", task.id, task.state);
    }
    Ok(())
}
