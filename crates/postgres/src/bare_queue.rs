//! The bare DAG queue `tasker bench` measures the engine against ([`Store::bare_dag_queue`]):
//! the same workloads in the same database with nothing of the engine, so that every ratio the
//! bench prints comes from one invocation.
//!
//! [`Store::bare_dag_queue`]: tasker_store::Store::bare_dag_queue

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::{self, get};
use crate::sql;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tasker_store::{BareMode, BareQueueReport, BareQueueSpec, BareShape, Error, Result};
use tokio::sync::watch;

/// Tasks per creating statement in a throughput run.
const CREATE_CHUNK: i64 = 1_000;
/// How long an idle worker sleeps before claiming again.
const IDLE: Duration = Duration::from_millis(1);
/// A run that completes nothing for this long has lost work: fail instead of hanging.
const STALL: Duration = Duration::from_secs(60);

/// The shape as statement parameters.
struct ShapeParams {
    parents: Vec<i16>,
    children: Vec<i16>,
    join: i16,
    join_parents: i32,
    sink: i16,
}

impl ShapeParams {
    fn of(shape: BareShape) -> ShapeParams {
        let (join, join_parents) = shape.join().unwrap_or((-1, 0));
        ShapeParams {
            parents: shape.edges().iter().map(|(p, _)| *p).collect(),
            children: shape.edges().iter().map(|(_, c)| *c).collect(),
            join,
            join_parents,
            sink: shape.sink(),
        }
    }
}

/// What the workers share: completed steps (watched by the one-at-a-time driver), and when to
/// stop.
struct Shared {
    completed: watch::Sender<u64>,
    stop: AtomicBool,
}

pub(crate) async fn bare_dag_queue(
    store: &PostgresStore,
    spec: BareQueueSpec,
) -> Result<BareQueueReport> {
    let setup = store.client().await?;
    setup.batch_execute(sql::BARE_DAG_CREATE).await.db()?;
    drop(setup);
    let result = run(store, spec).await;
    // The tables go whatever happened; the run's error comes first.
    let client = store.client().await?;
    let dropped = client.batch_execute(sql::BARE_DAG_DROP).await.db();
    let report = result?;
    dropped?;
    Ok(report)
}

