//! Classification of driver and pool errors into the portable [`Error`] kinds, so that the
//! engine never sees an SQLSTATE.

use tasker_store::Error;

/// What an SQLSTATE means to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A lost race with another writer: retry the same call.
    Conflict,
    /// The server cannot serve this call right now but may soon: retry later.
    Unavailable,
    /// Anything else: retrying the same call would fail the same way.
    Permanent,
}

fn kind(code: &str) -> Kind {
    match code {
        // serialization_failure, deadlock_detected, unique_violation, lock_not_available
        "40001" | "40P01" | "23505" | "55P03" => Kind::Conflict,
        // query_canceled (statement_timeout, or a cancel request) and
        // read_only_sql_transaction (a server that became a standby after a fail-over)
        "57014" | "25006" => Kind::Unavailable,
        // Class 08 is "connection exception", 57P0x are shutdowns, class 53 is "insufficient
        // resources" (disk full, out of memory, too many connections).
        c if c.starts_with("08") || c.starts_with("57P0") || c.starts_with("53") => {
            Kind::Unavailable
        }
        _ => Kind::Permanent,
    }
}

/// Maps a tokio-postgres error to its portable kind.
pub(crate) fn classify(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let message = match db.detail() {
            Some(detail) => format!("{} ({code}; {detail})", db.message()),
            None => format!("{} ({code})", db.message()),
        };
        return match kind(code) {
            Kind::Conflict => Error::Conflict(message),
            Kind::Unavailable => Error::Unavailable(message),
            Kind::Permanent => Error::Database(message),
        };
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

#[cfg(test)]
mod tests {
    use super::{Kind, kind};
    use tokio_postgres::error::SqlState;

    #[test]
    fn sqlstates_are_classified() {
        let cases = [
            (SqlState::T_R_SERIALIZATION_FAILURE, Kind::Conflict),
            (SqlState::T_R_DEADLOCK_DETECTED, Kind::Conflict),
            (SqlState::UNIQUE_VIOLATION, Kind::Conflict),
            (SqlState::LOCK_NOT_AVAILABLE, Kind::Conflict),
            (SqlState::QUERY_CANCELED, Kind::Unavailable),
            (SqlState::READ_ONLY_SQL_TRANSACTION, Kind::Unavailable),
            (SqlState::INSUFFICIENT_RESOURCES, Kind::Unavailable),
            (SqlState::DISK_FULL, Kind::Unavailable),
            (SqlState::OUT_OF_MEMORY, Kind::Unavailable),
            (SqlState::TOO_MANY_CONNECTIONS, Kind::Unavailable),
            (SqlState::CONNECTION_FAILURE, Kind::Unavailable),
            (SqlState::ADMIN_SHUTDOWN, Kind::Unavailable),
            (SqlState::CANNOT_CONNECT_NOW, Kind::Unavailable),
            (SqlState::SYNTAX_ERROR, Kind::Permanent),
            (SqlState::UNDEFINED_TABLE, Kind::Permanent),
            (SqlState::CHECK_VIOLATION, Kind::Permanent),
            (SqlState::INVALID_TEXT_REPRESENTATION, Kind::Permanent),
        ];
        for (code, expected) in cases {
            assert_eq!(kind(code.code()), expected, "{}", code.code());
        }
    }
}
