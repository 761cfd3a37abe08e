//! Idempotency keys: checked before anything is written, and a key reused with another
//! context answered as a conflict rather than with the task the key first created.

use crate::error::{Error, Result};
use tasker_model::limits::check_idempotency_key;
use tasker_store::NewTask;

/// Refuses an empty key, one longer than 255 characters, or one with a NUL character.
pub(super) fn check_key(key: Option<&str>) -> Result<()> {
    match key {
        Some(key) => check_idempotency_key(key).map_err(Error::InvalidIdempotencyKey),
        None => Ok(()),
    }
}

/// The store refuses a batch in which a key that already created a task comes with another
/// context (checked in the creating transaction, so nothing of the batch is written): name
/// that key.
pub(super) fn conflict(error: tasker_store::Error, new: &[NewTask]) -> Error {
    match error {
        tasker_store::Error::IdempotencyConflict { index, task } => Error::IdempotencyConflict {
            key: new
                .get(index)
                .and_then(|t| t.idempotency_key.clone())
                .unwrap_or_default(),
            task,
        },
        other => Error::Store(other),
    }
}
