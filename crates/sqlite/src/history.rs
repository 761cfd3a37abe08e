//! Transition rows: un-mark the current one, insert the next with the owner's new sequence
//! number. Callers bump `transition_seq` on the owner row in the same statement as the state
//! change and pass the new value here, so no history is read.

use crate::codec::micros;
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, params};
use serde_json::Value;
use tasker_model::{State, Timestamp};
use tasker_store::Result;

pub(crate) fn task(
    conn: &Connection,
    task_id: i64,
    from: Option<State>,
    to: State,
    sort_key: i32,
    metadata: &Value,
    now: Timestamp,
) -> Result<()> {
    if from.is_some() {
        conn.prepare_cached(queries::TASK_TRANSITION_UNMARK)
            .sql()?
            .execute([task_id])
            .sql()?;
    }
    conn.prepare_cached(queries::TASK_TRANSITION_INSERT)
        .sql()?
        .execute(params![
            task_id,
            from.map(State::as_str),
            to.as_str(),
            metadata.to_string(),
            sort_key,
            micros(now)
        ])
        .sql()?;
    Ok(())
}

pub(crate) fn step(
    conn: &Connection,
    step_id: i64,
    from: Option<State>,
    to: State,
    sort_key: i32,
    metadata: &Value,
    now: Timestamp,
) -> Result<()> {
    if from.is_some() {
        conn.prepare_cached(queries::STEP_TRANSITION_UNMARK)
            .sql()?
            .execute([step_id])
            .sql()?;
    }
    conn.prepare_cached(queries::STEP_TRANSITION_INSERT)
        .sql()?
        .execute(params![
            step_id,
            from.map(State::as_str),
            to.as_str(),
            metadata.to_string(),
            sort_key,
            micros(now)
        ])
        .sql()?;
    Ok(())
}
