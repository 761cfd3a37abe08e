//! Classification of driver and pool errors into the portable [`Error`] kinds, so that the
//! engine never sees an SQLSTATE.

use tasker_store::Error;
use tokio_postgres::error::SqlState;

/// Maps a tokio-postgres error to its portable kind.
pub(crate) fn classify(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let message = match db.detail() {
            Some(detail) => format!("{} ({}; {detail})", db.message(), code.code()),
            None => format!("{} ({})", db.message(), code.code()),
        };
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::UNIQUE_VIOLATION
            || *code == SqlState::LOCK_NOT_AVAILABLE
        {
            return Error::Conflict(message);
        }
        let c = code.code();
        // Class 08 is "connection exception"; 57P0x are shutdowns; 53300 is "too many
        // connections": all mean the server cannot serve us right now.
        if c.starts_with("08") || c.starts_with("57P0") || c == "53300" {
            return Error::Unavailable(message);
        }
        return Error::Database(message);
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        Error::Unavailable(e.to_string())
    } else {
        Error::Database(e.to_string())
    }
}

pub(crate) fn pool(e: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Backend(e) => classify(e),
        PoolError::Timeout(_) | PoolError::Closed => Error::Unavailable(e.to_string()),
        other => Error::Database(other.to_string()),
    }
}

/// `.db()?` on driver results.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T, Error>;
}

impl<T> DbResult<T> for Result<T, tokio_postgres::Error> {
    fn db(self) -> Result<T, Error> {
        self.map_err(classify)
    }
}
