//! The fault-injection harness: seeded random DAGs run by two orchestrators (one with a skewed
//! clock) through a store that delays and fails statements, stalls lease renewals past a
//! lease, and loses answers at commit, while a driver holds task rows locked, shuts
//! orchestrators down and crashes them at random moments. Afterwards the invariants are
//! checked against what the handlers really ran and against the history:
//!
//! 1. no two attempts of a step overlap in time (an attempt stops before its lease could
//!    expire in any process's eyes, so not even "after it was told to stop");
//! 2. every handler success is recorded, or its step's history says why not;
//! 3. a task is `error` only while none of its steps is running (sampled during the run);
//! 4. attempts never exceed `max_attempts` plus the attempts given back;
//! 5. every task ends.
//!
//! `TASKER_CHAOS_SEEDS` (default 3) sets how many seeds each backend runs; a failure prints
//! its seed, and `TASKER_CHAOS_SEED=N` replays that one (the schedule of faults, the DAGs and
//! the handlers' choices follow from it; the interleaving of real threads does not).

mod common;

use common::chaos::{ChaosPlan, ChaosStore, Recorder, RunEnd, recorded_sleep};
use common::{Backend, TestDb};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tasker::model::TransitionRecord;
use tasker::store::{Store, TaskFilter};
use tasker::{
    CreateTask, Engine, EngineConfig, HandlerRegistry, OffsetClock, OrchestratorConfig,
    OrchestratorHandle, State, StepContext, StepError, TaskId,
};

/// Attempts stop a sixth of a lease before their leases expire; the skewed clock takes at most
/// a twenty-fourth of it, which leaves the rest for a loaded machine to stop a handler in.
const LEASE: Duration = Duration::from_secs(1);
const MAX_ATTEMPTS: usize = 4;
const TASKS: usize = 30;

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("TASKER_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count = std::env::var("TASKER_CHAOS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    let base: u64 = rand::random::<u32>() as u64;
    (0..count).map(|i| base + i).collect()
}

/// A random DAG: each step depends on each earlier one with some probability; durations from
/// instant to longer than a lease.
fn template(rng: &mut StdRng, index: usize) -> String {
    let steps = rng.random_range(2..=6);
    let mut yaml = format!(
        "namespace: chaos\nname: dag{index}\nversion: 1.0.0\ndefaults:\n  retry:\n    max_attempts: {MAX_ATTEMPTS}\n    backoff: exponential\n    base_ms: 20\n    max_ms: 200\nsteps:\n"
    );
    for i in 0..steps {
        let ms = match rng.random_range(0..10) {
            0 => rng.random_range(1_100..2_500), // longer than a lease: needs renewals
            1..=3 => 0,
            _ => rng.random_range(1..200),
        };
        yaml += &format!("  - name: s{i}\n    handler: chaos\n    config: {{ ms: {ms} }}\n");
        let parents: Vec<String> = (0..i)
            .filter(|_| rng.random_bool(0.4))
            .map(|p| format!("s{p}"))
            .collect();
        if !parents.is_empty() {
            yaml += &format!("    depends_on: [{}]\n", parents.join(", "));
        }
    }
    yaml
}

/// Sleeps for the step's `ms` (stopping early when told to), then fails retryably for some
/// attempts, chosen by the seed.
fn handlers(recorder: Recorder, seed: u64) -> HandlerRegistry {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register("chaos", move |ctx: StepContext| {
        let recorder = recorder.clone();
        async move {
            let ms = ctx.config["ms"].as_u64().unwrap_or(0);
            let run = recorded_sleep(&recorder, &ctx, ms).await?;
            let mut rng = StdRng::seed_from_u64(
                seed ^ (ctx.step_id as u64).rotate_left(17) ^ ctx.attempt as u64,
            );
            if rng.random_bool(0.15) {
                run.finish(RunEnd::Failed);
                return Err(StepError::retryable("unlucky"));
            }
            run.finish(RunEnd::Succeeded);
            Ok(json!({"attempt": ctx.attempt}))
        }
    });
    handlers
}

fn orchestrator_config(owner: String) -> OrchestratorConfig {
    OrchestratorConfig {
        owner,
        concurrency: 8,
        claim_batch: 4,
        completion_batch: 8,
        lease_duration: LEASE,
        poll_interval: Duration::from_millis(50),
        rescue_interval: Duration::from_millis(100),
        ..OrchestratorConfig::default()
    }
}

/// Holds a task's row locked for a while, from outside the store (another client).
async fn hold_task_lock(db: &LockTarget, task: TaskId, hold: Duration) {
    match db.backend {
        Backend::Postgres => {
            let url = std::env::var(common::URL_VAR).expect("url");
            let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            let schema = db.schema.clone().expect("schema");
            client
                .batch_execute(&format!("SET search_path TO {schema}"))
                .await
                .expect("search_path");
            let tx = client.transaction().await.expect("begin");
            tx.execute("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", &[&task])
                .await
                .expect("lock the task row");
            tokio::time::sleep(hold).await;
            tx.commit().await.expect("commit");
        }
        Backend::Sqlite => {
            let path = db.file.clone().expect("file");
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).expect("open");
                conn.busy_timeout(Duration::from_secs(10)).expect("busy");
                conn.execute_batch("BEGIN IMMEDIATE")
                    .expect("lock the database");
                std::thread::sleep(hold);
                conn.execute_batch("COMMIT").expect("commit");
            })
            .await
            .expect("lock holder");
        }
    }
}

