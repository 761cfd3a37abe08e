//! What a worker asks for, checked against [`limits`](super::limits) before anything is read.

use super::limits;
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::Duration;
use tasker_model::limits::check_storable_json;

/// `POST /v1/worker/claim`: up to `max` runnable steps of `queue` (of `handlers` only, when
/// given), each under a lease of `lease`, waiting up to `wait` (capped by the server) for one
/// to become runnable.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerClaim {
    /// The queue to claim from.
    pub queue: String,
    /// Only steps of these handlers; `None`: any handler of the queue.
    pub handlers: Option<Vec<String>>,
    /// The most steps to claim.
    pub max: u32,
    /// How long to wait for a step to become runnable when none is.
    pub wait: Duration,
    /// The lease of each claimed step.
    pub lease: Duration,
    /// The worker's name: in its leases' owner (`worker:<name>:<random>`) and in what it
    /// advertises.
    pub worker: String,
}

/// How a worker's attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerFailure {
    /// What went wrong, in words.
    pub error: String,
    /// `false`: a permanent failure, the step is not retried and blocks its task.
    pub retryable: bool,
    /// Retry no sooner than this (the backoff's `max_ms` does not bound it; the engine's
    /// `max_retry_after` does).
    pub retry_after: Option<Duration>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidWorkerRequest {
        field,
        message: message.into(),
    }
}

fn check_ms(
    field: &'static str,
    value: Duration,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<()> {
    let ms = u64::try_from(value.as_millis()).unwrap_or(u64::MAX);
    if range.contains(&ms) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "must be within {}..={} ms, got {ms}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// A queue name as templates write it: 1 to 128 of `A-Z a-z 0-9 _ . -`.
pub fn check_queue(queue: &str) -> Result<()> {
    let ok = !queue.is_empty()
        && queue.len() <= limits::MAX_NAME_CHARS
        && queue
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "queue",
            format!(
                "must be 1 to {} of A-Z a-z 0-9 _ . - (as a template's `queue:`), got {queue:?}",
                limits::MAX_NAME_CHARS
            ),
        ))
    }
}

impl WorkerClaim {
    /// Checks every field against its range; [`Error::InvalidWorkerRequest`] names the first out of
    /// range.
    pub fn validate(&self) -> Result<()> {
        check_queue(&self.queue)?;
        if let Some(handlers) = &self.handlers {
            if handlers.is_empty() || handlers.len() > limits::MAX_HANDLERS {
                return Err(invalid(
                    "handlers",
                    format!(
                        "must list 1 to {} handlers (leave it out to take every handler of the queue), got {}",
                        limits::MAX_HANDLERS,
                        handlers.len()
                    ),
                ));
            }
            for handler in handlers {
                if handler.is_empty()
                    || handler.chars().count() > limits::MAX_NAME_CHARS
                    || handler.chars().any(char::is_control)
                {
                    return Err(invalid(
                        "handlers",
                        format!(
                            "each handler name must be 1 to {} characters without control characters, got {handler:?}",
                            limits::MAX_NAME_CHARS
                        ),
                    ));
                }
            }
        }
        if !(1..=limits::MAX_CLAIM).contains(&self.max) {
            return Err(invalid(
                "max",
                format!("must be within 1..={}, got {}", limits::MAX_CLAIM, self.max),
            ));
        }
        check_ms("wait_ms", self.wait, &limits::WAIT_MS)?;
        check_ms("lease_ms", self.lease, &limits::LEASE_MS)?;
        check_worker_name(&self.worker)
    }
}

/// 1 to 128 of `A-Z a-z 0-9 _ . - : @`.
pub fn check_worker_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= limits::MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "worker",
            format!(
                "must be 1 to {} of A-Z a-z 0-9 _ . - : @, got {name:?}",
                limits::MAX_NAME_CHARS
            ),
        ))
    }
}

pub(crate) fn check_lease(lease: Duration) -> Result<()> {
    check_ms("lease_ms", lease, &limits::LEASE_MS)
}

impl WorkerFailure {
    /// Checks the error's length and the retry-after's range; [`Error::InvalidWorkerRequest`] names
    /// the field at fault.
    pub fn validate(&self) -> Result<()> {
        if self.error.len() > limits::MAX_ERROR_BYTES {
            return Err(invalid(
                "error",
                format!(
                    "must be at most {} bytes, got {}",
                    limits::MAX_ERROR_BYTES,
                    self.error.len()
                ),
            ));
        }
        if let Some(after) = self.retry_after {
            check_ms("retry_after_ms", after, &limits::RETRY_AFTER_MS)?;
        }
        Ok(())
    }
}

/// A result the store can keep, or why not.
pub(crate) fn check_result(result: &Value, limit: usize) -> Result<()> {
    check_storable_json("the step result", result, limit).map_err(Error::ResultUnstorable)
}
