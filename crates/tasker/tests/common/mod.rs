//! Test harness: one engine per backend. SQLite (a temporary file) always; PostgreSQL (a fresh
//! schema per test) when `TASKER_TEST_DATABASE_URL` is set, else a loud SKIPPED line (and a
//! failure on CI, where nothing may be skipped).
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod chaos;
pub mod workloads;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tasker::store::Store;
use tasker::{Clock, Engine, EngineConfig, HandlerRegistry, OrchestratorConfig, State, TaskId};
use tasker_postgres::{PgOptions, PostgresStore};
use tokio::sync::OnceCell;

pub const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database for one test; SQLite files are removed when it is dropped.
pub struct TestDb {
    pub backend: Backend,
    pub store: Arc<dyn Store>,
    /// The SQLite file, or the PostgreSQL schema, for tests that reach the database directly.
    pub file: Option<PathBuf>,
    pub schema: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static CLEANED: OnceCell<()> = OnceCell::const_new();

impl TestDb {
    pub async fn new(backend: Backend, test: &str) -> Option<TestDb> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let unique = format!("{}_{n}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut schema = None;
        let (store, file): (Arc<dyn Store>, _) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("tasker_facade_{unique}.db"));
                let store = tasker::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open sqlite");
                (store, Some(path))
            }
            Backend::Postgres => {
                let url = postgres_url(test)?;
                CLEANED
                    .get_or_init(|| async {
                        tasker_postgres::drop_orphaned_schemas(&url, "tasker_test_")
                            .await
                            .expect("drop the schemas of finished test runs");
                    })
                    .await;
                schema = Some(format!("tasker_test_{unique}"));
                let options = PgOptions {
                    // `tasker_test_<pid>_...`: the shape the stale-schema cleaners recognise.
                    schema: schema.clone(),
                    pool_size: 8,
                    ..PgOptions::default()
                };
                let store = PostgresStore::connect_with(&url, options)
                    .await
                    .expect("connect to postgres");
                (Arc::new(store) as Arc<dyn Store>, None)
            }
        };
        store.migrate().await.expect("migrate");
        Some(TestDb {
            backend,
            store,
            file,
            schema,
        })
    }

    /// An engine with the built-in handlers and the system clock.
    pub fn engine(&self) -> Engine {
        self.engine_with(HandlerRegistry::with_builtins(), EngineConfig::default())
    }

    pub fn engine_with(&self, handlers: HandlerRegistry, config: EngineConfig) -> Engine {
        Engine::new(self.store.clone(), handlers, config)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped");
            }
            eprintln!(
                "SKIPPED postgres::{test}: {URL_VAR} is not set; no PostgreSQL to test against"
            );
            None
        }
    }
}

/// Runs each listed case (`async fn case(db: TestDb)`) once per backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = $crate::common::TestDb::new($crate::common::Backend::Sqlite, stringify!($case)).await;
                    if let Some(db) = db {
                        super::$case(db).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = $crate::common::TestDb::new($crate::common::Backend::Postgres, stringify!($case)).await;
                    if let Some(db) = db {
                        super::$case(db).await;
                    }
                }
            )*
        }
    };
}

/// Quick settings for tests: short poll and rescue intervals, stop when idle.
pub fn until_idle(owner: &str) -> OrchestratorConfig {
    OrchestratorConfig {
        owner: owner.to_owned(),
        poll_interval: Duration::from_millis(50),
        rescue_interval: Duration::from_millis(50),
        until_idle: true,
        ..OrchestratorConfig::default()
    }
}

/// Runs an orchestrator until nothing is left to do, failing the test if that takes too long.
pub async fn run_until_idle(engine: &Engine, owner: &str) -> tasker::RunStats {
    tokio::time::timeout(
        Duration::from_secs(60),
        engine.orchestrator(until_idle(owner)).run(),
    )
    .await
    .expect("the orchestrator did not become idle within 60 s")
    .expect("orchestrator run")
}

pub fn config(backoff_disabled: bool, clock: Option<Arc<dyn Clock>>) -> EngineConfig {
    let mut config = EngineConfig {
        retry_backoff_disabled: backoff_disabled,
        ..EngineConfig::default()
    };
    if let Some(clock) = clock {
        config.clock = clock;
    }
    config
}

pub async fn state_of(engine: &Engine, id: TaskId) -> State {
    engine.task(id).await.expect("task").state
}

/// The step of a task by name.
pub async fn step(engine: &Engine, task: TaskId, name: &str) -> tasker::StepRecord {
    engine
        .task_details(task)
        .await
        .expect("details")
        .steps
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

/// Polls until `check` holds (or fails the test after 20 s).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// No step entered `in_progress` before every one of its parents was complete (or resolved):
/// checked on the step transitions in the order they were written.
pub async fn assert_parents_finished_first(engine: &Engine, task: TaskId) {
    let steps = engine.store().steps_of_task(task).await.expect("steps");
    let transitions = engine
        .store()
        .step_transitions_of_task(task)
        .await
        .expect("transitions");
    let position = |name: &str, to: &[State]| {
        transitions
            .iter()
            .position(|t| t.step_name.as_deref() == Some(name) && to.contains(&t.to_state))
    };
    for step in &steps {
        let Some(started) = position(&step.name, &[State::InProgress]) else {
            continue;
        };
        for parent in &step.parents {
            let done = position(parent, &[State::Complete, State::ResolvedManually])
                .unwrap_or_else(|| {
                    panic!(
                        "{} started but its parent {parent} never finished",
                        step.name
                    )
                });
            assert!(
                done < started,
                "{} started (transition #{started}) before its parent {parent} finished (#{done})",
                step.name
            );
        }
    }
}

/// A manual clock at a whole second of today: the databases keep microseconds, so a start
/// without nanoseconds compares exactly after a round trip.
pub fn manual_clock() -> tasker::ManualClock {
    let now = chrono::Utc::now().timestamp();
    tasker::ManualClock::new(chrono::DateTime::from_timestamp(now, 0).expect("a valid time"))
}

/// Makes a running step's lease expired in the database, from outside the store (as a
/// stalled or cut-off holder would find it): the rescuer may now take it back.
pub async fn expire_lease_in_db(db: &TestDb, step: tasker::StepId) {
    match db.backend {
        Backend::Postgres => {
            let url = std::env::var(URL_VAR).expect("url");
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            let schema = db.schema.clone().expect("schema");
            client
                .execute(
                    &format!(
                        "UPDATE {schema}.workflow_steps SET lease_expires_at = now() - interval '1 hour' WHERE id = $1"
                    ),
                    &[&step],
                )
                .await
                .expect("expire the lease");
        }
        Backend::Sqlite => {
            let path = db.file.clone().expect("file");
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).expect("open");
                conn.busy_timeout(Duration::from_secs(10)).expect("busy");
                conn.execute(
                    "UPDATE workflow_steps SET lease_expires_at = 0 WHERE id = ?1",
                    [step],
                )
                .expect("expire the lease");
            })
            .await
            .expect("expire");
        }
    }
}
