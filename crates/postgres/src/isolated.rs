//! Throwaway schemas: a store opened on a schema of its own can drop it when done (benchmarks,
//! tests), so that runs leave nothing behind in a shared database.

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
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .db()?;
        Ok(())
    }
}

/// Drops the throwaway schemas named `<prefix><pid>_...` whose process no longer runs on this
/// machine (tests and benchmarks put their pid in the name), and returns their names. Schemas of
/// live processes are left alone. Another process dropping the same schema at the same time is
/// not an error.
pub async fn drop_orphaned_schemas(url: &str, prefix: &str) -> Result<Vec<String>> {
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::Database(format!(
            "schema prefix {prefix:?} must be a plain identifier"
        )));
    }
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .db()?;
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
            &[&prefix],
        )
        .await
        .db()?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let pid = name[prefix.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if alive || !plain {
            continue;
        }
        if client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .await
            .is_ok()
        {
            dropped.push(name);
        }
    }
    Ok(dropped)
}
