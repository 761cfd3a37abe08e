//! The one place that knows both backends: a database URL picks one.

use std::sync::Arc;
use tasker_engine::Error;
use tasker_postgres::PostgresStore;
use tasker_sqlite::SqliteStore;
use tasker_store::Store;

/// Opens a store from a URL: `sqlite://path.db` (created if missing), `sqlite::memory:`, or
/// `postgres://...` / `postgresql://...`. Does not migrate.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, Error> {
    match scheme(database_url) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(database_url)?)),
        Some("postgres" | "postgresql") => {
            Ok(Arc::new(PostgresStore::connect(database_url).await?))
        }
        _ => Err(Error::UnsupportedDatabaseUrl(database_url.to_owned())),
    }
}

/// `sqlite::memory:` has no `//`, so the scheme is what comes before the first `:`.
pub(crate) fn scheme(url: &str) -> Option<&str> {
    url.split_once(':').map(|(scheme, _)| scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        for url in ["mysql://x", "tasker.db", ""] {
            assert!(
                matches!(connect(url).await, Err(Error::UnsupportedDatabaseUrl(_))),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn sqlite_memory_opens() {
        let store = connect("sqlite::memory:").await.unwrap();
        assert_eq!(store.backend_name(), "sqlite");
    }
}
