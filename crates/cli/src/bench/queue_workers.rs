//! Workers: the same diamond tasks run twice on one fresh database, in the same invocation: by
//! the orchestrator in this process (the reference), and with every step on a queue, by
//! `HTTP_WORKERS` workers that speak the worker protocol (`/v1/worker/claim`, `.../complete`)
//! to `tasker serve`'s router, also in this process, over HTTP/1.1 on loopback. The figure is
//! steps per second from the first claim to the last completion; the target is half the
//! in-process rate. The workers do what a real worker does, minus the work: claim a batch,
//! answer each step with a completion, claim again.

use super::api::Server;
use super::stats::ms;
use super::workers::run_until_idle;
use super::{Plan, database, progress};
use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tasker::{CreateTask, Engine, State, TemplateRef};
use tokio_util::sync::CancellationToken;

/// Concurrent HTTP workers, each with one claim in flight at a time.
pub const HTTP_WORKERS: usize = 8;
/// Steps per claim request.
const CLAIM_MAX: u32 = 50;
/// How long a claim waits for work when none is runnable (the diamond's joins leave gaps).
const CLAIM_WAIT_MS: u64 = 1_000;
const LEASE_MS: u64 = 30_000;
const QUEUE: &str = "bench";
/// Tasks per creation call (not measured).
const CREATE_BATCH: usize = 1_000;
const STEPS_PER_TASK: u64 = 4;
/// The queue twin of `examples/diamond`: the same DAG, every step pulled by workers.
const QUEUE_DIAMOND: &str = "namespace: bench
name: queue_diamond
version: 1.0.0
description: examples/diamond with every step on the queue `bench`, for HTTP workers.
steps:
  - name: start
    handler: bench_step
    queue: bench
  - name: branch_b
    handler: bench_step
    queue: bench
    depends_on: [start]
  - name: branch_c
    handler: bench_step
    queue: bench
    depends_on: [start]
  - name: end
    handler: bench_step
    queue: bench
    depends_on: [branch_b, branch_c]
";

