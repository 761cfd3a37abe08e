//! Renews the leases of the steps this orchestrator is running, every third of a lease, so
//! that a long handler keeps its step and a dead process loses its steps within one lease.
//!
//! A renewal that comes back without a step whose handler still runs means the lease is gone
//! (it expired before the renewal reached the database, or the step was rescued, resolved or
//! cancelled): the attempt is told to stop at once. Each attempt also stops by itself when its
//! local deadline passes without a renewal (`lease.rs`), so a heartbeat that stalls, or a
//! database that does not answer, never leaves a handler running on an expired lease.

use super::Shared;
use crate::telemetry::metrics;
use std::sync::Arc;
use tokio::time::Instant;

pub(crate) async fn run(shared: Arc<Shared>) {
    let lease = shared.config.lease_duration;
    let period = (lease / 3).max(std::time::Duration::from_millis(10));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        // A renewal that takes longer than a period is dropped and sent again at the next tick:
        // one stalled statement must not hold back the renewals after it.
        if tokio::time::timeout(period, renew(&shared)).await.is_err() {
            tracing::warn!(timeout = ?period, "a lease renewal did not answer in time; trying again");
        }
    }
}

/// One renewal of every lease held.
pub(crate) async fn renew(shared: &Shared) {
    let lease = shared.lease_budget();
    let steps = shared.leases.held();
    if steps.is_empty() {
        return;
    }
    let sent = Instant::now();
    let now = shared.engine.now();
    let expires_at = super::lease_expiry(&shared.config, now);
    match shared
        .engine
        .store()
        .renew_leases(&shared.config.owner, &steps, now, expires_at)
        .await
    {
        Ok(renewed) => {
            let lost = shared.leases.renewal(&steps, &renewed, sent, lease);
            for l in &lost {
                tracing::warn!(
                    step_id = l.step_id,
                    attempt = l.attempt,
                    "lease not renewed: it expired or the step was taken back; stopping the handler"
                );
            }
        }
        Err(e) => {
            metrics::database_error(&e);
            tracing::warn!(error = %e, steps = steps.len(), "cannot renew leases; handlers stop when their leases run out")
        }
    }
}
