//! API: task creation through `tasker serve`'s HTTP API against the engine called directly, in
//! the same run on the same database. The server runs in this process (API only: no
//! orchestrator, so creation is what is measured); 16 HTTP/1.1 clients with keep-alive first
//! create tasks one per `POST /v1/tasks`, then 1,000 per `POST /v1/tasks/batch`; the engine's
//! own `create_tasks`, called by 16 tasks with the same batches, is the reference.

use super::memory;
use super::stats::{Latency, ms};
use super::{Plan, database, progress};
use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tasker::{CreateTask, Engine, TemplateRef};
use tokio_util::sync::CancellationToken;

/// Concurrent clients, as the issue's target states them.
pub const CLIENTS: usize = 16;
/// Tasks per batch request and per direct `create_tasks` call.
pub const BATCH: usize = 1_000;
/// Single creates measured (one request each); smaller in smoke runs.
const SINGLE_TASKS: u64 = 20_000;
const SMOKE_SINGLE_TASKS: u64 = 200;
const SMOKE_BATCH_TASKS: u64 = 2_000;

#[derive(Debug, Clone, Serialize)]
pub struct ApiReport {
    pub backend: String,
    pub clients: usize,
    pub single: SingleCreates,
    pub batch: BatchCreates,
    /// The most memory the process (server and clients) held during the HTTP load.
    pub peak_rss_bytes: Option<u64>,
    pub targets: Vec<ApiTarget>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SingleCreates {
    pub tasks: u64,
    pub tasks_per_sec: f64,
    pub latency: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchCreates {
    pub tasks: u64,
    pub batch: usize,
    pub http_tasks_per_sec: f64,
    pub direct_tasks_per_sec: f64,
    /// HTTP batch rate over the direct engine's rate.
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiTarget {
    pub text: String,
    pub met: bool,
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<ApiReport> {
    let (single_tasks, batch_tasks) = if plan.smoke {
        (SMOKE_SINGLE_TASKS, SMOKE_BATCH_TASKS)
    } else {
        let largest = plan.tasks.iter().copied().max().unwrap_or(BATCH as u64);
        (SINGLE_TASKS.min(largest.max(1)), largest.max(BATCH as u64))
    };
    let fresh = database::fresh(url).await?;
    let result = measure(&fresh.engine, plan, single_tasks, batch_tasks).await;
    fresh.cleanup().await?;
    result.context("api scenario")
}

async fn measure(
    engine: &Engine,
    plan: &Plan,
    single_tasks: u64,
    batch_tasks: u64,
) -> anyhow::Result<ApiReport> {
    let backend = engine.store().backend_name().to_owned();
    let reference = database::template(engine, &plan.template).await?;
    let server = Server::start(engine, &["tasks:write", "tasks:read"]).await?;
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    let memory_reset = memory::reset_peak_rss();

    // Warm up connections, the token cache and prepared statements; not measured.
    let warm = Load::new(&server, &client, &reference, 0);
    warm.singles(CLIENTS as u64 * 4).await?;

    progress(
        plan,
        &format!("api: {single_tasks} single creates over HTTP, {CLIENTS} clients"),
    );
    let singles = Load::new(&server, &client, &reference, 1);
    let started = Instant::now();
    let latencies = singles.singles(single_tasks).await?;
    let single_secs = started.elapsed().as_secs_f64();

    progress(
        plan,
        &format!("api: {batch_tasks} tasks in batches of {BATCH} over HTTP"),
    );
    let batches = Load::new(&server, &client, &reference, 2);
    let started = Instant::now();
    batches.batches(batch_tasks).await?;
    let http_batch_secs = started.elapsed().as_secs_f64();
    let peak_rss_bytes = memory::peak_rss_bytes().filter(|_| memory_reset);

    progress(
        plan,
        &format!("api: {batch_tasks} tasks in batches of {BATCH} through the engine"),
    );
    let started = Instant::now();
    direct_batches(engine, &reference, batch_tasks, 3).await?;
    let direct_secs = started.elapsed().as_secs_f64();
    server.stop().await?;

    let counts = engine.store().table_counts().await?;
    let warm_up = CLIENTS as u64 * 4;
    let expected = (warm_up + single_tasks + 2 * batch_tasks) as i64;
    let mut checks = Vec::new();
    if counts.tasks() != expected || counts.tasks_in(tasker::State::Pending) != expected {
        bail!(
            "{} tasks ({} pending) in the database after the api scenario, expected {expected} pending",
            counts.tasks(),
            counts.tasks_in(tasker::State::Pending)
        );
    }
    checks.push(format!(
        "{expected} tasks created, each exactly once, all pending"
    ));

    let single = SingleCreates {
        tasks: single_tasks,
        tasks_per_sec: single_tasks as f64 / single_secs,
        latency: Latency::of(&latencies),
    };
    let http_rate = batch_tasks as f64 / http_batch_secs;
    let direct_rate = batch_tasks as f64 / direct_secs;
    let batch = BatchCreates {
        tasks: batch_tasks,
        batch: BATCH,
        http_tasks_per_sec: http_rate,
        direct_tasks_per_sec: direct_rate,
        ratio: http_rate / direct_rate,
    };
    let targets = vec![
        ApiTarget {
            text: "single creates >= 3,000 tasks/s (PostgreSQL)".into(),
            met: single.tasks_per_sec >= 3_000.0,
        },
        ApiTarget {
            text: "single create p99 < 20 ms (PostgreSQL)".into(),
            met: single.latency.p99_ms < 20.0,
        },
        ApiTarget {
            text: "batch over HTTP >= 0.7 of the engine's own rate".into(),
            met: batch.ratio >= 0.7,
        },
    ];
    Ok(ApiReport {
        backend,
        clients: CLIENTS,
        single,
        batch,
        peak_rss_bytes,
        targets,
        checks_passed: true,
        checks,
    })
}

/// The server of an HTTP scenario: the API router in this process on a loopback port, tokens
/// required, and a token with the scenario's scopes.
pub(super) struct Server {
    pub(super) addr: SocketAddr,
    pub(super) token: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub(super) async fn start(engine: &Engine, scopes: &[&str]) -> anyhow::Result<Server> {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let (token, _) = tasker_server::auth::issue_token(engine, "bench", &scopes).await?;
        let stop = CancellationToken::new();
        let state = tasker_server::AppState::new(engine.clone()).with_shutdown(stop.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = tasker_server::router(state);
        let shutdown = stop.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
        });
        Ok(Server {
            addr,
            token,
            stop,
            task,
        })
    }

    pub(super) async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await??;
        Ok(())
    }
}

/// One wave of requests: `CLIENTS` clients share a counter of tasks still to create.
struct Load {
    base: String,
    auth: String,
    client: reqwest::Client,
    template: String,
    /// Keeps contexts (and so identities) distinct across the waves of one run.
    wave: u64,
}

impl Load {
    fn new(server: &Server, client: &reqwest::Client, reference: &TemplateRef, wave: u64) -> Load {
        Load {
            base: format!("http://{}", server.addr),
            auth: format!("Bearer {}", server.token),
            client: client.clone(),
            template: reference.to_string(),
            wave,
        }
    }

    /// `n` tasks, one request each; the latency of every request in ms.
    async fn singles(&self, n: u64) -> anyhow::Result<Vec<f64>> {
        let next = Arc::new(AtomicU64::new(0));
        let mut clients = Vec::with_capacity(CLIENTS);
        for _ in 0..CLIENTS {
            let next = next.clone();
            let (client, url, auth) = (
                self.client.clone(),
                format!("{}/v1/tasks", self.base),
                self.auth.clone(),
            );
            let (template, wave) = (self.template.clone(), self.wave);
            clients.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let body = json!({ "template": template, "context": context(wave, i) });
                    let started = Instant::now();
                    let answer = client
                        .post(&url)
                        .header("authorization", &auth)
                        .json(&body)
                        .send()
                        .await?;
                    expect_created(answer).await?;
                    latencies.push(ms(started.elapsed()));
                }
            }));
        }
        let mut all = Vec::with_capacity(n as usize);
        for client in clients {
            all.extend(client.await??);
        }
        Ok(all)
    }

    /// `n` tasks in requests of `BATCH`.
    async fn batches(&self, n: u64) -> anyhow::Result<()> {
        let next = Arc::new(AtomicU64::new(0));
        let mut clients = Vec::with_capacity(CLIENTS);
        for _ in 0..CLIENTS {
            let next = next.clone();
            let (client, url, auth) = (
                self.client.clone(),
                format!("{}/v1/tasks/batch", self.base),
                self.auth.clone(),
            );
            let (template, wave) = (self.template.clone(), self.wave);
            clients.push(tokio::spawn(async move {
                loop {
                    let first = next.fetch_add(BATCH as u64, Ordering::Relaxed);
                    if first >= n {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let tasks: Vec<Value> = (first..(first + BATCH as u64).min(n))
                        .map(|i| json!({ "template": template, "context": context(wave, i) }))
                        .collect();
                    let answer = client
                        .post(&url)
                        .header("authorization", &auth)
                        .json(&json!({ "tasks": tasks }))
                        .send()
                        .await?;
                    expect_created(answer).await?;
                }
            }));
        }
        for client in clients {
            client.await??;
        }
        Ok(())
    }
}

