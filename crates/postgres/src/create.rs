//! Task creation: a whole batch of tasks, with their steps, edges and first transitions, in one
//! transaction of a few statements.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::get;
use crate::sql;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use tasker_model::{TaskId, Timestamp};
use tasker_store::{CreatedTask, Error, NewTask, Result};

/// The batch as parallel arrays, one per column, ready for `unnest`.
#[derive(Default)]
struct Columns<'a> {
    task_ids: Vec<i64>,
    template_ids: Vec<i64>,
    contexts: Vec<&'a Value>,
    identity_hashes: Vec<Option<&'a str>>,
    idempotency_keys: Vec<Option<&'a str>>,
    traceparents: Vec<Option<&'a str>>,
    steps_total: Vec<i32>,
    step_ids: Vec<i64>,
    step_task_ids: Vec<i64>,
    positions: Vec<i32>,
    names: Vec<&'a str>,
    handlers: Vec<&'a str>,
    /// `""` for an in-process step (a queue name is never empty).
    queues: Vec<&'a str>,
    max_attempts: Vec<i32>,
    retryable: Vec<bool>,
    total_parents: Vec<i32>,
    inputs: Vec<Option<&'a Value>>,
    edge_from: Vec<i64>,
    edge_to: Vec<i64>,
    edge_task_ids: Vec<i64>,
}

fn count(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::Database(format!("too many {what} in one batch: {n}")))
}

impl<'a> Columns<'a> {
    fn push_task(&mut self, id: TaskId, task: &'a NewTask, step_ids: &[i64]) -> Result<()> {
        let layout = &task.layout;
        let n = layout.steps.len();
        self.task_ids.push(id);
        self.template_ids.push(task.template_id);
        self.contexts.push(&task.context);
        self.identity_hashes.push(task.identity_hash.as_deref());
        self.idempotency_keys.push(task.idempotency_key.as_deref());
        self.traceparents.push(task.traceparent.as_deref());
        self.steps_total.push(count(n, "steps")?);
        let mut parents = vec![0i32; n];
        for &(parent, child) in &layout.edges {
            let (Some(&from), Some(&to)) = (step_ids.get(parent), step_ids.get(child)) else {
                return Err(Error::Database(format!(
                    "edge {parent} -> {child} refers to a step outside the layout of {n} steps"
                )));
            };
            parents[child] += 1;
            self.edge_from.push(from);
            self.edge_to.push(to);
            self.edge_task_ids.push(id);
        }
        for (position, (step, &step_id)) in layout.steps.iter().zip(step_ids).enumerate() {
            self.step_ids.push(step_id);
            self.step_task_ids.push(id);
            self.positions.push(count(position, "steps")?);
            self.names.push(&step.name);
            self.handlers.push(&step.handler);
            self.queues.push(step.queue.as_deref().unwrap_or(""));
            self.max_attempts.push(step.max_attempts);
            self.retryable.push(step.retryable);
            self.total_parents.push(parents[position]);
            self.inputs.push(step.inputs.as_ref());
        }
        Ok(())
    }
}

