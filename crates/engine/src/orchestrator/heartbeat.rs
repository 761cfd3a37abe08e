//! Renews the leases of the steps this orchestrator is running, every third of a lease, so
//! that a long handler keeps its step and a dead process loses its steps within one lease.

use super::Shared;
use std::sync::Arc;

pub(crate) async fn run(shared: Arc<Shared>) {
    let lease = shared.config.lease_duration;
    let period = (lease / 3).max(std::time::Duration::from_millis(10));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let steps: Vec<(i64, i32)> = shared
            .running()
            .iter()
            .map(|(&id, &attempt)| (id, attempt))
            .collect();
        if steps.is_empty() {
            continue;
        }
        let now = shared.engine.now();
        let expires_at = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        match shared
            .engine
            .store()
            .renew_leases(&shared.config.owner, &steps, now, expires_at)
            .await
            .map(|renewed| renewed.len())
        {
            Ok(renewed) if renewed < steps.len() => {
                // Outcomes written meanwhile account for some; the rest were lost (rescued by
                // someone else) and their completions will be fenced.
                tracing::debug!(renewed, held = steps.len(), "some leases were not renewed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, steps = steps.len(), "cannot renew leases"),
        }
    }
}