async fn run(store: &PostgresStore, spec: BareQueueSpec) -> Result<BareQueueReport> {
    let shape = ShapeParams::of(spec.shape);
    let steps_per_task = u64::from(spec.shape.steps());
    let workers = spec.workers.max(1);
    let (completed, _) = watch::channel(0u64);
    let shared = Arc::new(Shared {
        completed,
        stop: AtomicBool::new(false),
    });
    let driver = store.client().await?;
    let insert = driver.prepare_cached(sql::BARE_DAG_INSERT).await.db()?;
    let create = |first: i64, count: i64| {
        let (driver, insert, shape, history) = (&driver, &insert, &shape, spec.history);
        async move {
            driver
                .execute(
                    insert,
                    &[&first, &count, &shape.join, &shape.join_parents, &history],
                )
                .await
                .db()
        }
    };

    let mut create_time = Duration::ZERO;
    let mut latencies = Vec::new();
    let started;
    let claimed: Vec<Vec<i64>>;
    match spec.mode {
        BareMode::Throughput => {
            let tasks =
                i64::try_from(spec.tasks).map_err(|_| Error::Database("too many tasks".into()))?;
            started = Instant::now();
            let mut next = 1;
            while next <= tasks {
                let count = CREATE_CHUNK.min(tasks - next + 1);
                create(next, count).await?;
                next += count;
            }
            create_time = started.elapsed();
            let expected = spec.tasks * steps_per_task;
            claimed = futures::future::try_join_all(
                (0..workers).map(|_| worker(store, &spec, &shape, &shared, Some(expected))),
            )
            .await?;
        }
        BareMode::OneAtATime { warm_up } => {
            started = Instant::now();
            let runs = (0..workers)
                .map(|_| worker(store, &spec, &shape, &shared, None))
                .collect::<Vec<_>>();
            let drive = async {
                let mut done = shared.completed.subscribe();
                let total = warm_up + spec.tasks;
                latencies.reserve(usize::try_from(spec.tasks).unwrap_or(0));
                let outcome = async {
                    for task in 1..=total {
                        let began = Instant::now();
                        let id = i64::try_from(task)
                            .map_err(|_| Error::Database("too many tasks".into()))?;
                        create(id, 1).await?;
                        let target = task * steps_per_task;
                        tokio::time::timeout(STALL, done.wait_for(|n| *n >= target))
                            .await
                            .map_err(|_| {
                                Error::Database(format!("bare queue task {task} did not complete"))
                            })?
                            .map_err(|_| Error::Database("bare queue workers stopped".into()))?;
                        if task > warm_up {
                            latencies.push(began.elapsed());
                        }
                    }
                    Ok::<(), Error>(())
                }
                .await;
                shared.stop.store(true, Ordering::Release);
                outcome
            };
            let (drove, ran) = tokio::join!(drive, futures::future::try_join_all(runs));
            drove?;
            claimed = ran?;
        }
    }
    let run_time = started.elapsed().saturating_sub(create_time);
    drop(driver);

    let claimed_total: usize = claimed.iter().map(Vec::len).sum();
    let mut unique = HashSet::with_capacity(claimed_total);
    let claimed_twice = claimed
        .iter()
        .flatten()
        .filter(|id| !unique.insert(**id))
        .count() as u64;
    let client = store.client().await?;
    let row = client.query_one(sql::BARE_DAG_RESULT, &[]).await.db()?;
    let count = |column: &str| -> Result<u64> {
        u64::try_from(get::<i64>(&row, column)?)
            .map_err(|_| Error::Corrupt(format!("negative count in {column}")))
    };
    Ok(BareQueueReport {
        workers,
        steps_completed: count("completed")?,
        claimed_twice,
        step_history_rows: count("step_history")?,
        task_history_rows: count("task_history")?,
        create_time,
        run_time,
        latencies,
    })
}

/// One worker on a connection of its own: claim a batch, complete it, repeat; sleep 1 ms when
/// nothing is runnable. Stops when `expected` steps are complete or when told to. Returns the
/// ids it claimed, for the exactly-once check.
async fn worker(
    store: &PostgresStore,
    spec: &BareQueueSpec,
    shape: &ShapeParams,
    shared: &Shared,
    expected: Option<u64>,
) -> Result<Vec<i64>> {
    let client = store.client().await?;
    let claim = client.prepare_cached(sql::BARE_DAG_CLAIM).await.db()?;
    let complete = client.prepare_cached(sql::BARE_DAG_COMPLETE).await.db()?;
    let limit = i64::from(spec.batch.max(1));
    let mut claimed = Vec::new();
    let mut idle_since: Option<Instant> = None;
    loop {
        let ids = rows::ids(&client.query(&claim, &[&limit, &spec.history]).await.db()?)?;
        if ids.is_empty() {
            let finished = match expected {
                Some(total) => *shared.completed.borrow() >= total,
                None => shared.stop.load(Ordering::Acquire),
            };
            if finished {
                return Ok(claimed);
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if expected.is_some() && since.elapsed() > STALL {
                return Err(Error::Database(
                    "the bare queue completed nothing for a minute".into(),
                ));
            }
            tokio::time::sleep(IDLE).await;
            continue;
        }
        idle_since = None;
        let row = client
            .query_one(
                &complete,
                &[
                    &ids,
                    &shape.parents,
                    &shape.children,
                    &shape.join,
                    &shape.sink,
                    &spec.history,
                ],
            )
            .await
            .db()?;
        let completed = get::<i64>(&row, "completed")?;
        if usize::try_from(completed).ok() != Some(ids.len()) {
            return Err(Error::Database(format!(
                "the bare queue completed {completed} of {} claimed steps",
                ids.len()
            )));
        }
        shared.completed.send_modify(|n| *n += ids.len() as u64);
        claimed.extend(ids);
    }
}
