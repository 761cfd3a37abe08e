//! The store methods behind `tasker bench`: end-state counts, bulk seeding of finished
//! history, and the ideal job queue the engine is measured against.

use crate::codec::{self, micros};
use crate::connection::{self, Location};
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::{Duration, Instant};
use tasker_model::{State, TemplateId, Timestamp};
use tasker_store::{BaselineReport, Error, Result, StepLayout, TableCounts, seeding};

fn by_state(conn: &Connection, sql: &str) -> Result<Vec<(State, i64)>> {
    let mut stmt = conn.prepare_cached(sql).sql()?;
    let mut rows = stmt.query([]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push((codec::state_at(row, 0)?, row.get(1).sql()?));
    }
    out.sort_by_key(|(state, _)| *state);
    Ok(out)
}

pub(crate) fn table_counts(conn: &Connection) -> Result<TableCounts> {
    let (task_transitions, current_task, step_transitions, current_step, edges) = conn
        .prepare_cached(queries::BENCH_TABLE_COUNTS)
        .sql()?
        .query_row([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .sql()?;
    Ok(TableCounts {
        tasks_by_state: by_state(conn, queries::TASKS_COUNT_BY_STATE)?,
        steps_by_state: by_state(conn, queries::BENCH_STEPS_BY_STATE)?,
        task_transitions,
        current_task_transitions: current_task,
        step_transitions,
        current_step_transitions: current_step,
        edges,
    })
}

/// Tasks per transaction: big enough to amortize commits, small enough to let other
/// connections in between.
const SEED_CHUNK: u64 = 1_000;

pub(crate) fn seed_completed_tasks(
    conn: &mut Connection,
    template_id: TemplateId,
    layout: &StepLayout,
    count: u64,
    now: Timestamp,
) -> Result<()> {
    let at = micros(now);
    let steps_total = i32::try_from(layout.steps.len())
        .map_err(|_| Error::Database("too many steps in one task".into()))?;
    let mut parents = vec![0i32; layout.steps.len()];
    for &(from, to) in &layout.edges {
        let slot = parents.get_mut(to).ok_or_else(|| {
            Error::Database(format!(
                "edge ({from}, {to}) names a step outside the layout"
            ))
        })?;
        *slot += 1;
    }
    let inputs: Vec<Option<String>> = layout
        .steps
        .iter()
        .map(|s| s.inputs.as_ref().map(codec::to_text))
        .collect();
    // When each seeded task and step ran: tasker_store::seeding.
    let levels = seeding::levels(layout);
    let depth = levels.iter().max().map_or(1, |deepest| deepest + 1);
    let total = i64::try_from(count).map_err(|_| Error::Database("too many tasks".into()))?;
    let mut done = 0;
    while done < count {
        let chunk = SEED_CHUNK.min(count - done);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        {
            let mut task = tx.prepare_cached(queries::BENCH_SEED_TASK).sql()?;
            let mut task_history = tx.prepare_cached(queries::BENCH_SEED_TASK_HISTORY).sql()?;
            let mut step = tx.prepare_cached(queries::BENCH_SEED_STEP).sql()?;
            let mut step_history = tx.prepare_cached(queries::BENCH_SEED_STEP_HISTORY).sql()?;
            let mut edge = tx.prepare_cached(queries::BENCH_SEED_EDGE).sql()?;
            let mut ids = Vec::with_capacity(layout.steps.len());
            for k in done..done + chunk {
                // k < count, which fits an i64.
                let times = seeding::task_times(k as i64, total, at, depth);
                task.execute(params![
                    template_id,
                    steps_total,
                    times.created_at,
                    times.completed_at
                ])
                .sql()?;
                let task_id = tx.last_insert_rowid();
                task_history
                    .execute(params![task_id, times.created_at, times.completed_at])
                    .sql()?;
                ids.clear();
                for (position, spec) in layout.steps.iter().enumerate() {
                    let ran =
                        seeding::step_times(task_id, position as i64, levels[position], times);
                    step.execute(params![
                        task_id,
                        position as i64,
                        spec.name,
                        spec.max_attempts,
                        spec.retryable,
                        parents[position],
                        times.created_at,
                        inputs[position],
                        ran.ready_at,
                        ran.attempted_at,
                        ran.completed_at,
                        spec.handler,
                        spec.queue.as_deref().unwrap_or("")
                    ])
                    .sql()?;
                    let step_id = tx.last_insert_rowid();
                    step_history
                        .execute(params![
                            step_id,
                            times.created_at,
                            ran.attempted_at,
                            ran.completed_at
                        ])
                        .sql()?;
                    ids.push(step_id);
                }
                for &(from, to) in &layout.edges {
                    edge.execute([ids[from], ids[to]]).sql()?;
                }
            }
        }
        tx.commit().sql()?;
        done += chunk;
    }
    Ok(())
}

const QUEUE_BATCH: u32 = 100;

/// Claim and finish jobs until none is left; returns how many this worker finished.
fn queue_worker(conn: &mut Connection) -> Result<u64> {
    let mut finished = 0u64;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare_cached(queries::BENCH_QUEUE_CLAIM).sql()?;
            let mut rows = stmt.query([QUEUE_BATCH]).sql()?;
            let mut ids = Vec::new();
            while let Some(row) = rows.next().sql()? {
                ids.push(row.get(0).sql()?);
            }
            ids
        };
        tx.commit().sql()?;
        if ids.is_empty() {
            return Ok(finished);
        }
        let list = serde_json::to_string(&ids)
            .map_err(|e| Error::Database(format!("encoding job ids: {e}")))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        finished += tx
            .prepare_cached(queries::BENCH_QUEUE_DONE)
            .sql()?
            .execute([list])
            .sql()? as u64;
        tx.commit().sql()?;
    }
}

