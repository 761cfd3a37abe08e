//! Claiming runnable steps: one indexed range read under `FOR UPDATE SKIP LOCKED`, so
//! concurrent claimers in other processes never wait for each other or claim a step twice.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::get;
use crate::sql;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tasker_model::Timestamp;
use tasker_store::{ClaimFilter, ClaimRequest, ClaimedStep, Error, Result};
use tokio_postgres::Row;

/// A claim filter as the statements bind it: the queue (`''`: in-process) and the distinct
/// handlers (`None`: any handler of the queue).
pub(crate) struct BoundFilter<'a> {
    pub(crate) queue: &'a str,
    pub(crate) handlers: Option<Vec<&'a str>>,
}

impl<'a> BoundFilter<'a> {
    pub(crate) fn new(filter: &'a ClaimFilter) -> Self {
        let handlers = filter.handlers.as_ref().map(|handlers| {
            // A handler named twice would be read (and its rows locked) twice.
            let mut names: Vec<&str> = handlers.iter().map(String::as_str).collect();
            names.sort_unstable();
            names.dedup();
            names
        });
        BoundFilter {
            queue: filter.queue.as_deref().unwrap_or(""),
            handlers,
        }
    }
}

pub(crate) async fn claim_steps(
    store: &PostgresStore,
    request: &ClaimRequest,
) -> Result<Vec<ClaimedStep>> {
    if request.limit == 0 {
        return Ok(Vec::new());
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    let statement = match request.only_task {
        None => sql::CLAIM_STEPS,
        Some(_) => sql::CLAIM_TASK_STEPS,
    };
    let claim = tx.prepare_cached(statement).await.db()?;
    // The size of the last claim predicts this one's: planned for its values under load,
    // generic when steps come one at a time. Sent together with the claim, which runs after.
    let expected = store.last_claim_size.load(Ordering::Relaxed);
    let planning = async { tx.batch_execute(sql::plan_mode(expected)).await.db() };
    let filter = BoundFilter::new(&request.filter);
    let claiming = async {
        let limit = i64::from(request.limit);
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![
            &request.now,
            &limit,
            &request.owner,
            &request.lease_expires_at,
        ];
        if let Some(task) = &request.only_task {
            params.push(task);
        }
        params.push(&filter.queue);
        params.push(&filter.handlers);
        tx.query(&claim, &params).await.db()
    };
    let ((), rows) = futures::try_join!(planning, claiming)?;
    let claimed = claimed_steps(&rows, request.lease_expires_at)?;
    tx.commit().await.db()?;
    store
        .last_claim_size
        .store(claimed.len(), Ordering::Relaxed);
    Ok(claimed)
}

/// What a claim reads once per task, shared by the task's claimed steps.
struct ClaimedTask {
    context: Arc<Value>,
    traceparent: Option<Arc<str>>,
    created_at: Timestamp,
}

/// The steps a claim statement (`claim_picked.sql`) returned, with the tasks it started.
pub(crate) fn claimed_steps(rows: &[Row], lease_expires_at: Timestamp) -> Result<Vec<ClaimedStep>> {
    // Started tasks and the contexts of the batch's tasks come first (the statement orders
    // them so), then the claimed steps. Each context is read once and shared by its steps.
    let mut started: HashSet<i64> = HashSet::new();
    let mut tasks: HashMap<i64, ClaimedTask> = HashMap::new();
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let task_id: i64 = get(row, "task_id")?;
        match get::<&str>(row, "kind")? {
            "task_started" => {
                started.insert(task_id);
                continue;
            }
            "task_context" => {
                let traceparent: Option<&str> = get(row, "traceparent")?;
                tasks.insert(
                    task_id,
                    ClaimedTask {
                        context: Arc::new(get(row, "context")?),
                        traceparent: traceparent.map(Arc::from),
                        created_at: get(row, "task_created_at")?,
                    },
                );
                continue;
            }
            _ => {}
        }
        let task = tasks.get(&task_id).ok_or_else(|| {
            Error::Database(format!("the claim returned no context for task {task_id}"))
        })?;
        let step_id: i64 = get(row, "id")?;
        let attempt: i32 = get(row, "attempts")?;
        // Several steps of one task may be claimed together; the first reports the start.
        let task_started = started.remove(&task_id);
        // A root has no parents: the aggregates over no rows are null.
        let names: Vec<String> = get::<Option<_>>(row, "parent_names")?.unwrap_or_default();
        let results: Vec<Value> = get::<Option<_>>(row, "parent_results")?.unwrap_or_default();
        claimed.push(ClaimedStep {
            step_id,
            task_id,
            template_id: get(row, "template_id")?,
            name: get(row, "name")?,
            handler: get(row, "handler")?,
            attempt,
            max_attempts: get(row, "max_attempts")?,
            retryable: get(row, "retryable")?,
            lease_expires_at,
            inputs: get(row, "inputs")?,
            task_context: Arc::clone(&task.context),
            parent_results: names.into_iter().zip(results).collect(),
            task_started,
            traceparent: task.traceparent.clone(),
            ready_at: get(row, "ready_at")?,
            task_created_at: task.created_at,
        });
    }
    Ok(claimed)
}
