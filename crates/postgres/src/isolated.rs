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