pub(crate) async fn create_tasks(
    store: &PostgresStore,
    tasks: &[NewTask],
    now: Timestamp,
) -> Result<Vec<CreatedTask>> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    // Within the batch, the first task with a given identity stands for the later ones.
    let mut seen = HashSet::new();
    let unique: Vec<usize> = (0..tasks.len())
        .filter(|&i| match &tasks[i].identity_hash {
            Some(hash) => seen.insert(hash.as_str()),
            None => true,
        })
        .collect();
    let step_count: usize = unique.iter().map(|&i| tasks[i].layout.steps.len()).sum();

    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    let allocate = tx.prepare_cached(sql::ALLOCATE_IDS).await.db()?;
    let ids = tx
        .query_one(
            &allocate,
            &[&count(unique.len(), "tasks")?, &count(step_count, "steps")?],
        )
        .await
        .db()?;
    let mut task_ids: Vec<i64> = get(&ids, "task_ids")?;
    let mut step_ids: Vec<i64> = get(&ids, "step_ids")?;
    if task_ids.len() != unique.len() || step_ids.len() != step_count {
        return Err(Error::Database("id allocation returned too few ids".into()));
    }
    // Ascending ids keep claim order (ready_at, id) in creation order.
    task_ids.sort_unstable();
    step_ids.sort_unstable();

    let mut columns = Columns::default();
    let mut offset = 0;
    for (&index, &task_id) in unique.iter().zip(&task_ids) {
        let n = tasks[index].layout.steps.len();
        columns.push_task(task_id, &tasks[index], &step_ids[offset..offset + n])?;
        offset += n;
    }
    let c = &columns;
    let create = tx.prepare_cached(sql::CREATE_TASKS).await.db()?;
    let rows = tx
        .query(
            &create,
            &[
                &now,
                &c.task_ids,
                &c.template_ids,
                &c.contexts,
                &c.identity_hashes,
                &c.idempotency_keys,
                &c.steps_total,
                &c.step_ids,
                &c.step_task_ids,
                &c.positions,
                &c.names,
                &c.max_attempts,
                &c.retryable,
                &c.total_parents,
                &c.inputs,
                &c.edge_from,
                &c.edge_to,
                &c.edge_task_ids,
                &c.traceparents,
                &c.handlers,
                &c.queues,
            ],
        )
        .await
        .db()?;
    let inserted: HashSet<i64> = rows
        .iter()
        .map(|row| get(row, "id"))
        .collect::<Result<_>>()?;

    // Tasks whose identity was taken: the existing task answers for them.
    let taken: Vec<&str> = unique
        .iter()
        .zip(&task_ids)
        .filter(|(_, id)| !inserted.contains(id))
        .filter_map(|(&i, _)| tasks[i].identity_hash.as_deref())
        .collect();
    let mut by_hash: HashMap<String, i64> = HashMap::new();
    let mut taken_contexts: HashMap<String, Value> = HashMap::new();
    if !taken.is_empty() {
        let find = tx.prepare_cached(sql::FIND_TASKS_BY_IDENTITY).await.db()?;
        for row in tx.query(&find, &[&taken]).await.db()? {
            let hash: String = get(&row, "identity_hash")?;
            by_hash.insert(hash.clone(), get(&row, "id")?);
            taken_contexts.insert(hash, get(&row, "context")?);
        }
    }
    // A key reused with another context (against an earlier task or an earlier item of this
    // batch) is not a retry: refuse the whole batch. Returning before the commit rolls back.
    let mut first_in_batch: HashMap<&str, usize> = HashMap::new();
    for (index, task) in tasks.iter().enumerate() {
        let (Some(hash), Some(_)) = (task.identity_hash.as_deref(), &task.idempotency_key) else {
            continue;
        };
        let first = *first_in_batch.entry(hash).or_insert(index);
        let standing = match taken_contexts.get(hash) {
            Some(context) => (context, by_hash.get(hash).copied().unwrap_or_default()),
            None if first != index => (
                &tasks[first].context,
                own_task_id(&unique, &task_ids, first),
            ),
            None => continue,
        };
        if *standing.0 != task.context {
            let id = standing.1;
            return Err(Error::IdempotencyConflict { index, task: id });
        }
    }
    tx.commit().await.db()?;
    if !inserted.is_empty() {
        store.hinter.hint_committed();
    }

    let mut own_ids: HashMap<usize, i64> = HashMap::new();
    for (&index, &task_id) in unique.iter().zip(&task_ids) {
        if inserted.contains(&task_id) {
            own_ids.insert(index, task_id);
            if let Some(hash) = &tasks[index].identity_hash {
                by_hash.insert(hash.clone(), task_id);
            }
        }
    }
    tasks
        .iter()
        .enumerate()
        .map(|(index, task)| {
            if let Some(&id) = own_ids.get(&index) {
                return Ok(CreatedTask { id, created: true });
            }
            task.identity_hash
                .as_ref()
                .and_then(|hash| by_hash.get(hash))
                .map(|&id| CreatedTask { id, created: false })
                .ok_or_else(|| {
                    Error::Conflict(
                        "a task with the same identity was created and removed concurrently".into(),
                    )
                })
        })
        .collect()
}

/// The id this call gave the batch's `index`-th task (0 when it was not inserted).
fn own_task_id(unique: &[usize], task_ids: &[i64], index: usize) -> i64 {
    unique
        .iter()
        .zip(task_ids)
        .find(|(i, _)| **i == index)
        .map_or(0, |(_, &id)| id)
}
