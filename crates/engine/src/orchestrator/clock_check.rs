//! Compares this process's clock with the database's, at start and then periodically.
//!
//! Lease expiries and retry times come from each process's clock, so two processes whose
//! clocks disagree judge the same lease differently: one whose clock runs ahead by more than
//! what an attempt keeps in reserve could rescue a step that is still running elsewhere. Each
//! attempt stops itself a sixth of a lease before its lease could expire (`lease.rs`), so a
//! skew below that can never make two attempts of a step overlap. Above half of it the check
//! warns; above it the orchestrator refuses to start, and one that drifts there while running
//! stops claiming and rescuing until its clock is back within the limit.

use super::Shared;
use crate::error::{Error, Result};
use crate::telemetry::metrics;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The skew an orchestrator with leases of `lease` tolerates.
pub(crate) fn tolerated(lease: Duration) -> Duration {
    lease / 6
}

/// How often a running orchestrator checks again.
fn interval(lease: Duration) -> Duration {
    (lease * 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// This clock minus the database's (positive: ahead), known to within the returned
/// uncertainty (half the round trip). The best of a few readings: a database that answers
/// slowly (a busy SQLite connection, a loaded server) makes one reading vague, not wrong.
/// `None` for clocks that do not follow real time (a `ManualClock` in tests) or when the
/// database cannot be asked.
async fn measure(shared: &Shared) -> Option<(chrono::Duration, chrono::Duration)> {
    let engine = &shared.engine;
    if !engine.config().clock.follows_real_time() {
        return None;
    }
    let mut best: Option<(chrono::Duration, chrono::Duration)> = None;
    for _ in 0..READINGS {
        let before = engine.now();
        let database = match engine.store().database_time().await {
            Ok(t) => t,
            Err(e) => {
                metrics::database_error(&e);
                tracing::warn!(error = %e, "cannot read the database's clock to check this one");
                return best;
            }
        };
        let after = engine.now();
        // The database read its clock somewhere between the two readings of ours.
        let uncertainty = (after - before) / 2;
        let skew = before + uncertainty - database;
        if best.is_none_or(|(_, u)| uncertainty < u) {
            best = Some((skew, uncertainty));
        }
    }
    best
}

/// Readings per check.
const READINGS: usize = 3;

/// Refuses to start with a clock too far off the database's.
pub(crate) async fn check_at_start(shared: &Shared) -> Result<()> {
    let Some((skew, uncertainty)) = measure(shared).await else {
        return Ok(());
    };
    judge(shared, skew, uncertainty).map_err(|()| skew_error(shared, skew))
}

/// Checks again every little while, pausing claims and rescues while the skew is too large.
pub(crate) async fn watch(shared: std::sync::Arc<Shared>) {
    let mut ticker = tokio::time::interval(interval(shared.config.lease_duration));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some((skew, uncertainty)) = measure(&shared).await else {
            continue;
        };
        let ok = judge(&shared, skew, uncertainty).is_ok();
        let was_ok = shared.clock_ok.swap(ok, Ordering::AcqRel);
        if was_ok && !ok {
            tracing::error!(error = %skew_error(&shared, skew), "pausing claims and rescues until the clocks agree again");
        } else if !was_ok && ok {
            tracing::info!(
                skew_ms = skew.num_milliseconds(),
                "clocks agree again; resuming claims and rescues"
            );
        }
    }
}

/// `Err` when the skew is surely above the tolerated one (even allowing for the uncertainty
/// of the reading); a warning above half of it.
fn judge(
    shared: &Shared,
    skew: chrono::Duration,
    uncertainty: chrono::Duration,
) -> std::result::Result<(), ()> {
    let tolerated = tolerated(shared.config.lease_duration);
    let off = (skew.abs() - uncertainty)
        .to_std()
        .unwrap_or(Duration::ZERO);
    if off > tolerated {
        return Err(());
    }
    if off > tolerated / 2 {
        tracing::warn!(
            skew_ms = skew.num_milliseconds(),
            tolerated_ms = tolerated.as_millis() as u64,
            "this process's clock is off the database's by more than half of what its leases tolerate"
        );
    }
    Ok(())
}

fn skew_error(shared: &Shared, skew: chrono::Duration) -> Error {
    let lease = shared.config.lease_duration;
    Error::ClockSkew {
        skew_ms: skew.num_milliseconds(),
        limit_ms: tolerated(lease).as_millis() as i64,
        lease_ms: lease.as_millis(),
    }
}
