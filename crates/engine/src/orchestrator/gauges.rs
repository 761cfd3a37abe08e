//! Refreshes the runnable-steps gauge: every few seconds, a count of the steps runnable now in
//! the whole database, bounded (a walk of the ready index that stops at a cap), so its cost
//! does not grow with the backlog.
//!
//! Every orchestrator process reports it (not only the elected leader), so that a scrape of
//! any process tells the truth; the processes report the same number, so aggregate them with
//! `max`, not `sum`. The in-flight and lease gauges are counted where they change instead.

use super::Shared;
use crate::telemetry::metrics::{self, RUNNABLE_CAP, RUNNABLE_INTERVAL};
use std::sync::Arc;

pub(crate) async fn run(shared: Arc<Shared>) {
    if shared.config.only_task.is_some() {
        // Running one task says nothing about the rest of the database.
        return;
    }
    let mut ticker = tokio::time::interval(RUNNABLE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let engine = &shared.engine;
        match engine
            .store()
            .count_runnable_steps(engine.now(), RUNNABLE_CAP)
            .await
        {
            Ok(count) => metrics::steps_runnable(count),
            Err(e) => {
                metrics::database_error(&e);
                tracing::debug!(error = %e, "cannot count the runnable steps");
            }
        }
    }
}
