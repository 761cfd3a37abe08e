//! Task creation and the read side of tasks, steps and their history.

use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::{history, queries};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use std::collections::HashMap;
use tasker_model::{State, StepRecord, TaskRecord, Timestamp, TransitionRecord};
use tasker_store::{CreatedTask, Error, NewTask, Result, TaskFilter};

pub(crate) fn create(
    conn: &mut Connection,
    tasks: &[NewTask],
    now: Timestamp,
) -> Result<Vec<CreatedTask>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let mut known_templates = Vec::new();
    for task in tasks {
        if known_templates.contains(&task.template_id) {
            continue;
        }
        let exists: bool = tx
            .prepare_cached(queries::TEMPLATE_EXISTS)
            .sql()?
            .query_row([task.template_id], |row| row.get(0))
            .sql()?;
        if !exists {
            return Err(Error::NotFound {
                what: "template",
                id: task.template_id.to_string(),
            });
        }
        known_templates.push(task.template_id);
    }
    let mut created = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        // An error returns before the commit: the transaction rolls back, nothing is written.
        created.push(create_one(&tx, index, task, now)?);
    }
    tx.commit().sql()?;
    Ok(created)
}

fn create_one(
    conn: &Connection,
    index: usize,
    task: &NewTask,
    now: Timestamp,
) -> Result<CreatedTask> {
    if let Some(hash) = &task.identity_hash {
        // Earlier tasks of the same batch are visible here: they are in this transaction.
        let existing: Option<(i64, String)> = conn
            .prepare_cached(queries::TASK_FIND_IDENTITY)
            .sql()?
            .query_row([hash], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .sql()?;
        if let Some((id, context)) = existing {
            // A key reused with another context is not a retry of the first request.
            if task.idempotency_key.is_some() && codec::json(&context)? != task.context {
                return Err(Error::IdempotencyConflict { index, task: id });
            }
            return Ok(CreatedTask { id, created: false });
        }
    }
    let layout = &task.layout;
    let step_count = i32::try_from(layout.steps.len())
        .map_err(|_| Error::Database("too many steps in one task".into()))?;
    let at = micros(now);
    conn.prepare_cached(queries::CREATE_TASKS)
        .sql()?
        .execute(params![
            task.template_id,
            codec::to_text(&task.context),
            task.identity_hash,
            task.idempotency_key,
            step_count,
            at,
            task.traceparent
        ])
        .sql()?;
    let task_id = conn.last_insert_rowid();
    let empty = json!({});
    history::task(conn, task_id, None, State::Pending, 1, &empty, now)?;

    let mut parents = vec![0i32; layout.steps.len()];
    for &(from, to) in &layout.edges {
        let count = parents.get_mut(to).ok_or_else(|| {
            Error::Database(format!(
                "edge ({from}, {to}) names a step outside the layout"
            ))
        })?;
        *count += 1;
    }
    let mut ids = Vec::with_capacity(layout.steps.len());
    {
        let mut insert = conn.prepare_cached(queries::CREATE_STEPS).sql()?;
        for (position, (step, &parent_count)) in layout.steps.iter().zip(&parents).enumerate() {
            let ready_at = (parent_count == 0).then_some(at);
            insert
                .execute(params![
                    task_id,
                    position as i64,
                    step.name,
                    step.max_attempts,
                    step.retryable,
                    parent_count,
                    ready_at,
                    step.inputs.as_ref().map(codec::to_text),
                    at,
                    step.handler,
                    step.queue.as_deref().unwrap_or("")
                ])
                .sql()?;
            ids.push(conn.last_insert_rowid());
        }
    }
    {
        let mut insert = conn.prepare_cached(queries::CREATE_EDGES).sql()?;
        for &(from, to) in &layout.edges {
            let (Some(parent), Some(child)) = (ids.get(from), ids.get(to)) else {
                return Err(Error::Database(format!(
                    "edge ({from}, {to}) names a step outside the layout"
                )));
            };
            insert.execute([parent, child]).sql()?;
        }
    }
    for &id in &ids {
        history::step(conn, id, None, State::Pending, 1, &empty, now)?;
    }
    Ok(CreatedTask {
        id: task_id,
        created: true,
    })
}

pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<Option<TaskRecord>> {
    let mut stmt = conn.prepare_cached(queries::TASK_BY_ID).sql()?;
    let mut rows = stmt.query([id]).sql()?;
    match rows.next().sql()? {
        Some(row) => codec::task(row).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn list(conn: &Connection, filter: &TaskFilter) -> Result<Vec<TaskRecord>> {
    let limit = i64::from(filter.limit);
    let (before, after, until) = (
        filter.before_id,
        filter.created_after.map(micros),
        filter.created_before.map(micros),
    );
    let state = filter.state.map(State::as_str);
    // A namespace or template name narrows the list to some templates' tasks: one walk of
    // tasks (template_id, id) per template, merged here. Otherwise the list walks all tasks,
    // or those in one state.
    if filter.namespace.is_some() || filter.template.is_some() {
        let template_ids: Vec<i64> = {
            let mut stmt = conn.prepare_cached(queries::TEMPLATE_IDS_NAMED).sql()?;
            let rows = stmt
                .query_map(params![filter.namespace, filter.template], |row| row.get(0))
                .sql()?;
            rows.collect::<rusqlite::Result<_>>().sql()?
        };
        let mut out = Vec::new();
        let mut stmt = conn.prepare_cached(queries::TASKS_LIST_BY_TEMPLATE).sql()?;
        for template_id in template_ids {
            let mut rows = stmt
                .query(params![before, after, until, state, limit, template_id])
                .sql()?;
            while let Some(row) = rows.next().sql()? {
                out.push(codec::task(row)?);
            }
        }
        out.sort_unstable_by_key(|task| std::cmp::Reverse(task.id));
        out.truncate(filter.limit as usize);
        return Ok(out);
    }
    let mut stmt;
    let mut rows = match state {
        Some(state) => {
            stmt = conn.prepare_cached(queries::TASKS_LIST_BY_STATE).sql()?;
            stmt.query(params![before, after, until, state, limit])
        }
        None => {
            stmt = conn.prepare_cached(queries::TASKS_LIST).sql()?;
            stmt.query(params![before, after, until, limit])
        }
    }
    .sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(codec::task(row)?);
    }
    Ok(out)
}

pub(crate) fn count_by_state(conn: &Connection) -> Result<Vec<(State, i64)>> {
    let mut stmt = conn.prepare_cached(queries::TASKS_COUNT_BY_STATE).sql()?;
    let mut rows = stmt.query([]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push((codec::state_at(row, 0)?, row.get(1).sql()?));
    }
    out.sort_by_key(|(state, _)| *state);
    Ok(out)
}

pub(crate) fn steps(conn: &Connection, task_id: i64) -> Result<Vec<StepRecord>> {
    let mut steps = Vec::new();
    {
        let mut stmt = conn.prepare_cached(queries::STEPS_OF_TASK).sql()?;
        let mut rows = stmt.query([task_id]).sql()?;
        while let Some(row) = rows.next().sql()? {
            steps.push(codec::step(row)?);
        }
    }
    let index: HashMap<i64, usize> = steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut stmt = conn.prepare_cached(queries::PARENTS_OF_TASK).sql()?;
    let mut rows = stmt.query([task_id]).sql()?;
    while let Some(row) = rows.next().sql()? {
        let child: i64 = row.get(0).sql()?;
        let parent: String = row.get(1).sql()?;
        if let Some(&i) = index.get(&child) {
            steps[i].parents.push(parent);
        }
    }
    Ok(steps)
}

pub(crate) fn step(conn: &Connection, id: i64) -> Result<Option<StepRecord>> {
    let mut step = {
        let mut stmt = conn.prepare_cached(queries::STEP_BY_ID).sql()?;
        let mut rows = stmt.query([id]).sql()?;
        match rows.next().sql()? {
            Some(row) => codec::step(row)?,
            None => return Ok(None),
        }
    };
    let mut stmt = conn.prepare_cached(queries::PARENTS_OF_STEP).sql()?;
    let mut rows = stmt.query([id]).sql()?;
    while let Some(row) = rows.next().sql()? {
        step.parents.push(row.get(0).sql()?);
    }
    Ok(Some(step))
}

pub(crate) fn transitions(
    conn: &Connection,
    sql: &str,
    owner_id: i64,
) -> Result<Vec<TransitionRecord>> {
    let mut stmt = conn.prepare_cached(sql).sql()?;
    let mut rows = stmt.query([owner_id]).sql()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql()? {
        out.push(codec::transition(row)?);
    }
    Ok(out)
}
