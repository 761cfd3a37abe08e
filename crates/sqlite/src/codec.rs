//! Decoding of stored values: microsecond timestamps, state names, JSON text, and whole rows.

use crate::error::SqlResultExt;
use rusqlite::Row;
use serde_json::Value;
use tasker_model::{State, StepFailure, StepRecord, TaskRecord, Timestamp, TransitionRecord};
use tasker_store::{Error, Result, StoredTemplate};

pub(crate) fn micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn timestamp(micros: i64) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::Corrupt(format!("timestamp {micros} us is out of range")))
}

pub(crate) fn opt_timestamp(micros: Option<i64>) -> Result<Option<Timestamp>> {
    micros.map(timestamp).transpose()
}

pub(crate) fn state(name: &str) -> Result<State> {
    name.parse()
        .map_err(|e| Error::Corrupt(format!("stored state: {e}")))
}

pub(crate) fn json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("stored json: {e}")))
}

pub(crate) fn opt_json(text: Option<String>) -> Result<Option<Value>> {
    text.as_deref().map(json).transpose()
}

pub(crate) fn to_text(value: &Value) -> String {
    value.to_string()
}

/// Reads column `idx` as a timestamp.
pub(crate) fn ts_at(row: &Row<'_>, idx: usize) -> Result<Timestamp> {
    timestamp(row.get(idx).sql()?)
}

pub(crate) fn opt_ts_at(row: &Row<'_>, idx: usize) -> Result<Option<Timestamp>> {
    opt_timestamp(row.get(idx).sql()?)
}

pub(crate) fn state_at(row: &Row<'_>, idx: usize) -> Result<State> {
    state(&row.get::<_, String>(idx).sql()?)
}

/// Columns of `template_*.sql`.
pub(crate) fn template(row: &Row<'_>) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        id: row.get(0).sql()?,
        namespace: row.get(1).sql()?,
        name: row.get(2).sql()?,
        version: row.get(3).sql()?,
        description: row.get(4).sql()?,
        definition: json(&row.get::<_, String>(5).sql()?)?,
        created_at: ts_at(row, 6)?,
    })
}

/// Columns of `task_by_id.sql` / `tasks_list*.sql`.
pub(crate) fn task(row: &Row<'_>) -> Result<TaskRecord> {
    Ok(TaskRecord {
        id: row.get(0).sql()?,
        template_id: row.get(1).sql()?,
        namespace: row.get(2).sql()?,
        name: row.get(3).sql()?,
        version: row.get(4).sql()?,
        state: state_at(row, 5)?,
        // Null in lists, which do not read contexts.
        context: opt_json(row.get(6).sql()?)?.unwrap_or(Value::Null),
        identity_hash: row.get(7).sql()?,
        idempotency_key: row.get(8).sql()?,
        traceparent: row.get(15).sql()?,
        steps_total: row.get(9).sql()?,
        steps_remaining: row.get(10).sql()?,
        steps_failed: row.get(11).sql()?,
        created_at: ts_at(row, 12)?,
        updated_at: ts_at(row, 13)?,
        completed_at: opt_ts_at(row, 14)?,
    })
}

/// Columns of `steps_of_task.sql` / `step_by_id.sql`; `parents` is filled in by the caller.
pub(crate) fn step(row: &Row<'_>) -> Result<StepRecord> {
    Ok(StepRecord {
        id: row.get(0).sql()?,
        task_id: row.get(1).sql()?,
        name: row.get(2).sql()?,
        handler: row.get(20).sql()?,
        queue: queue(row.get(21).sql()?),
        state: state_at(row, 3)?,
        attempts: row.get(4).sql()?,
        max_attempts: row.get(5).sql()?,
        retryable: row.get(6).sql()?,
        retry_limit: row.get(7).sql()?,
        total_parents: row.get(8).sql()?,
        unsatisfied_parents: row.get(9).sql()?,
        ready_at: opt_ts_at(row, 10)?,
        last_attempted_at: opt_ts_at(row, 11)?,
        last_failure_at: opt_ts_at(row, 12)?,
        last_error: last_error(row.get(22).sql()?)?,
        backoff_request_seconds: row.get(13).sql()?,
        inputs: opt_json(row.get(14).sql()?)?,
        results: opt_json(row.get(15).sql()?)?,
        lease_owner: row.get(16).sql()?,
        lease_expires_at: opt_ts_at(row, 17)?,
        parents: Vec::new(),
        created_at: ts_at(row, 18)?,
        updated_at: ts_at(row, 19)?,
    })
}

/// A step's `last_error` as stored (JSON text).
pub(crate) fn last_error(text: Option<String>) -> Result<Option<StepFailure>> {
    text.as_deref()
        .map(|text| {
            serde_json::from_str(text)
                .map_err(|e| Error::Corrupt(format!("stored last_error: {e}")))
        })
        .transpose()
}

/// The JSON text stored as a step's `last_error`.
pub(crate) fn last_error_text(failure: &StepFailure) -> Result<String> {
    serde_json::to_string(failure).map_err(|e| Error::Corrupt(format!("last_error: {e}")))
}

/// A step's queue as stored (`''`: in-process) as the store's records hold it.
pub(crate) fn queue(stored: String) -> Option<String> {
    (!stored.is_empty()).then_some(stored)
}

/// Columns of the transition queries.
pub(crate) fn transition(row: &Row<'_>) -> Result<TransitionRecord> {
    let from: Option<String> = row.get(3).sql()?;
    Ok(TransitionRecord {
        id: row.get(0).sql()?,
        owner_id: row.get(1).sql()?,
        step_name: row.get(2).sql()?,
        from_state: from.as_deref().map(state).transpose()?,
        to_state: state_at(row, 4)?,
        metadata: json(&row.get::<_, String>(5).sql()?)?,
        sort_key: row.get(6).sql()?,
        most_recent: row.get(7).sql()?,
        created_at: ts_at(row, 8)?,
    })
}