#[derive(Debug, Clone, Serialize)]
pub struct WorkersReport {
    pub backend: String,
    pub tasks: u64,
    pub steps: u64,
    pub http_workers: usize,
    pub claim_max: u32,
    pub in_process: Rate,
    pub http: Rate,
    /// HTTP workers' steps/s over the in-process orchestrator's.
    pub ratio: f64,
    /// Claim requests the workers sent, and how many of them came back empty.
    pub claims: u64,
    pub empty_claims: u64,
    pub targets: Vec<WorkersTarget>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub run_ms: f64,
    pub steps_per_sec: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkersTarget {
    pub text: String,
    pub met: bool,
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<WorkersReport> {
    let tasks = plan.tasks.iter().copied().max().unwrap_or(1);
    let fresh = database::fresh(url).await?;
    let result = measure(&fresh.engine, fresh.url(), plan, tasks).await;
    fresh.cleanup().await?;
    result.context("workers scenario")
}

async fn measure(
    engine: &Engine,
    url: &str,
    plan: &Plan,
    tasks: u64,
) -> anyhow::Result<WorkersReport> {
    let backend = engine.store().backend_name().to_owned();
    let steps = tasks * STEPS_PER_TASK;

    progress(
        plan,
        &format!("workers: {tasks} diamond tasks run in-process"),
    );
    let diamond = TemplateRef::new("examples", "diamond");
    create(engine, &diamond, tasks, 0).await?;
    let ran = run_until_idle(engine, url, 1).await?;
    let in_process = Rate {
        run_ms: ms(ran.wall),
        steps_per_sec: steps as f64 / ran.wall.as_secs_f64(),
    };

    progress(
        plan,
        &format!("workers: {tasks} diamond tasks on a queue, {HTTP_WORKERS} HTTP workers"),
    );
    let (queued, _) = engine.register_template_yaml(QUEUE_DIAMOND).await?;
    let queued = TemplateRef::new(queued.namespace, queued.name);
    create(engine, &queued, tasks, 1).await?;
    let server = Server::start(engine, &["workers"]).await?;
    let load = Load::new(&server, steps);
    let started = Instant::now();
    load.run().await?;
    let elapsed = started.elapsed();
    server.stop().await?;
    let http = Rate {
        run_ms: ms(elapsed),
        steps_per_sec: steps as f64 / elapsed.as_secs_f64(),
    };

    let counts = engine.store().table_counts().await?;
    let complete = counts.tasks_in(State::Complete);
    if complete != 2 * tasks as i64 || counts.tasks() != 2 * tasks as i64 {
        bail!(
            "{} of {} tasks complete after the workers scenario, expected all {}",
            complete,
            counts.tasks(),
            2 * tasks
        );
    }
    let completed = load.completed.load(Ordering::Relaxed);
    if completed != steps {
        bail!("the HTTP workers completed {completed} steps, expected {steps}");
    }
    let checks = vec![
        format!("{} tasks complete, in-process and over HTTP", 2 * tasks),
        format!("{steps} queue steps completed over HTTP, each once (200 on every completion)"),
    ];
    let ratio = http.steps_per_sec / in_process.steps_per_sec;
    let targets = vec![WorkersTarget {
        text: "HTTP workers >= 0.5 of the in-process steps/s (PostgreSQL)".into(),
        met: ratio >= 0.5,
    }];
    Ok(WorkersReport {
        backend,
        tasks,
        steps,
        http_workers: HTTP_WORKERS,
        claim_max: CLAIM_MAX,
        in_process,
        http,
        ratio,
        claims: load.claims.load(Ordering::Relaxed),
        empty_claims: load.empty_claims.load(Ordering::Relaxed),
        targets,
        checks,
        checks_passed: true,
    })
}

/// `n` tasks of `template`, created in bulk through the engine (not measured).
async fn create(engine: &Engine, template: &TemplateRef, n: u64, wave: u64) -> anyhow::Result<()> {
    let mut first = 0;
    while first < n {
        let last = (first + CREATE_BATCH as u64).min(n);
        let requests = (first..last)
            .map(|i| CreateTask::new(template.clone(), json!({ "bench_workers": wave, "n": i })))
            .collect();
        engine.create_tasks(requests).await?;
        first = last;
    }
    Ok(())
}

/// The workers of one run, sharing counters; they stop when every step is completed.
#[derive(Clone)]
struct Load {
    base: String,
    auth: String,
    client: reqwest::Client,
    steps: u64,
    completed: Arc<AtomicU64>,
    claims: Arc<AtomicU64>,
    empty_claims: Arc<AtomicU64>,
    done: CancellationToken,
}

impl Load {
    fn new(server: &Server, steps: u64) -> Load {
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(HTTP_WORKERS * CLAIM_MAX as usize)
            .timeout(Duration::from_millis(CLAIM_WAIT_MS + LEASE_MS))
            .build()
            .expect("an HTTP client with default TLS settings");
        Load {
            base: format!("http://{}", server.addr),
            auth: format!("Bearer {}", server.token),
            client,
            steps,
            completed: Arc::default(),
            claims: Arc::default(),
            empty_claims: Arc::default(),
            done: CancellationToken::new(),
        }
    }

    async fn run(&self) -> anyhow::Result<()> {
        let mut workers = Vec::with_capacity(HTTP_WORKERS);
        for i in 0..HTTP_WORKERS {
            let load = self.clone();
            workers.push(tokio::spawn(async move { load.worker(i).await }));
        }
        for worker in workers {
            worker.await??;
        }
        Ok(())
    }

    /// Claim, complete every claimed step concurrently, repeat until all steps are done.
    async fn worker(&self, i: usize) -> anyhow::Result<()> {
        let claim = json!({
            "queue": QUEUE,
            "handlers": ["bench_step"],
            "max": CLAIM_MAX,
            "wait_ms": CLAIM_WAIT_MS,
            "lease_ms": LEASE_MS,
            "worker": format!("bench-{i}"),
        });
        let url = format!("{}/v1/worker/claim", self.base);
        loop {
            let mut answer = tokio::select! {
                answer = self.post(&url, &claim) => answer?,
                _ = self.done.cancelled() => return Ok(()),
            };
            self.claims.fetch_add(1, Ordering::Relaxed);
            let Value::Array(steps) = answer["steps"].take() else {
                bail!("a claim answer without `steps`: {answer}");
            };
            if steps.is_empty() {
                self.empty_claims.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut completions = tokio::task::JoinSet::new();
            for step in steps {
                let load = self.clone();
                completions.spawn(async move { load.complete(&step).await });
            }
            while let Some(result) = completions.join_next().await {
                result??;
            }
        }
    }

    async fn complete(&self, step: &Value) -> anyhow::Result<()> {
        let id = step["step_id"]
            .as_i64()
            .context("a claimed step without `step_id`")?;
        let token = step["lease_token"]
            .as_str()
            .context("a claimed step without `lease_token`")?;
        let url = format!("{}/v1/worker/steps/{id}/complete", self.base);
        self.post(
            &url,
            &json!({ "lease_token": token, "result": { "ok": true } }),
        )
        .await?;
        if self.completed.fetch_add(1, Ordering::AcqRel) + 1 == self.steps {
            self.done.cancel();
        }
        Ok(())
    }

    /// 200 and its JSON body, or the problem document the server answered instead.
    async fn post(&self, url: &str, body: &Value) -> anyhow::Result<Value> {
        let answer = self
            .client
            .post(url)
            .header("authorization", &self.auth)
            .json(body)
            .send()
            .await?;
        let status = answer.status();
        if status != reqwest::StatusCode::OK {
            let text = answer.text().await.unwrap_or_default();
            bail!("POST {url} answered {status}: {text}");
        }
        Ok(answer.json().await?)
    }
}
