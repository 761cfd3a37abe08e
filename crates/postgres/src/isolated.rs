//! Throwaway schemas: a store opened on a schema of its own can drop it when done (benchmarks,
//! tests), so that runs leave nothing behind in a shared database; and a run that never got to
//! clean up (interrupted, killed, crashed) has its schema swept by a later one.

use crate::PostgresStore;
use crate::error::DbResult;
use tasker_store::{Error, Result};

impl PostgresStore {
    /// Drops the schema this store was opened on, with everything in it. Refuses when the
    /// store uses the server's default schema: that one holds someone's data.
    pub async fn drop_own_schema(&self) -> Result<()> {
        let Some(schema) = &self.schema else {
            return Err(Error::Database(
                "refusing to drop a schema: this store uses the default one".into(),
            ));
        };
        let client = self.client().await?;
        // The name was checked to be a plain identifier when the store was built.
        drop_schema(&client, schema).await
    }
}

/// Drops the throwaway schemas named `<prefix><pid>_...` whose process no longer runs on this
/// machine (tests and benchmarks put their pid in the name), and returns their names. Schemas of
/// live processes are left alone. Another process dropping the same schema at the same time is
/// not an error.
pub async fn drop_orphaned_schemas(url: &str, prefix: &str) -> Result<Vec<String>> {
    let client = connect(url).await?;
    let mut dropped = Vec::new();
    for name in schemas_named(&client, prefix).await? {
        let pid = name[prefix.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive && drop_schema(&client, &name).await.is_ok() {
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// The advisory lock that marks a throwaway schema as in use: (this constant, the name's hash).
/// The two-key form is a lock space of its own, apart from the one-key locks of migrations.
const CLAIM_LOCK: &str = "hashtext('tasker throwaway schema'), hashtext($1)";

/// A throwaway schema held in use by a session advisory lock on a connection of its own, so
/// that [`drop_unclaimed_schemas`] in any process on any machine leaves it alone. The lock goes
/// when the claim is dropped or its process dies (the server ends the session).
pub struct SchemaClaim {
    _client: tokio_postgres::Client,
}

/// Claims `schema` before it exists: take the claim first, then create the schema, so that a
/// sweep never sees it unclaimed.
pub async fn claim_schema(url: &str, schema: &str) -> Result<SchemaClaim> {
    let client = connect(url).await?;
    client
        .execute(
            &format!("SELECT pg_advisory_lock({CLAIM_LOCK})"),
            &[&schema],
        )
        .await
        .db()?;
    Ok(SchemaClaim { _client: client })
}

/// Drops the schemas named `<prefix>...` that nobody claims (see [`claim_schema`]): those of runs
/// that ended without cleaning up. Returns their names. A schema claimed by a live process, on
/// this machine or another, is left alone; so is one that another sweep is dropping.
pub async fn drop_unclaimed_schemas(url: &str, prefix: &str) -> Result<Vec<String>> {
    let client = connect(url).await?;
    let try_lock = format!("SELECT pg_try_advisory_lock({CLAIM_LOCK})");
    let unlock = format!("SELECT pg_advisory_unlock({CLAIM_LOCK})");
    let mut dropped = Vec::new();
    for name in schemas_named(&client, prefix).await? {
        let free: bool = client.query_one(&try_lock, &[&name]).await.db()?.get(0);
        if !free {
            continue;
        }
        let was_dropped = drop_schema(&client, &name).await.is_ok();
        client.execute(&unlock, &[&name]).await.db()?;
        if was_dropped {
            dropped.push(name);
        }
    }
    Ok(dropped)
}

fn is_plain_identifier(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The schemas whose names start with `prefix`, skipping any name that is not a plain
/// identifier (it goes into DDL).
async fn schemas_named(client: &tokio_postgres::Client, prefix: &str) -> Result<Vec<String>> {
    if prefix.is_empty() || !is_plain_identifier(prefix) {
        return Err(Error::Database(format!(
            "schema prefix {prefix:?} must be a plain identifier"
        )));
    }
    let rows = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
            &[&prefix],
        )
        .await
        .db()?;
    Ok(rows
        .iter()
        .map(|row| row.get::<_, String>(0))
        .filter(|name| is_plain_identifier(name))
        .collect())
}

/// Drops the schema `name` (a plain identifier, quoted as it is spelled in the catalog) with
/// everything in it. Another process dropping the same schema at the same time is not an error.
async fn drop_schema(client: &tokio_postgres::Client, name: &str) -> Result<()> {
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
        .await
        .db()
}

async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .db()?;
    tokio::spawn(connection);
    Ok(client)
}
