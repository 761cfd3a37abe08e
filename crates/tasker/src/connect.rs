//! The one place that knows both backends: a database URL picks one. Each backend is compiled
//! only with its cargo feature (`sqlite`, `postgres`); a URL for one left out gets an error
//! that names the feature.

use std::sync::Arc;
use tasker_engine::Error;
use tasker_store::Store;

/// Opens a store from a URL: `sqlite://path.db` (created if missing), `sqlite::memory:`, or
/// `postgres://...` / `postgresql://...`. Does not migrate.
///
/// A URL for a backend this build leaves out fails with [`Error::BackendNotBuilt`]; any other
/// scheme with [`Error::UnsupportedDatabaseUrl`].
///
/// ```
/// use tasker::{Engine, EngineConfig, HandlerRegistry};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tasker::Error> {
/// let store = tasker::connect("sqlite::memory:").await?;
/// assert_eq!(store.backend_name(), "sqlite");
/// let engine = Engine::new(store, HandlerRegistry::with_builtins(), EngineConfig::default());
/// engine.migrate().await?;
///
/// assert!(matches!(
///     tasker::connect("mysql://db/app").await,
///     Err(tasker::Error::UnsupportedDatabaseUrl(_))
/// ));
/// # Ok(())
/// # }
/// ```
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, Error> {
    open(database_url, &Settings::default()).await
}

/// What [`crate::TaskerBuilder`] can set beyond the URL.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// The PostgreSQL schema of every table; `None`: the server's default (`public`).
    #[cfg(feature = "postgres")]
    pub(crate) postgres_schema: Option<String>,
    /// Connections of the PostgreSQL pool; `None`: the backend's default.
    #[cfg(feature = "postgres")]
    pub(crate) pool_size: Option<usize>,
}

/// The backend a URL names, among those this build has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Backend {
    /// The backend of `url`, or why none can open it in this build; connects to nothing.
    pub(crate) fn of(url: &str) -> Result<Backend, Error> {
        match scheme(url) {
            #[cfg(feature = "sqlite")]
            Some("sqlite") => Ok(Backend::Sqlite),
            #[cfg(not(feature = "sqlite"))]
            Some("sqlite") => Err(Error::BackendNotBuilt {
                backend: "SQLite",
                feature: "sqlite",
            }),
            #[cfg(feature = "postgres")]
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            #[cfg(not(feature = "postgres"))]
            Some("postgres" | "postgresql") => Err(Error::BackendNotBuilt {
                backend: "PostgreSQL",
                feature: "postgres",
            }),
            _ => Err(Error::UnsupportedDatabaseUrl(url.to_owned())),
        }
    }
}

// Only the PostgreSQL backend has settings.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub(crate) async fn open(database_url: &str, settings: &Settings) -> Result<Arc<dyn Store>, Error> {
    match Backend::of(database_url)? {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(Arc::new(tasker_sqlite::SqliteStore::open(database_url)?)),
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let mut options = tasker_postgres::PgOptions {
                schema: settings.postgres_schema.clone(),
                ..tasker_postgres::PgOptions::default()
            };
            if let Some(size) = settings.pool_size {
                options.pool_size = size;
            }
            Ok(Arc::new(
                tasker_postgres::PostgresStore::connect_with(database_url, options).await?,
            ))
        }
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

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_memory_opens() {
        let store = connect("sqlite::memory:").await.unwrap();
        assert_eq!(store.backend_name(), "sqlite");
    }

    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn postgres_urls_name_the_missing_feature() {
        let Err(e) = connect("postgres://u@h/db").await else {
            panic!("accepted")
        };
        assert_eq!(
            e.to_string(),
            "this build has no PostgreSQL support: enable the `postgres` feature of `tasker`"
        );
    }

    #[cfg(not(feature = "sqlite"))]
    #[tokio::test]
    async fn sqlite_urls_name_the_missing_feature() {
        let Err(e) = connect("sqlite::memory:").await else {
            panic!("accepted")
        };
        assert_eq!(
            e.to_string(),
            "this build has no SQLite support: enable the `sqlite` feature of `tasker`"
        );
    }
}
