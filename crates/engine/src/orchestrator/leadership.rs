//! Leader election for maintenance that one process at a time should do (the rescuer): a
//! lease row per job in the store, taken when free or when its holder's term has ended,
//! renewed by the holder on each round, given up on shutdown. When the holder dies its term
//! runs out and the next process to try takes over.
//!
//! Correctness never depends on it: rescuing is a fenced compare-and-set, so two rescuers at
//! once (a term that ran out under a slow leader) only duplicate a query, never an outcome.

use super::Shared;
use crate::telemetry::metrics;

/// The rescuer's leadership name.
pub(crate) const RESCUER: &str = "rescuer";

/// Takes or renews the leadership `name` for one term, as long as a step lease: a dead leader
/// is replaced about as fast as its dead steps are recovered. Returns whether this
/// orchestrator leads; `false` when the store cannot be asked (maintenance pauses, which is
/// what an unreachable database would impose anyway).
pub(crate) async fn lead(shared: &Shared, name: &str, was_leader: bool) -> bool {
    let now = shared.engine.now();
    let term =
        chrono::Duration::from_std(shared.config.lease_duration).unwrap_or(chrono::Duration::MAX);
    let until = now.checked_add_signed(term).unwrap_or(now);
    let owner = &shared.config.owner;
    match shared
        .engine
        .store()
        .try_acquire_leadership(name, owner, now, until)
        .await
    {
        Ok(leader) => {
            if leader != was_leader {
                tracing::info!(job = name, %owner, leader, "leadership changed");
            }
            leader
        }
        Err(e) => {
            metrics::database_error(&e);
            tracing::warn!(job = name, error = %e, "cannot renew leadership; pausing this job");
            false
        }
    }
}

/// Gives up the leadership `name` if this orchestrator holds it, so that another process
/// takes over at its next round instead of after the term.
pub(crate) async fn resign(shared: &Shared, name: &str) {
    if let Err(e) = shared
        .engine
        .store()
        .release_leadership(name, &shared.config.owner)
        .await
    {
        metrics::database_error(&e);
        tracing::warn!(job = name, error = %e, "cannot give up leadership; it will expire");
    }
}
