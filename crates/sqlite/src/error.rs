//! Classifies SQLite errors into the portable kinds of `tasker_store::Error`.

use rusqlite::ErrorCode;
use tasker_store::Error;

pub(crate) fn map(err: rusqlite::Error) -> Error {
    match &err {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                Error::Unavailable(format!("sqlite is busy: {err}"))
            }
            ErrorCode::CannotOpen | ErrorCode::NotADatabase | ErrorCode::PermissionDenied => {
                Error::Unavailable(format!("cannot open sqlite database: {err}"))
            }
            ErrorCode::ConstraintViolation => Error::Conflict(err.to_string()),
            ErrorCode::DatabaseCorrupt => Error::Corrupt(err.to_string()),
            _ => Error::Database(err.to_string()),
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => Error::Corrupt(err.to_string()),
        _ => Error::Database(err.to_string()),
    }
}

/// `?` on rusqlite results inside the backend.
pub(crate) trait SqlResultExt<T> {
    fn sql(self) -> Result<T, Error>;
}

impl<T> SqlResultExt<T> for Result<T, rusqlite::Error> {
    fn sql(self) -> Result<T, Error> {
        self.map_err(map)
    }
}
