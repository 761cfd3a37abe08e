//! Idempotency keys: checked before anything is written, and a key reused with another
//! context answered as a conflict rather than with the task the key first created.

use super::Engine;
use crate::error::{Error, Result};
use tasker_model::limits::check_idempotency_key;
use tasker_store::{CreatedTask, NewTask};

/// Refuses an empty key, one longer than 255 characters, or one with a NUL character.
pub(super) fn check_key(key: Option<&str>) -> Result<()> {
    match key {
        Some(key) => check_idempotency_key(key).map_err(Error::InvalidIdempotencyKey),
        None => Ok(()),
    }
}

/// For every request whose key matched an existing task (`created: false`), compares that
/// task's context with the request's (after defaults): a different one is
/// [`Error::IdempotencyConflict`]. `new` and `created` are in the same order.
pub(super) async fn check_conflicts(
    engine: &Engine,
    new: &[NewTask],
    created: &[CreatedTask],
) -> Result<()> {
    for (request, answer) in new.iter().zip(created) {
        let Some(key) = &request.idempotency_key else {
            continue;
        };
        if answer.created {
            continue;
        }
        let existing = engine.task(answer.id).await?;
        if existing.context != request.context {
            return Err(Error::IdempotencyConflict {
                key: key.clone(),
                task: answer.id,
            });
        }
    }
    Ok(())
}
