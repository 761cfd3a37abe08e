//! Transition rows: insert the next with the owner's new sequence number. Callers bump
//! `transition_seq` on the owner row in the same statement as the state change and pass the new
//! value here, so no history is read; the row with the owner's sequence is the current one, so
//! no earlier row is touched.

use crate::codec::micros;
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, params};
use serde_json::Value;
use tasker_model::{State, Timestamp};
use tasker_store::Result;

/// Which history table a transition goes to: its insert statement.
#[derive(Clone, Copy)]
enum Table {
    Task,
    Step,
}

impl Table {
    fn insert(self) -> &'static str {
        match self {
            Table::Task => queries::TASK_TRANSITION_INSERT,
            Table::Step => queries::STEP_TRANSITION_INSERT,
        }
    }
}

pub(crate) fn task(
    conn: &Connection,
    task_id: i64,
    from: Option<State>,
    to: State,
    sort_key: i32,
    metadata: &Value,
    now: Timestamp,
) -> Result<()> {
    write(
        conn,
        Table::Task,
        task_id,
        from,
        to,
        sort_key,
        metadata,
        now,
    )
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
    write(
        conn,
        Table::Step,
        step_id,
        from,
        to,
        sort_key,
        metadata,
        now,
    )
}

fn write(
    conn: &Connection,
    table: Table,
    owner_id: i64,
    from: Option<State>,
    to: State,
    sort_key: i32,
    metadata: &Value,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(table.insert())
        .sql()?
        .execute(params![
            owner_id,
            from.map(State::as_str),
            to.as_str(),
            metadata.to_string(),
            sort_key,
            micros(now)
        ])
        .sql()?;
    Ok(())
}
