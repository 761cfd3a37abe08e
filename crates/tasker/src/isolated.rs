//! A fresh, migrated database of its own for one benchmark run (or test), removed afterwards:
//! a new SQLite file in a temporary directory, or a new schema in the given PostgreSQL database.

use crate::connect::Backend;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
#[cfg(feature = "sqlite")]
use std::path::PathBuf;
use std::sync::Arc;
use tasker_engine::Error;
#[cfg(feature = "postgres")]
use tasker_postgres::{PgOptions, PostgresStore, SchemaClaim};
use tasker_store::Store;

/// A migrated store nobody else uses, and what it takes to remove it. Call
/// [`IsolatedDatabase::cleanup`] when done (after dropping every engine built on the store);
/// a database whose cleanup never ran is left behind.
pub struct IsolatedDatabase {
    store: Arc<dyn Store>,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    #[cfg(feature = "sqlite")]
    SqliteDir(PathBuf),
    /// The claim keeps other runs' sweeps away from the schema until it is dropped.
    #[cfg(feature = "postgres")]
    PostgresSchema(Arc<PostgresStore>, SchemaClaim),
}

impl std::fmt::Debug for IsolatedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatedDatabase")
            .field("backend", &self.store.backend_name())
            .finish_non_exhaustive()
    }
}

impl IsolatedDatabase {
    /// The migrated store, to build an [`Engine`](tasker_engine::Engine) on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A URL that reaches this same database from another process (e.g. `tasker run`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the database: drops the PostgreSQL schema, or deletes the SQLite directory.
    pub async fn cleanup(self) -> Result<(), Error> {
        let IsolatedDatabase { store, cleanup, .. } = self;
        drop(store);
        match cleanup {
            #[cfg(feature = "postgres")]
            Cleanup::PostgresSchema(store, claim) => {
                store.drop_own_schema().await?;
                drop(claim);
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            Cleanup::SqliteDir(dir) => std::fs::remove_dir_all(&dir).map_err(|e| {
                Error::Store(tasker_store::Error::Database(format!(
                    "cannot remove {}: {e}",
                    dir.display()
                )))
            }),
        }
    }
}

/// The throwaway PostgreSQL schemas: `tasker_bench_<pid>_<random>`.
#[cfg(feature = "postgres")]
const SCHEMA_PREFIX: &str = "tasker_bench_";

/// A random suffix for names that must not collide across processes and runs.
fn unique_suffix() -> String {
    let random = RandomState::new().build_hasher().finish();
    format!("{}_{random:016x}", std::process::id())
}

/// Opens a fresh database beside the one `database_url` names: for `sqlite:` URLs a new file
/// in a new temporary directory (the named file is not touched); for `postgres:` URLs a new
/// schema `tasker_bench_<pid>_<random>` in that database, after dropping the ones that runs
/// interrupted before their cleanup left behind. The database is migrated.
pub async fn connect_isolated(database_url: &str) -> Result<IsolatedDatabase, Error> {
    let isolated: IsolatedDatabase = match Backend::of(database_url)? {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("tasker-bench-{}", unique_suffix()));
            std::fs::create_dir_all(&dir).map_err(|e| {
                Error::Store(tasker_store::Error::Database(format!(
                    "cannot create {}: {e}",
                    dir.display()
                )))
            })?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            let store = tasker_sqlite::SqliteStore::open(&url)?;
            IsolatedDatabase {
                store: Arc::new(store),
                url,
                cleanup: Cleanup::SqliteDir(dir),
            }
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            // Runs that were interrupted before their cleanup left their schemas behind; any
            // schema nobody claims is one of those.
            let swept =
                tasker_postgres::drop_unclaimed_schemas(database_url, SCHEMA_PREFIX).await?;
            if !swept.is_empty() {
                tracing::info!(schemas = ?swept, "dropped schemas that interrupted runs left behind");
            }
            let schema = format!("{SCHEMA_PREFIX}{}", unique_suffix());
            let claim = tasker_postgres::claim_schema(database_url, &schema).await?;
            let store = Arc::new(
                PostgresStore::connect_with(
                    database_url,
                    PgOptions {
                        schema: Some(schema.clone()),
                        ..PgOptions::default()
                    },
                )
                .await?,
            );
            IsolatedDatabase {
                store: store.clone(),
                url: with_search_path(database_url, &schema),
                cleanup: Cleanup::PostgresSchema(store, claim),
            }
        }
    };
    isolated.store.migrate().await?;
    Ok(isolated)
}

/// The URL with a connection option that puts `schema` first on the search path.
#[cfg(feature = "postgres")]
fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn the_schema_travels_in_the_url() {
        assert_eq!(
            with_search_path("postgres://u@h/db", "s1"),
            "postgres://u@h/db?options=-c%20search_path%3Ds1"
        );
        assert_eq!(
            with_search_path("postgres://u@h/db?sslmode=disable", "s1"),
            "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3Ds1"
        );
        let parsed: tokio_postgres::Config = with_search_path("postgres://u@h/db", "s1")
            .parse()
            .expect("a valid url");
        assert_eq!(parsed.get_options(), Some("-c search_path=s1"));
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_isolation_is_a_migrated_file_that_cleanup_removes() {
        let isolated = connect_isolated("sqlite://ignored.db").await.expect("open");
        assert!(
            isolated
                .store()
                .pending_migrations()
                .await
                .unwrap()
                .is_empty()
        );
        let path = isolated
            .url()
            .strip_prefix("sqlite://")
            .map(PathBuf::from)
            .expect("a sqlite url");
        assert!(path.exists());
        isolated.cleanup().await.expect("cleanup");
        assert!(!path.exists());
        assert!(!std::path::Path::new("ignored.db").exists());
    }
}
