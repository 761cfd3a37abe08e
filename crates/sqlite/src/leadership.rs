//! Leader election through lease rows in `tasker_leaders` (see the PostgreSQL backend). With
//! several processes on one file, SQLite's single writer makes the upsert atomic.

use crate::codec::micros;
use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::{Connection, params};
use tasker_model::Timestamp;
use tasker_store::Result;

pub(crate) fn try_acquire(
    conn: &Connection,
    name: &str,
    owner: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool> {
    let mut stmt = conn.prepare_cached(queries::TRY_ACQUIRE_LEADERSHIP).sql()?;
    let changed = stmt
        .execute(params![name, owner, micros(now), micros(expires_at)])
        .sql()?;
    Ok(changed == 1)
}

pub(crate) fn release(conn: &Connection, name: &str, owner: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(queries::RELEASE_LEADERSHIP).sql()?;
    stmt.execute(params![name, owner]).sql()?;
    Ok(())
}
