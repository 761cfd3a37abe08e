//! A fresh, migrated database of its own for one benchmark run (or test), removed afterwards:
//! a new SQLite file in a temporary directory, or a new schema in the given PostgreSQL database.

use crate::connect::Backend;
use std::collections::hash_map::RandomState;
#[cfg(feature = "sqlite")]
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};
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
    /// The directory, and its lock file held open and locked: other runs' sweeps leave the
    /// directory alone while the lock is held.
    #[cfg(feature = "sqlite")]
    SqliteDir(PathBuf, File),
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
            Cleanup::SqliteDir(dir, lock) => {
                let removed = std::fs::remove_dir_all(&dir).map_err(|e| {
                    Error::Store(tasker_store::Error::Database(format!(
                        "cannot remove {}: {e}",
                        dir.display()
                    )))
                });
                drop(lock);
                removed
            }
        }
    }
}

/// The throwaway PostgreSQL schemas: `tasker_bench_<pid>_<random>`.
#[cfg(feature = "postgres")]
const SCHEMA_PREFIX: &str = "tasker_bench_";

/// The throwaway SQLite directories in the temporary directory: `tasker-bench-<pid>_<random>`,
/// each with a lock file its run holds locked for as long as it lives.
#[cfg(feature = "sqlite")]
const DIR_PREFIX: &str = "tasker-bench-";
#[cfg(feature = "sqlite")]
const LOCK_FILE: &str = "owner.lock";
/// A directory without its lock file (left by an older version) is swept once it is this old.
#[cfg(feature = "sqlite")]
const UNLOCKED_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// A new directory for one run, in `parent`, with its lock file locked. It is built under a
/// hidden name and renamed into place once locked, so that no sweep can see it unlocked.
#[cfg(feature = "sqlite")]
fn create_sqlite_dir(parent: &Path) -> std::io::Result<(PathBuf, File)> {
    let suffix = unique_suffix();
    let staging = parent.join(format!(".{DIR_PREFIX}{suffix}"));
    std::fs::create_dir_all(&staging)?;
    let lock = File::create(staging.join(LOCK_FILE))?;
    lock.try_lock()
        .map_err(|e| std::io::Error::other(format!("cannot lock {LOCK_FILE}: {e}")))?;
    let dir = parent.join(format!("{DIR_PREFIX}{suffix}"));
    std::fs::rename(&staging, &dir)?;
    Ok((dir, lock))
}

/// Removes the run directories in `parent` that interrupted runs left behind: those whose lock
/// nobody holds (the run is gone), and old ones without a lock file. Best effort: a directory
/// that cannot be read or removed is left. Returns the directories removed.
#[cfg(feature = "sqlite")]
fn sweep_sqlite_dirs(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut swept = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) || !dir.is_dir() {
            continue;
        }
        // Held (when taken) until the directory is gone, so that no other sweep races it.
        let lock = File::open(dir.join(LOCK_FILE));
        let abandoned = match &lock {
            Ok(file) => file.try_lock().is_ok(),
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > UNLOCKED_GRACE),
        };
        if abandoned && std::fs::remove_dir_all(&dir).is_ok() {
            swept.push(dir);
        }
        drop(lock);
    }
    swept
}

/// A random suffix for names that must not collide across processes and runs.
fn unique_suffix() -> String {
    let random = RandomState::new().build_hasher().finish();
    format!("{}_{random:016x}", std::process::id())
}

/// Opens a fresh database beside the one `database_url` names: for `sqlite:` URLs a new file
/// in a new temporary directory (the named file is not touched), after removing the
/// directories that interrupted runs left behind; for `postgres:` URLs a new
/// schema `tasker_bench_<pid>_<random>` in that database, after dropping the ones that runs
/// interrupted before their cleanup left behind. The database is migrated.
pub async fn connect_isolated(database_url: &str) -> Result<IsolatedDatabase, Error> {
    let isolated: IsolatedDatabase = match Backend::of(database_url)? {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let parent = std::env::temp_dir();
            let swept = sweep_sqlite_dirs(&parent);
            if !swept.is_empty() {
                tracing::info!(dirs = ?swept, "removed directories that interrupted runs left behind");
            }
            let (dir, lock) = create_sqlite_dir(&parent).map_err(|e| {
                Error::Store(tasker_store::Error::Database(format!(
                    "cannot create a directory in {}: {e}",
                    parent.display()
                )))
            })?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            let store = tasker_sqlite::SqliteStore::open(&url)?;
            IsolatedDatabase {
                store: Arc::new(store),
                url,
                cleanup: Cleanup::SqliteDir(dir, lock),
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

    #[cfg(feature = "sqlite")]
    #[test]
    fn sweeps_remove_the_directories_of_runs_that_are_gone_and_only_those() {
        let parent = std::env::temp_dir().join(format!("tasker-sweep-test-{}", unique_suffix()));
        std::fs::create_dir_all(&parent).unwrap();
        // A run that died: its lock file is there, nobody holds it.
        let dead = parent.join(format!("{DIR_PREFIX}1_dead"));
        std::fs::create_dir_all(&dead).unwrap();
        File::create(dead.join(LOCK_FILE)).unwrap();
        // A live run, holding its lock.
        let (live, lock) = create_sqlite_dir(&parent).unwrap();
        // A fresh directory without a lock file, and one that is not ours.
        let unlocked = parent.join(format!("{DIR_PREFIX}2_new"));
        std::fs::create_dir_all(&unlocked).unwrap();
        let other = parent.join("someone-else");
        std::fs::create_dir_all(&other).unwrap();

        assert_eq!(sweep_sqlite_dirs(&parent), vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(live.exists() && unlocked.exists() && other.exists());

        // The live run ends without its cleanup: the next sweep removes its directory.
        drop(lock);
        assert_eq!(sweep_sqlite_dirs(&parent), vec![live.clone()]);
        assert!(unlocked.exists() && other.exists());
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
