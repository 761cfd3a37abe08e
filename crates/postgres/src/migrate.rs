//! Schema migrations, embedded in the binary; refinery keeps its history table in the same
//! schema as ours.

use crate::PostgresStore;
use crate::error::DbResult;
use crate::rows::get;
use tasker_store::{Error, Result};

mod embedded {
    refinery::embed_migrations!("migrations");
}

fn label(migration: &refinery::Migration) -> String {
    format!("V{}__{}", migration.version(), migration.name())
}

pub(crate) async fn migrate(store: &PostgresStore, schema: Option<&str>) -> Result<Vec<String>> {
    let mut client = store.client().await?;
    // One migrator per schema at a time, across processes: the others wait here, then find
    // nothing left to apply.
    let lock_key = format!("tasker migrate {}", schema.unwrap_or("default"));
    // Migrations may rewrite large tables and wait for other migrators: no time limit on
    // this connection until they are done (then back to the connection's own settings).
    client
        .batch_execute("SET statement_timeout = 0; SET lock_timeout = 0")
        .await
        .db()?;
    client
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&lock_key])
        .await
        .db()?;
    let outcome = run(&mut client, schema).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&lock_key])
        .await
        .db();
    let reset = client
        .batch_execute("RESET statement_timeout; RESET lock_timeout")
        .await
        .db();
    let applied = outcome?;
    unlocked?;
    reset?;
    Ok(applied)
}

async fn run(client: &mut deadpool_postgres::Object, schema: Option<&str>) -> Result<Vec<String>> {
    if let Some(schema) = schema {
        // The name was checked to be a plain identifier when the store was built; quoted, so
        // that a name that is also an SQL keyword (`user`, `order`) works too.
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .db()?;
    }
    let client: &mut tokio_postgres::Client = client;
    let report = embedded::migrations::runner()
        .run_async(client)
        .await
        .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
    Ok(report.applied_migrations().iter().map(label).collect())
}

pub(crate) async fn pending(store: &PostgresStore) -> Result<Vec<String>> {
    let client = store.client().await?;
    // Reading refinery's table directly: its own reader would create the table.
    let row = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL AS present",
            &[],
        )
        .await
        .db()?;
    let applied: Vec<i64> = if get::<bool>(&row, "present")? {
        let rows = client
            .query(
                "SELECT version::bigint AS version FROM refinery_schema_history",
                &[],
            )
            .await
            .db()?;
        rows.iter()
            .map(|row| get(row, "version"))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(embedded::migrations::runner()
        .get_migrations()
        .iter()
        .filter(|m| !applied.contains(&i64::from(m.version())))
        .map(label)
        .collect())
}
