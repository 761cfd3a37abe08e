//! What an orchestrator did, counted as it goes.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// What an orchestrator did since it started: [`OrchestratorHandle::stats`] while it runs,
/// the return value of its shutdown or run when it stops.
///
/// [`OrchestratorHandle::stats`]: crate::OrchestratorHandle::stats
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize)]
pub struct RunStats {
    /// Steps this orchestrator ran: claimed by its claim loop or handed off to it.
    pub steps_claimed: u64,
    /// Of those, the steps a completion claimed in its own transaction after releasing them.
    pub steps_handed_off: u64,
    /// Attempts that succeeded.
    pub steps_succeeded: u64,
    /// Failed attempts, including those that will be retried and expired leases.
    pub steps_failed: u64,
    /// Failed attempts after which the step will run again.
    pub retries_scheduled: u64,
    /// Tasks this orchestrator's outcomes completed.
    pub tasks_completed: u64,
    /// Tasks this orchestrator's outcomes ended in `error`.
    pub tasks_failed: u64,
    /// Expired leases (of dead orchestrators) turned into failed attempts.
    pub leases_recovered: u64,
    /// Outcomes the store refused because the lease was lost meanwhile.
    pub fenced_out: u64,
    /// Attempts of this orchestrator stopped because their lease was lost (not renewed in
    /// time, or the step was taken back): their handlers were cancelled and their outcomes
    /// never written.
    pub leases_lost: u64,
    /// Steps given back without counting an attempt because this process cannot run them
    /// (no handler for them here, or their template cannot be loaded).
    pub steps_released: u64,
    /// Outcomes that could not be stored as they were (a result the database refuses, or a
    /// write refused for another reason) and were recorded as failures that say why.
    pub outcomes_unstorable: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) steps_claimed: AtomicU64,
    pub(crate) steps_handed_off: AtomicU64,
    pub(crate) steps_succeeded: AtomicU64,
    pub(crate) steps_failed: AtomicU64,
    pub(crate) retries_scheduled: AtomicU64,
    pub(crate) tasks_completed: AtomicU64,
    pub(crate) tasks_failed: AtomicU64,
    pub(crate) leases_recovered: AtomicU64,
    pub(crate) fenced_out: AtomicU64,
    pub(crate) leases_lost: AtomicU64,
    pub(crate) steps_released: AtomicU64,
    pub(crate) outcomes_unstorable: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Stats {
    pub(crate) fn snapshot(&self) -> RunStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RunStats {
            steps_claimed: get(&self.steps_claimed),
            steps_handed_off: get(&self.steps_handed_off),
            steps_succeeded: get(&self.steps_succeeded),
            steps_failed: get(&self.steps_failed),
            retries_scheduled: get(&self.retries_scheduled),
            tasks_completed: get(&self.tasks_completed),
            tasks_failed: get(&self.tasks_failed),
            leases_recovered: get(&self.leases_recovered),
            fenced_out: get(&self.fenced_out),
            leases_lost: get(&self.leases_lost),
            steps_released: get(&self.steps_released),
            outcomes_unstorable: get(&self.outcomes_unstorable),
        }
    }
}