/// The same batches through `Engine::create_tasks`, from `CLIENTS` concurrent callers.
async fn direct_batches(
    engine: &Engine,
    reference: &TemplateRef,
    n: u64,
    wave: u64,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut callers = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let (engine, reference, next) = (engine.clone(), reference.clone(), next.clone());
        callers.push(tokio::spawn(async move {
            loop {
                let first = next.fetch_add(BATCH as u64, Ordering::Relaxed);
                if first >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let requests = (first..(first + BATCH as u64).min(n))
                    .map(|i| CreateTask::new(reference.clone(), context(wave, i)))
                    .collect();
                let created = engine.create_tasks(requests).await?;
                if created.iter().any(|c| !c.created) {
                    bail!("a bench task was taken for an existing one");
                }
            }
        }));
    }
    for caller in callers {
        caller.await??;
    }
    Ok(())
}

fn context(wave: u64, i: u64) -> Value {
    json!({ "bench_api_wave": wave, "n": i })
}

/// 201 Created, or the problem document the server answered instead.
async fn expect_created(answer: reqwest::Response) -> anyhow::Result<()> {
    let status = answer.status();
    if status == reqwest::StatusCode::CREATED {
        // Read the body so the connection goes back to the pool.
        answer.bytes().await?;
        return Ok(());
    }
    let body = answer.text().await.unwrap_or_default();
    bail!("the server answered {status}: {body}")
}
