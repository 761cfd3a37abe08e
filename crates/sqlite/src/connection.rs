//! Opening the database: URL forms and the connection settings.

use crate::error::{self, SqlResultExt};
use rusqlite::Connection;
use std::time::Duration;
use tasker_store::{Error, Result};

/// Where the database lives, from `sqlite://relative.db`, `sqlite:///abs.db`, a plain path, or
/// `sqlite::memory:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Memory,
    File(String),
}

pub(crate) fn parse(path_or_url: &str) -> Location {
    if matches!(
        path_or_url,
        "sqlite::memory:" | ":memory:" | "sqlite://:memory:"
    ) {
        return Location::Memory;
    }
    let path = path_or_url
        .strip_prefix("sqlite://")
        .or_else(|| path_or_url.strip_prefix("sqlite:"))
        .unwrap_or(path_or_url);
    // Connection options in a query string are not supported; the settings are fixed below.
    let path = path.split('?').next().unwrap_or(path);
    Location::File(path.to_owned())
}

pub(crate) fn open(location: &Location) -> Result<Connection> {
    let conn = match location {
        Location::Memory => Connection::open_in_memory().sql()?,
        Location::File(path) => Connection::open(path).map_err(|e| match error::map(e) {
            Error::Unavailable(message) => Error::Unavailable(format!("{path}: {message}")),
            other => other,
        })?,
    };
    // The one time-out of this backend: a statement that finds the database locked by another
    // process (the CLI, a second program) retries for up to 5 s, then fails as unavailable
    // (SQLITE_BUSY), which callers retry. Within a process nothing waits: the store's one
    // connection runs one call at a time on its blocking thread.
    conn.busy_timeout(Duration::from_secs(5)).sql()?;
    // WAL lets readers in other processes (the CLI) look while the orchestrator writes;
    // NORMAL is durable across application crashes and syncs only at checkpoints.
    conn.pragma_update(None, "journal_mode", "WAL").sql()?;
    conn.pragma_update(None, "synchronous", "NORMAL").sql()?;
    conn.pragma_update(None, "foreign_keys", "ON").sql()?;
    // The hot indexes (ready steps, current transitions) stay in memory: 32 MiB of page
    // cache instead of the default 2 MiB. 64 MiB ran no faster (every commit walks the
    // cache's hash table, as SQLite truncates the cache to the file's size) and took a run of
    // 500,000 tasks to 137 MiB of RSS (85 MiB now); it did halve random reads with 1,000,000
    // finished tasks in the database (0.045 against 0.088 ms; 48 MiB read like 32).
    // docs/BENCHMARKS.md, round 8.
    conn.pragma_update(None, "cache_size", -32_768).sql()?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        assert_eq!(parse("sqlite::memory:"), Location::Memory);
        assert_eq!(
            parse("sqlite://data/t.db"),
            Location::File("data/t.db".into())
        );
        assert_eq!(
            parse("sqlite:///var/t.db"),
            Location::File("/var/t.db".into())
        );
        assert_eq!(parse("/tmp/t.db"), Location::File("/tmp/t.db".into()));
        assert_eq!(parse("t.db"), Location::File("t.db".into()));
    }
}
