//! Migrations, embedded in the binary with refinery.

use crate::error::SqlResultExt;
use crate::queries;
use rusqlite::Connection;
use tasker_store::{Error, Result};

mod embedded {
    refinery::embed_migrations!("migrations");
}

const HISTORY_TABLE: &str = "refinery_schema_history";

fn label(migration: &refinery::Migration) -> String {
    format!("V{}__{}", migration.version(), migration.name())
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<Vec<String>> {
    let report = embedded::migrations::runner()
        .set_grouped(true)
        .run(conn)
        .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
    Ok(report.applied_migrations().iter().map(label).collect())
}

pub(crate) fn pending(conn: &mut Connection) -> Result<Vec<String>> {
    let runner = embedded::migrations::runner();
    // Asking refinery for applied migrations would create its table: a read must not write.
    let has_history: bool = conn
        .query_row(queries::MIGRATION_HISTORY_EXISTS, [HISTORY_TABLE], |row| {
            row.get(0)
        })
        .sql()?;
    let applied: Vec<i64> = if has_history {
        runner
            .get_applied_migrations(conn)
            .map_err(|e| Error::Database(format!("reading applied migrations: {e}")))?
            .iter()
            .map(|m| i64::from(m.version()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(runner
        .get_migrations()
        .iter()
        .filter(|m| !applied.contains(&i64::from(m.version())))
        .map(label)
        .collect())
}