pub(crate) fn baseline_queue(
    conn: &mut Connection,
    location: &Location,
    jobs: u64,
    workers: usize,
) -> Result<BaselineReport> {
    conn.execute_batch(queries::BENCH_QUEUE_CREATE).sql()?;
    let result = run_queue(conn, location, jobs, workers);
    // Drop the table whatever happened, and report the run's error first.
    let dropped = conn.execute_batch(queries::BENCH_QUEUE_DROP).sql();
    let report = result?;
    dropped?;
    Ok(report)
}

fn run_queue(
    conn: &mut Connection,
    location: &Location,
    jobs: u64,
    workers: usize,
) -> Result<BaselineReport> {
    let started = Instant::now();
    {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sql()?;
        {
            let mut insert = tx.prepare_cached(queries::BENCH_QUEUE_INSERT).sql()?;
            for id in 1..=jobs {
                let id = i64::try_from(id)
                    .map_err(|_| Error::Database("too many baseline jobs".into()))?;
                insert.execute([id]).sql()?;
            }
        }
        tx.commit().sql()?;
    }
    let insert_time = started.elapsed();

    // An in-memory database lives on this one connection: it is the only worker possible.
    let workers = match location {
        Location::Memory => 1,
        Location::File(_) => workers.max(1),
    };
    let started = Instant::now();
    if workers == 1 {
        queue_worker(conn)?;
    } else {
        let mut connections = Vec::with_capacity(workers);
        for _ in 0..workers {
            connections.push(connection::open(location)?);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = connections
                .iter_mut()
                .map(|worker| scope.spawn(move || queue_worker(worker)))
                .collect();
            handles.into_iter().try_for_each(|handle| {
                handle
                    .join()
                    .map_err(|_| Error::Database("a baseline queue worker panicked".into()))?
                    .map(drop)
            })
        })?;
    }
    let run_time: Duration = started.elapsed();
    let (completed, claimed_twice): (i64, i64) = conn
        .prepare_cached(queries::BENCH_QUEUE_REPORT)
        .sql()?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .sql()?;
    Ok(BaselineReport {
        jobs,
        workers,
        batch: QUEUE_BATCH,
        completed: completed.max(0) as u64,
        claimed_twice: claimed_twice.max(0) as u64,
        insert_time,
        run_time,
    })
}
