//! The bare DAG queue `tasker bench` measures the engine against ([`Store::bare_dag_queue`]),
//! on SQLite: the same design as on PostgreSQL on the store's one connection, one transaction
//! per claim and one per completed batch, so that every ratio the bench prints comes from one
//! invocation.
//!
//! [`Store::bare_dag_queue`]: tasker_store::Store::bare_dag_queue

use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tasker_store::{BareMode, BareQueueReport, BareQueueSpec, BareShape, Error, Result};

/// Tasks per creating transaction in a throughput run.
const CREATE_CHUNK: u64 = 1_000;
/// History sequence numbers and state codes: pending, in_progress, complete.
const PENDING: (i64, i64) = (1, 0);
const IN_PROGRESS: (i64, i64) = (2, 1);
const COMPLETE: (i64, i64) = (3, 2);

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

pub(crate) fn bare_dag_queue(
    conn: &mut Connection,
    spec: BareQueueSpec,
) -> Result<BareQueueReport> {
    conn.execute_batch(queries::BENCH_BARE_CREATE).sql()?;
    let result = run(conn, spec);
    // The tables go whatever happened; the run's error comes first.
    let dropped = conn.execute_batch(queries::BENCH_BARE_DROP).sql();
    let report = result?;
    dropped?;
    Ok(report)
}

fn run(conn: &mut Connection, spec: BareQueueSpec) -> Result<BareQueueReport> {
    let steps_per_task = u64::from(spec.shape.steps());
    let mut queue = Queue {
        spec,
        claimed: HashSet::new(),
        claimed_twice: 0,
        completed: 0,
    };
    let mut create_time = Duration::ZERO;
    let mut latencies = Vec::new();
    let started = Instant::now();
    match spec.mode {
        BareMode::Throughput => {
            let mut next = 1;
            while next <= spec.tasks {
                let last = (next + CREATE_CHUNK - 1).min(spec.tasks);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .sql()?;
                for task in next..=last {
                    create(&tx, spec, task)?;
                }
                tx.commit().sql()?;
                next = last + 1;
            }
            create_time = started.elapsed();
            queue.run_until(conn, spec.tasks * steps_per_task)?;
        }
        BareMode::OneAtATime { warm_up } => {
            for task in 1..=warm_up + spec.tasks {
                let began = Instant::now();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .sql()?;
                create(&tx, spec, task)?;
                tx.commit().sql()?;
                queue.run_until(conn, task * steps_per_task)?;
                if task > warm_up {
                    latencies.push(began.elapsed());
                }
            }
        }
    }
    let run_time = started.elapsed().saturating_sub(create_time);
    let (completed, step_history, task_history): (i64, i64, i64) = conn
        .prepare_cached(queries::BENCH_BARE_RESULT)
        .sql()?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .sql()?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(BareQueueReport {
        workers: 1,
        steps_completed: count(completed),
        claimed_twice: queue.claimed_twice,
        step_history_rows: count(step_history),
        task_history_rows: count(task_history),
        create_time,
        run_time,
        latencies,
    })
}

/// Creates task `task`: its root step, its join counter, and with history their first rows.
fn create(tx: &Transaction<'_>, spec: BareQueueSpec, task: u64) -> Result<()> {
    let task = i64::try_from(task).map_err(|_| Error::Database("too many tasks".into()))?;
    let at = now_micros();
    release(tx, spec.history, task, 0, at)?;
    if let Some((_, parents)) = spec.shape.join() {
        tx.prepare_cached(queries::BENCH_BARE_JOIN)
            .sql()?
            .execute(params![task, parents])
            .sql()?;
    }
    if spec.history {
        history(tx, queries::BENCH_BARE_TASK_HISTORY, task, PENDING, at)?;
    }
    Ok(())
}

/// Step `step` of `task` becomes runnable.
fn release(tx: &Transaction<'_>, history_on: bool, task: i64, step: i16, at: i64) -> Result<()> {
    tx.prepare_cached(queries::BENCH_BARE_RELEASE)
        .sql()?
        .execute(params![task, step, at])
        .sql()?;
    if history_on {
        let id = tx.last_insert_rowid();
        history(tx, queries::BENCH_BARE_STEP_HISTORY, id, PENDING, at)?;
    }
    Ok(())
}

fn history(
    tx: &Transaction<'_>,
    statement: &str,
    owner: i64,
    (seq, state): (i64, i64),
    at: i64,
) -> Result<()> {
    tx.prepare_cached(statement)
        .sql()?
        .execute(params![owner, seq, state, at])
        .sql()?;
    Ok(())
}

struct Queue {
    spec: BareQueueSpec,
    claimed: HashSet<i64>,
    claimed_twice: u64,
    completed: u64,
}

impl Queue {
    /// Claims and completes batches until `target` steps are complete in all.
    fn run_until(&mut self, conn: &mut Connection, target: u64) -> Result<()> {
        while self.completed < target {
            let batch = self.claim(conn)?;
            if batch.is_empty() {
                return Err(Error::Database(format!(
                    "the bare queue has nothing runnable after {} of {target} steps",
                    self.completed
                )));
            }
            self.complete(conn, &batch)?;
        }
        Ok(())
    }

    fn claim(&mut self, conn: &mut Connection) -> Result<Vec<(i64, i64, i16)>> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        let at = now_micros();
        let batch = {
            let mut claim = tx.prepare_cached(queries::BENCH_BARE_CLAIM).sql()?;
            let mut rows = claim.query(params![self.spec.batch.max(1), at]).sql()?;
            let mut batch = Vec::new();
            while let Some(row) = rows.next().sql()? {
                batch.push((row.get(0).sql()?, row.get(1).sql()?, row.get(2).sql()?));
            }
            batch
        };
        if self.spec.history {
            for &(id, task, step) in &batch {
                history(&tx, queries::BENCH_BARE_STEP_HISTORY, id, IN_PROGRESS, at)?;
                if step == 0 {
                    history(&tx, queries::BENCH_BARE_TASK_HISTORY, task, IN_PROGRESS, at)?;
                }
            }
        }
        tx.commit().sql()?;
        for &(id, _, _) in &batch {
            if !self.claimed.insert(id) {
                self.claimed_twice += 1;
            }
        }
        Ok(batch)
    }

    fn complete(&mut self, conn: &mut Connection, batch: &[(i64, i64, i16)]) -> Result<()> {
        let shape: BareShape = self.spec.shape;
        let history_on = self.spec.history;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        let at = now_micros();
        for &(id, task, step) in batch {
            let changed = tx
                .prepare_cached(queries::BENCH_BARE_DONE)
                .sql()?
                .execute(params![id, at])
                .sql()?;
            if changed != 1 {
                return Err(Error::Database(format!(
                    "bare queue step {id} was not running when it completed"
                )));
            }
            if history_on {
                history(&tx, queries::BENCH_BARE_STEP_HISTORY, id, COMPLETE, at)?;
                if step == shape.sink() {
                    history(&tx, queries::BENCH_BARE_TASK_HISTORY, task, COMPLETE, at)?;
                }
            }
            for child in shape.direct_children(step) {
                release(&tx, history_on, task, child, at)?;
            }
            if shape.feeds_join(step) {
                let remaining: i64 = tx
                    .prepare_cached(queries::BENCH_BARE_COUNT_DOWN)
                    .sql()?
                    .query_row([task], |row| row.get(0))
                    .sql()?;
                if let (0, Some((join, _))) = (remaining, shape.join()) {
                    release(&tx, history_on, task, join, at)?;
                }
            }
        }
        tx.commit().sql()?;
        self.completed += batch.len() as u64;
        Ok(())
    }
}
