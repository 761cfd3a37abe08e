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
            // A duplicate key is a race another writer won; a broken foreign key or NOT NULL is
            // a bad request that retrying will not fix.
            ErrorCode::ConstraintViolation
                if matches!(
                    failure.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                Error::Conflict(err.to_string())
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn failing(sql: &str) -> Error {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p (id));
             INSERT INTO p VALUES (1);",
        )
        .expect("schema");
        map(conn.execute_batch(sql).expect_err("the statement fails"))
    }

    #[test]
    fn duplicates_are_conflicts_and_other_constraints_are_not() {
        assert!(matches!(
            failing("INSERT INTO p VALUES (1)"),
            Error::Conflict(_)
        ));
        assert!(matches!(
            failing("INSERT INTO c VALUES (1, 2)"),
            Error::Database(_)
        ));
        assert!(matches!(
            failing("INSERT INTO c VALUES (1, NULL)"),
            Error::Database(_)
        ));
        assert!(matches!(
            failing("SELECT * FROM missing"),
            Error::Database(_)
        ));
    }
}
