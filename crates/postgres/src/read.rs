//! Reads: records, histories, counts and the readiness introspection.

use crate::PostgresStore;
use crate::claim::BoundFilter;
use crate::error::DbResult;
use crate::rows::{self, get};
use crate::sql;
use tasker_model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, Timestamp,
    TransitionRecord,
};
use tasker_store::{BackendInfo, ClaimFilter, Error, OutstandingWork, Result, TaskFilter};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// One statement on a pooled connection, outside any transaction: the reads of every module.
pub(crate) async fn query(
    store: &PostgresStore,
    text: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let client = store.client().await?;
    let statement = client.prepare_cached(text).await.db()?;
    client.query(&statement, params).await.db()
}

pub(crate) async fn describe(store: &PostgresStore) -> Result<BackendInfo> {
    let rows = query(store, sql::DESCRIBE, &[]).await?;
    let row = rows
        .first()
        .ok_or_else(|| Error::Database("server settings query returned no row".into()))?;
    let mut settings = Vec::new();
    for name in [
        "synchronous_commit",
        "shared_buffers",
        "max_connections",
        "autovacuum",
        "statement_timeout",
        "lock_timeout",
    ] {
        settings.push((name.to_owned(), get::<String>(row, name)?));
    }
    Ok(BackendInfo {
        backend: "postgres".into(),
        server_version: get(row, "server_version")?,
        settings,
    })
}

pub(crate) async fn task(store: &PostgresStore, id: TaskId) -> Result<Option<TaskRecord>> {
    let rows = query(store, sql::TASK, &[&id]).await?;
    rows.first().map(rows::task).transpose()
}

pub(crate) async fn list_tasks(
    store: &PostgresStore,
    filter: &TaskFilter,
) -> Result<Vec<TaskRecord>> {
    let limit = i64::from(filter.limit);
    let state = filter.state.map(State::as_str);
    let (before, after, until) = (
        &filter.before_id,
        &filter.created_after,
        &filter.created_before,
    );
    // A namespace or template name narrows the list to some templates' tasks, found by
    // template id; otherwise the list walks all tasks, or those in one state.
    let rows = if filter.namespace.is_some() || filter.template.is_some() {
        let params: [&(dyn ToSql + Sync); 7] = [
            before,
            after,
            until,
            &state,
            &limit,
            &filter.namespace,
            &filter.template,
        ];
        query(store, sql::LIST_TASKS_BY_TEMPLATE, &params).await?
    } else if let Some(state) = state {
        let params: [&(dyn ToSql + Sync); 5] = [before, after, until, &state, &limit];
        query(store, sql::LIST_TASKS_BY_STATE, &params).await?
    } else {
        let params: [&(dyn ToSql + Sync); 4] = [before, after, until, &limit];
        query(store, sql::LIST_TASKS, &params).await?
    };
    rows.iter().map(rows::task).collect()
}

pub(crate) async fn count_tasks_by_state(store: &PostgresStore) -> Result<Vec<(State, i64)>> {
    let rows = query(store, sql::COUNT_TASKS_BY_STATE, &[]).await?;
    let mut counts = rows
        .iter()
        .map(|row| Ok((rows::state_col(row, "state")?, get::<i64>(row, "n")?)))
        .collect::<Result<Vec<_>>>()?;
    counts.sort_by_key(|(state, _)| *state);
    Ok(counts)
}

pub(crate) async fn steps_of_task(
    store: &PostgresStore,
    task_id: TaskId,
) -> Result<Vec<StepRecord>> {
    let rows = query(store, sql::STEPS_OF_TASK, &[&task_id]).await?;
    rows.iter().map(rows::step).collect()
}

pub(crate) async fn step(store: &PostgresStore, id: StepId) -> Result<Option<StepRecord>> {
    let rows = query(store, sql::STEP, &[&id]).await?;
    rows.first().map(rows::step).transpose()
}

/// Any of the transition queries, which all take one task id.
pub(crate) async fn transitions(
    store: &PostgresStore,
    text: &str,
    task_id: TaskId,
) -> Result<Vec<TransitionRecord>> {
    let rows = query(store, text, &[&task_id]).await?;
    rows.iter().map(rows::transition).collect()
}

pub(crate) async fn next_ready_at(
    store: &PostgresStore,
    filter: &ClaimFilter,
) -> Result<Option<Timestamp>> {
    let filter = BoundFilter::new(filter);
    let rows = query(
        store,
        sql::NEXT_READY_AT,
        &[&filter.queue, &filter.handlers],
    )
    .await?;
    rows.first()
        .map(|row| get::<Option<Timestamp>>(row, "ready_at"))
        .transpose()
        .map(Option::flatten)
}

pub(crate) async fn outstanding_work(store: &PostgresStore) -> Result<OutstandingWork> {
    let rows = query(store, sql::OUTSTANDING_WORK, &[]).await?;
    let row = rows
        .first()
        .ok_or_else(|| Error::Database("outstanding work query returned no row".into()))?;
    Ok(OutstandingWork {
        scheduled: get(row, "scheduled")?,
        running: get(row, "running")?,
    })
}

pub(crate) async fn step_readiness(
    store: &PostgresStore,
    task_ids: &[TaskId],
    now: Timestamp,
) -> Result<Vec<StepReadiness>> {
    let rows = query(store, sql::STEP_READINESS, &[&task_ids, &now]).await?;
    rows.iter()
        .map(|row| {
            Ok(StepReadiness {
                task_id: get(row, "task_id")?,
                step_id: get(row, "step_id")?,
                name: get(row, "name")?,
                current_state: rows::state_col(row, "current_state")?,
                dependencies_satisfied: get(row, "dependencies_satisfied")?,
                retry_eligible: get(row, "retry_eligible")?,
                ready_for_execution: get(row, "ready_for_execution")?,
                last_failure_at: get(row, "last_failure_at")?,
                next_retry_at: get(row, "next_retry_at")?,
                total_parents: get(row, "total_parents")?,
                completed_parents: get(row, "completed_parents")?,
                attempts: get(row, "attempts")?,
                max_attempts: get(row, "max_attempts")?,
                backoff_request_seconds: get(row, "backoff_request_seconds")?,
                last_attempted_at: get(row, "last_attempted_at")?,
            })
        })
        .collect()
}

fn parse_col<T: std::str::FromStr<Err = String>>(row: &Row, column: &str) -> Result<T> {
    get::<&str>(row, column)?
        .parse()
        .map_err(|e| Error::Corrupt(format!("column {column}: {e}")))
}

pub(crate) async fn task_execution_context(
    store: &PostgresStore,
    task_ids: &[TaskId],
    now: Timestamp,
) -> Result<Vec<TaskExecutionContext>> {
    let rows = query(store, sql::TASK_EXECUTION_CONTEXT, &[&task_ids, &now]).await?;
    rows.iter()
        .map(|row| {
            Ok(TaskExecutionContext {
                task_id: get(row, "task_id")?,
                total_steps: get(row, "total_steps")?,
                pending_steps: get(row, "pending_steps")?,
                in_progress_steps: get(row, "in_progress_steps")?,
                completed_steps: get(row, "completed_steps")?,
                failed_steps: get(row, "failed_steps")?,
                ready_steps: get(row, "ready_steps")?,
                permanently_blocked_steps: get(row, "permanently_blocked_steps")?,
                execution_status: parse_col(row, "execution_status")?,
                recommended_action: parse_col(row, "recommended_action")?,
                completion_percentage: get(row, "completion_percentage")?,
                health_status: parse_col(row, "health_status")?,
            })
        })
        .collect()
}
