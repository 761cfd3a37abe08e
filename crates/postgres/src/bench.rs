//! What `tasker bench` needs beyond the engine's operations: end-state counts, bulk seeding of
//! finished history, and the ideal queue the engine is measured against.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::{self, get};
use crate::sql;
use serde_json::Value;
use std::time::{Duration, Instant};
use tasker_model::{State, TemplateId, Timestamp};
use tasker_store::{BaselineReport, Error, Result, StepLayout, TableCounts, seeding};

/// Tasks per seeding statement: large enough to amortise the round trip, small enough to keep
/// each transaction's footprint modest.
const SEED_CHUNK: u64 = 2_000;
/// Jobs per claim in the baseline queue, as the trait documents.
const BASELINE_BATCH: u32 = 100;

async fn counts_by_state(store: &PostgresStore, text: &str) -> Result<Vec<(State, i64)>> {
    let client = store.client().await?;
    let statement = client.prepare_cached(text).await.db()?;
    let mut counts = client
        .query(&statement, &[])
        .await
        .db()?
        .iter()
        .map(|row| Ok((rows::state_col(row, "state")?, get::<i64>(row, "n")?)))
        .collect::<Result<Vec<_>>>()?;
    counts.sort_by_key(|(state, _)| *state);
    Ok(counts)
}

pub(crate) async fn table_counts(store: &PostgresStore) -> Result<TableCounts> {
    let tasks_by_state = counts_by_state(store, sql::COUNT_TASKS_BY_STATE).await?;
    let steps_by_state = counts_by_state(store, sql::COUNT_STEPS_BY_STATE).await?;
    let client = store.client().await?;
    let statement = client.prepare_cached(sql::TABLE_COUNTS).await.db()?;
    let row = client.query_one(&statement, &[]).await.db()?;
    Ok(TableCounts {
        tasks_by_state,
        steps_by_state,
        task_transitions: get(&row, "task_transitions")?,
        current_task_transitions: get(&row, "current_task_transitions")?,
        step_transitions: get(&row, "step_transitions")?,
        current_step_transitions: get(&row, "current_step_transitions")?,
        edges: get(&row, "edges")?,
    })
}

pub(crate) async fn seed_completed_tasks(
    store: &PostgresStore,
    template_id: TemplateId,
    layout: &StepLayout,
    count: u64,
    now: Timestamp,
) -> Result<()> {
    let n = layout.steps.len();
    let mut total_parents = vec![0i32; n];
    let mut parents = Vec::with_capacity(layout.edges.len());
    let mut children = Vec::with_capacity(layout.edges.len());
    for &(parent, child) in &layout.edges {
        let (Ok(p), Ok(c)) = (i32::try_from(parent), i32::try_from(child)) else {
            return Err(Error::Database(format!(
                "edge {parent} -> {child} out of range"
            )));
        };
        if parent >= n || child >= n {
            return Err(Error::Database(format!(
                "edge {parent} -> {child} refers to a step outside the layout of {n} steps"
            )));
        }
        total_parents[child] += 1;
        parents.push(p);
        children.push(c);
    }
    let names: Vec<&str> = layout.steps.iter().map(|s| s.name.as_str()).collect();
    let handlers: Vec<&str> = layout.steps.iter().map(|s| s.handler.as_str()).collect();
    let queues: Vec<&str> = layout
        .steps
        .iter()
        .map(|s| s.queue.as_deref().unwrap_or(""))
        .collect();
    let positions: Vec<i32> = (0..n)
        .map(|i| i32::try_from(i).map_err(|_| Error::Database("layout too large".into())))
        .collect::<Result<_>>()?;
    let max_attempts: Vec<i32> = layout.steps.iter().map(|s| s.max_attempts).collect();
    let retryable: Vec<bool> = layout.steps.iter().map(|s| s.retryable).collect();
    let inputs: Vec<Option<&Value>> = layout.steps.iter().map(|s| s.inputs.as_ref()).collect();
    // When each seeded task and step ran: tasker_store::seeding, in SQL.
    let levels = seeding::levels(layout);
    let depth: i64 = levels.iter().max().map_or(1, |deepest| deepest + 1);
    let total = i64::try_from(count).map_err(|_| Error::Database("too many tasks".into()))?;

    let client = store.client().await?;
    let statement = client
        .prepare_cached(sql::SEED_COMPLETED_TASKS)
        .await
        .db()?;
    let mut left = count;
    while left > 0 {
        let chunk = left.min(SEED_CHUNK);
        // Fits: below `total`, an i64.
        let first = (count - left) as i64;
        let chunk_i64 =
            i64::try_from(chunk).map_err(|_| Error::Database("chunk too large".into()))?;
        client
            .execute(
                &statement,
                &[
                    &template_id,
                    &chunk_i64,
                    &now,
                    &names,
                    &positions,
                    &max_attempts,
                    &retryable,
                    &total_parents,
                    &inputs,
                    &parents,
                    &children,
                    &levels,
                    &first,
                    &total,
                    &depth,
                    &handlers,
                    &queues,
                ],
            )
            .await
            .db()?;
        left -= chunk;
    }
    Ok(())
}

pub(crate) async fn baseline_queue(
    store: &PostgresStore,
    jobs: u64,
    workers: usize,
) -> Result<BaselineReport> {
    let jobs_i64 = i64::try_from(jobs).map_err(|_| Error::Database("too many jobs".into()))?;
    let workers = workers.max(1);
    let setup = store.client().await?;
    setup.batch_execute(sql::BASELINE_CREATE).await.db()?;
    let started = Instant::now();
    setup
        .execute(sql::BASELINE_INSERT, &[&jobs_i64])
        .await
        .db()?;
    setup
        .batch_execute("ANALYZE tasker_baseline_jobs")
        .await
        .db()?;
    let insert_time = started.elapsed();
    drop(setup);

    let started = Instant::now();
    let runs = (0..workers).map(|_| baseline_worker(store));
    let outcome = futures::future::try_join_all(runs).await;
    let run_time = started.elapsed();

    let client = store.client().await?;
    let counted = match outcome {
        Ok(_) => client.query_one(sql::BASELINE_RESULT, &[]).await.db(),
        Err(e) => Err(e),
    };
    // The table goes whatever happened.
    let dropped = client.batch_execute(sql::BASELINE_DROP).await.db();
    let row = counted?;
    dropped?;
    let as_u64 = |column: &str| -> Result<u64> {
        u64::try_from(get::<i64>(&row, column)?)
            .map_err(|_| Error::Corrupt(format!("negative count in {column}")))
    };
    Ok(BaselineReport {
        jobs,
        workers,
        batch: BASELINE_BATCH,
        completed: as_u64("completed")?,
        claimed_twice: as_u64("claimed_twice")?,
        insert_time,
        run_time,
    })
}

/// One worker of the baseline queue, on a connection of its own: claim, mark done, repeat.
async fn baseline_worker(store: &PostgresStore) -> Result<Duration> {
    let client = store.client().await?;
    let claim = client.prepare_cached(sql::BASELINE_CLAIM).await.db()?;
    let complete = client.prepare_cached(sql::BASELINE_COMPLETE).await.db()?;
    let started = Instant::now();
    loop {
        let ids = rows::ids(
            &client
                .query(&claim, &[&i64::from(BASELINE_BATCH)])
                .await
                .db()?,
        )?;
        if ids.is_empty() {
            return Ok(started.elapsed());
        }
        client.execute(&complete, &[&ids]).await.db()?;
    }
}
