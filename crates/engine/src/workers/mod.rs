//! Steps run by workers in any language, which pull them over HTTP (`/v1/worker/*`, served by
//! `tasker serve`). The server claims for a worker through the same `Store::claim_steps` as
//! an orchestrator, with the worker's queue and handlers, under an owner of its own per claim
//! request (`worker:<name>:<random>`); the lease token it hands out names that owner and the
//! attempt (`token.rs`), so heartbeats are `renew_leases` and outcomes go through the same
//! fenced `complete_steps`, with the same retry rules, as in-process outcomes.
//!
//! Parts: `claim.rs` (claim and long-poll), `outcome.rs` (complete, fail, and recognising a
//! repeated call), `batcher.rs` (outcomes of concurrent requests written together),
//! `attempts.rs` (what the server remembers of the attempts it handed out), `advertise.rs`
//! (who serves which queue and handlers).

mod advertise;
mod attempts;
mod batcher;
mod claim;
mod outcome;
mod request;
mod token;

pub use claim::WorkerStep;
pub use outcome::Recorded;
pub use request::{WorkerClaim, WorkerFailure, check_queue, check_worker_name};
pub use token::{LeaseToken, MAX_TOKEN_CHARS};

use crate::engine::Engine;
use std::sync::Arc;
use std::time::Duration;

/// The ranges of the worker protocol's fields; durations in milliseconds.
pub mod limits {
    use std::ops::RangeInclusive;

    /// Steps per claim request, at most.
    pub const MAX_CLAIM: u32 = 100;
    /// Handlers in a claim's filter, at most.
    pub const MAX_HANDLERS: usize = 100;
    /// A queue, handler or worker name, in characters.
    pub const MAX_NAME_CHARS: usize = 128;
    /// A lease taken or renewed for a worker: 1 s to 1 h (heartbeats keep longer work alive).
    pub const LEASE_MS: RangeInclusive<u64> = 1_000..=3_600_000;
    /// The lease when a request names none.
    pub const DEFAULT_LEASE_MS: u64 = 30_000;
    /// How long a claim may ask to wait; the server caps it further
    /// (`tasker serve --worker-max-wait-ms`).
    pub const WAIT_MS: RangeInclusive<u64> = 0..=60_000;
    /// The server's cap on a claim's wait when none is configured.
    pub const DEFAULT_MAX_WAIT_MS: u64 = 30_000;
    /// A failure's `retry_after_ms`: up to 24 h (the engine's `max_retry_after` bounds the
    /// wait further).
    pub const RETRY_AFTER_MS: RangeInclusive<u64> = 0..=86_400_000;
    /// A failure's error text, in bytes.
    pub const MAX_ERROR_BYTES: usize = 65_536;
}

/// The worker side of an engine. Cheap to clone; clones share the outcome writer and what is
/// remembered of handed-out attempts. Create one per server ([`Engine::workers`]): the
/// outcome writer starts with the first outcome, inside the caller's tokio runtime.
#[derive(Clone)]
pub struct Workers {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    max_wait: Duration,
    attempts: attempts::Attempts,
    advertised: advertise::Advertised,
    batcher: batcher::Batcher,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("max_wait", &self.inner.max_wait)
            .finish()
    }
}

impl Engine {
    /// Serves workers; a claim waits at most `max_wait` for work, whatever it asks for.
    pub fn workers(&self, max_wait: Duration) -> Workers {
        Workers {
            inner: Arc::new(Inner {
                engine: self.clone(),
                max_wait,
                attempts: attempts::Attempts::default(),
                advertised: advertise::Advertised::default(),
                batcher: batcher::Batcher::new(self.clone()),
            }),
        }
    }
}

impl Workers {
    /// The engine the protocol runs on.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The longest a claim waits for work.
    pub fn max_wait(&self) -> Duration {
        self.inner.max_wait
    }
}
