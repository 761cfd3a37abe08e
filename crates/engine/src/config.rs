//! Settings of the engine and of an orchestrator.

use std::sync::Arc;
use std::time::Duration;
use tasker_model::backoff::DEFAULT_MAX_RETRY_AFTER;
use tasker_model::{Clock, SystemClock};

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Retry failed steps at once instead of after their backoff (tests, demos).
    pub retry_backoff_disabled: bool,
    /// The longest wait a handler's retry-after may ask for ([`StepError::retry_after`]); a
    /// longer request waits this long. The backoff's own `max_ms` does not bound a retry-after.
    /// Default one hour.
    ///
    /// [`StepError::retry_after`]: crate::StepError::retry_after
    pub max_retry_after: Duration,
    pub clock: Arc<dyn Clock>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            retry_backoff_disabled: false,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            clock: Arc::new(SystemClock),
        }
    }
}

#[derive(Clone, Debug)]
pub struct OrchestratorConfig {
    /// Who holds the leases; must be unique among the orchestrators sharing a database.
    pub owner: String,
    /// Handlers running at once. A claim asks for at most the free slots, so this also caps
    /// the claim batch: the default is high because handlers are async tasks and cheap to
    /// hold; lower it for handlers that each hold a scarce resource (processes, connections).
    pub concurrency: usize,
    /// Steps claimed per store call, at most. Large batches spread each statement's fixed
    /// cost (planning, round trips, commit) over many steps.
    pub claim_batch: u32,
    pub lease_duration: Duration,
    /// How often to look for work when nothing wakes the claimer (other processes' work).
    pub poll_interval: Duration,
    /// Outcomes written per store call, at most.
    pub completion_batch: usize,
    /// How often to look for expired leases of dead orchestrators.
    pub rescue_interval: Duration,
    /// Stop when nothing is runnable, waiting for a retry, or running.
    pub until_idle: bool,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            owner: default_owner(),
            concurrency: 512,
            claim_batch: 256,
            lease_duration: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            completion_batch: 1024,
            rescue_interval: Duration::from_secs(5),
            until_idle: false,
        }
    }
}

/// `<hostname>-<pid>-<random>`: readable in `task show`, unique across restarts.
pub fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix: u32 = rand::random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}
