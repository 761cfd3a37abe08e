//! Tells the store which steps this orchestrator runs (its in-process handlers), when it
//! starts and then every lease period, so that `task show` can say of a step that waits
//! because nobody runs its handler: "no worker has handler X".

use super::Shared;
use crate::telemetry::metrics;
use std::sync::Arc;
use std::time::Duration;
use tasker_model::Timestamp;

/// Advertisements are renewed at least this often (every lease period, when the lease is
/// shorter), so that [`LIVE_WINDOW`] holds whatever the leases are.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_secs(30);

/// A route counts as served when it was advertised this recently: two of the longest
/// intervals, so that a process advertising on time is never judged absent because of a
/// late tick or a slow write.
pub(crate) const LIVE_WINDOW: Duration = Duration::from_secs(60);

/// Rows of processes and workers not seen for this long are deleted when anyone advertises.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// How often a claimer with this lease renews its advertisement.
pub(crate) fn interval(lease: Duration) -> Duration {
    lease.min(MAX_INTERVAL)
}

/// The `forget_before` of an advertisement made at `now`.
pub(crate) fn forget_before(now: Timestamp) -> Timestamp {
    now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or(chrono::Duration::days(1))
}

/// The `since` of a question about routes served at `now`.
pub(crate) fn live_since(now: Timestamp) -> Timestamp {
    now - chrono::Duration::from_std(LIVE_WINDOW).unwrap_or(chrono::Duration::minutes(1))
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let handlers = shared.engine.handlers().names();
    let mut ticker = tokio::time::interval(interval(shared.config.lease_duration));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let engine = &shared.engine;
        let now = engine.now();
        if let Err(e) = engine
            .store()
            .advertise_handlers(
                &shared.config.owner,
                None,
                &handlers,
                now,
                forget_before(now),
            )
            .await
        {
            // Only explanations depend on it; the next tick tries again.
            metrics::database_error(&e);
            tracing::debug!(error = %e, "cannot advertise this orchestrator's handlers");
        }
    }
}