struct Fleet {
    engines: Vec<Engine>,
    running: Vec<Option<OrchestratorHandle>>,
    restarts: usize,
}

impl Fleet {
    fn start(&mut self, i: usize) {
        self.restarts += 1;
        let owner = format!("o{i}-{}", self.restarts);
        self.running[i] = Some(
            self.engines[i]
                .orchestrator(orchestrator_config(owner))
                .spawn(),
        );
    }
}

async fn chaos_case(db: TestDb, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let chaos = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            slow: 0.1,
            max_delay: Duration::from_millis(250),
            fail_before: 0.04,
            fail_after: 0.02,
            renew_stall: 0.1,
            stall: LEASE + LEASE / 2,
            ..ChaosPlan::calm()
        },
        seed,
    ));
    let recorder = Recorder::default();
    // Two processes; the second one's clock is off by up to a quarter of what leases tolerate.
    let skew_ms =
        rng.random_range(-(LEASE.as_millis() as i64) / 24..=LEASE.as_millis() as i64 / 24);
    let store: Arc<dyn Store> = chaos.clone();
    let engines: Vec<Engine> = [0, skew_ms]
        .iter()
        .map(|&offset| {
            let config = EngineConfig {
                clock: Arc::new(OffsetClock {
                    offset: chrono::Duration::milliseconds(offset),
                }),
                ..EngineConfig::default()
            };
            Engine::new(store.clone(), handlers(recorder.clone(), seed), config)
        })
        .collect();

    let templates = rng.random_range(2..=4);
    for t in 0..templates {
        engines[0]
            .register_template_yaml(&template(&mut rng, t))
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: register: {e}"));
    }
    let requests = (0..TASKS)
        .map(|_| {
            let t = rng.random_range(0..templates);
            CreateTask::new(format!("chaos/dag{t}").parse().unwrap(), json!({}))
        })
        .collect();
    let tasks: Vec<TaskId> = engines[0]
        .create_tasks(requests)
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: create: {e}"))
        .into_iter()
        .map(|t| t.id)
        .collect();

    let mut fleet = Fleet {
        engines: engines.clone(),
        running: vec![None, None],
        restarts: 0,
    };
    fleet.start(0);
    fleet.start(1);

    // Invariant 3, sampled while everything runs: a task in `error` has no running step.
    let sampler_store = db.store.clone();
    let stop_sampling = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = stop_sampling.clone();
    let sampler = tokio::spawn(async move {
        let mut violations = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            let failed = sampler_store
                .list_tasks(&TaskFilter {
                    state: Some(State::Error),
                    namespace: None,
                    before_id: None,
                    limit: 1_000,
                    ..TaskFilter::default()
                })
                .await
                .unwrap_or_default();
            for task in failed {
                // Read after the task: once `error`, a task stays so (nothing retries it here).
                for step in sampler_store
                    .steps_of_task(task.id)
                    .await
                    .unwrap_or_default()
                {
                    if step.state == State::InProgress {
                        violations.push(format!(
                            "task {} is error while its step {} ({}) runs",
                            task.id, step.id, step.name
                        ));
                    }
                }
            }
            if violations.len() > 10 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        violations
    });

    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut actions = Vec::new();
    let mut locks = tokio::task::JoinSet::new();
    loop {
        let unfinished = unfinished(db.store.as_ref(), &tasks).await;
        if unfinished.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "seed {seed}: {} tasks did not end within 90 s (invariant 5): {unfinished:?}; injected {}",
            unfinished.len(),
            chaos.injected
        );
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..600))).await;
        let i = rng.random_range(0..2);
        match rng.random_range(0..100) {
            0..=14 => {
                if let Some(handle) = fleet.running[i].take() {
                    actions.push(format!("shutdown o{i}"));
                    let _ = handle.shutdown().await;
                }
                fleet.start(i);
            }
            15..=24 => {
                if let Some(handle) = fleet.running[i].take() {
                    actions.push(format!("crash o{i}"));
                    handle.abort().await;
                }
                fleet.start(i);
            }
            25..=39 => {
                // Heartbeats stall for longer than a lease (a paused process, a stuck pool).
                actions.push("stall renewals".to_owned());
                chaos.stall_renewals(4);
            }
            40..=64 => {
                let task = unfinished[rng.random_range(0..unfinished.len())];
                let hold = Duration::from_millis(rng.random_range(50..400));
                actions.push(format!("lock task {task} for {hold:?}"));
                let db_ref = LockTarget::of(&db);
                locks.spawn(async move { db_ref.hold(task, hold).await });
            }
            _ => {}
        }
    }
    while locks.join_next().await.is_some() {}
    for handle in fleet.running.iter_mut().filter_map(Option::take) {
        handle.shutdown().await.expect("shutdown");
    }
    stop_sampling.store(true, std::sync::atomic::Ordering::Release);
    let mut violations = sampler.await.expect("the sampler");
    // And once more, at rest.
    for &task in &tasks {
        let state = db.store.task(task).await.unwrap().unwrap().state;
        if state == State::Error {
            for step in db.store.steps_of_task(task).await.unwrap() {
                if step.state == State::InProgress {
                    violations.push(format!("task {task} is error while step {} runs", step.id));
                }
            }
        }
    }

    let runs = recorder.runs();
    let mut history: HashMap<i64, Vec<TransitionRecord>> = HashMap::new();
    let mut final_states = BTreeMap::new();
    for &task in &tasks {
        final_states
            .entry(format!(
                "{:?}",
                db.store.task(task).await.unwrap().unwrap().state
            ))
            .and_modify(|n| *n += 1)
            .or_insert(1);
        for t in db.store.step_transitions_of_task(task).await.unwrap() {
            history.entry(t.owner_id).or_default().push(t);
        }
    }
    let context = format!(
        "seed {seed}, skew {skew_ms} ms, injected {}; actions: {}",
        chaos.injected,
        actions.join(", ")
    );

    // 1. No overlap between attempts of a step.
    let mut by_step: HashMap<i64, Vec<_>> = HashMap::new();
    for run in &runs {
        by_step.entry(run.step_id).or_default().push(run.clone());
    }
    for (step, runs) in &mut by_step {
        runs.sort_by_key(|r| r.start);
        for pair in runs.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{context}: step {step}: attempt {} ({:?}) ran until {:?} after attempt {} started (invariant 1)",
                pair[0].attempt,
                pair[0].how,
                pair[0].end - pair[1].start,
                pair[1].attempt
            );
        }
    }
    // 2. Every success is recorded, or the history says why not.
    for run in runs.iter().filter(|r| r.how == RunEnd::Succeeded) {
        let transitions = history.get(&run.step_id).map(Vec::as_slice).unwrap_or(&[]);
        let ended = transitions.iter().find(|t| {
            t.from_state == Some(State::InProgress)
                && t.metadata["attempt"].as_i64() == Some(run.attempt as i64)
        });
        let explained = ended.is_some_and(|t| {
            t.to_state == State::Complete
                || t.metadata.get("released").is_some()
                || matches!(
                    t.metadata["failure"].as_str(),
                    Some("lease_expired" | "unstorable_outcome")
                )
        });
        assert!(
            explained,
            "{context}: step {} attempt {} succeeded, but its history says {:?} (invariant 2)",
            run.step_id, run.attempt, ended
        );
    }
    // 3. No task in error with a running step.
    assert!(
        violations.is_empty(),
        "{context}: {violations:?} (invariant 3)"
    );
    // 4. Attempts within the budget plus the attempts given back.
    for (step, transitions) in &history {
        let claims = transitions
            .iter()
            .filter(|t| t.to_state == State::InProgress)
            .count();
        let released = transitions
            .iter()
            .filter(|t| t.from_state == Some(State::InProgress) && t.to_state == State::Pending)
            .count();
        assert!(
            claims <= MAX_ATTEMPTS + released,
            "{context}: step {step} ran {claims} attempts with {released} given back (invariant 4)"
        );
    }
    eprintln!(
        "chaos {} seed {seed}: {} runs, tasks {final_states:?}; skew {skew_ms} ms; injected {}; {} driver actions",
        db.store.backend_name(),
        runs.len(),
        chaos.injected,
        actions.len()
    );
}

/// What a lock holder needs from the test database, owned so it can outlive a borrow.
#[derive(Clone)]
struct LockTarget {
    backend: Backend,
    schema: Option<String>,
    file: Option<std::path::PathBuf>,
}

impl LockTarget {
    fn of(db: &TestDb) -> Self {
        LockTarget {
            backend: db.backend,
            schema: db.schema.clone(),
            file: db.file.clone(),
        }
    }

    async fn hold(&self, task: TaskId, hold: Duration) {
        hold_task_lock(self, task, hold).await;
    }
}

async fn unfinished(store: &dyn Store, tasks: &[TaskId]) -> Vec<TaskId> {
    let mut open = Vec::new();
    for &task in tasks {
        match store.task(task).await {
            Ok(Some(t)) if matches!(t.state, State::Complete | State::Error) => {}
            _ => open.push(task),
        }
    }
    open
}

async fn leases_hold_under_chaos(db: TestDb) {
    for seed in seeds() {
        // A fresh database per seed, so that each seed's run stands alone.
        let db = TestDb::new(db.backend, "leases_hold_under_chaos")
            .await
            .expect("database");
        chaos_case(db, seed).await;
    }
}

on_every_backend!(leases_hold_under_chaos);
