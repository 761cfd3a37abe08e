//! Decoding rows into the store's records. Nothing here panics on what the database returns:
//! a column that does not decode is [`Error::Corrupt`].

use serde_json::Value;
use tasker_model::{State, StepFailure, StepRecord, TaskRecord, TransitionRecord};
use tasker_store::{Error, Result, StoredTemplate};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, column: &str) -> Result<T> {
    row.try_get(column)
        .map_err(|e| Error::Corrupt(format!("column {column}: {e}")))
}

/// The `id` column of every row.
pub(crate) fn ids(rows: &[Row]) -> Result<Vec<i64>> {
    rows.iter().map(|row| get::<i64>(row, "id")).collect()
}

pub(crate) fn state(text: &str) -> Result<State> {
    text.parse()
        .map_err(|e: tasker_model::state::UnknownState| Error::Corrupt(e.to_string()))
}

pub(crate) fn state_col(row: &Row, column: &str) -> Result<State> {
    state(get::<&str>(row, column)?)
}

pub(crate) fn task(row: &Row) -> Result<TaskRecord> {
    Ok(TaskRecord {
        id: get(row, "id")?,
        template_id: get(row, "template_id")?,
        namespace: get(row, "namespace")?,
        name: get(row, "name")?,
        version: get(row, "version")?,
        state: state_col(row, "state")?,
        // Null in lists, which do not read contexts.
        context: get::<Option<_>>(row, "context")?.unwrap_or(Value::Null),
        identity_hash: get(row, "identity_hash")?,
        idempotency_key: get(row, "idempotency_key")?,
        traceparent: get(row, "traceparent")?,
        steps_total: get(row, "steps_total")?,
        steps_remaining: get(row, "steps_remaining")?,
        steps_failed: get(row, "steps_failed")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        completed_at: get(row, "completed_at")?,
    })
}

pub(crate) fn step(row: &Row) -> Result<StepRecord> {
    Ok(StepRecord {
        id: get(row, "id")?,
        task_id: get(row, "task_id")?,
        name: get(row, "name")?,
        handler: get(row, "handler")?,
        queue: queue(get(row, "queue")?),
        state: state_col(row, "state")?,
        attempts: get(row, "attempts")?,
        max_attempts: get(row, "max_attempts")?,
        retryable: get(row, "retryable")?,
        retry_limit: get(row, "retry_limit")?,
        total_parents: get(row, "total_parents")?,
        unsatisfied_parents: get(row, "unsatisfied_parents")?,
        ready_at: get(row, "ready_at")?,
        last_attempted_at: get(row, "last_attempted_at")?,
        last_failure_at: get(row, "last_failure_at")?,
        last_error: last_error(get(row, "last_error")?)?,
        backoff_request_seconds: get(row, "backoff_request_seconds")?,
        inputs: get(row, "inputs")?,
        results: get(row, "results")?,
        lease_owner: get(row, "lease_owner")?,
        lease_expires_at: get(row, "lease_expires_at")?,
        parents: get(row, "parents")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A step's `last_error` as stored (a JSON object).
fn last_error(stored: Option<Value>) -> Result<Option<StepFailure>> {
    stored
        .map(|value| {
            serde_json::from_value(value)
                .map_err(|e| Error::Corrupt(format!("column last_error: {e}")))
        })
        .transpose()
}

/// A step's queue as stored (`''`: in-process) as the store's records hold it.
pub(crate) fn queue(stored: String) -> Option<String> {
    (!stored.is_empty()).then_some(stored)
}

pub(crate) fn transition(row: &Row) -> Result<TransitionRecord> {
    let from_state: Option<&str> = get(row, "from_state")?;
    Ok(TransitionRecord {
        id: get(row, "id")?,
        owner_id: get(row, "owner_id")?,
        step_name: get(row, "step_name")?,
        from_state: from_state.map(state).transpose()?,
        to_state: state_col(row, "to_state")?,
        metadata: get(row, "metadata")?,
        sort_key: get(row, "sort_key")?,
        most_recent: get(row, "most_recent")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn template(row: &Row) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        id: get(row, "id")?,
        namespace: get(row, "namespace")?,
        name: get(row, "name")?,
        version: get(row, "version")?,
        description: get(row, "description")?,
        definition: get(row, "definition")?,
        created_at: get(row, "created_at")?,
    })
}
