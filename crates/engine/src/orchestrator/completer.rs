//! Writes handler outcomes in batches: everything available (up to `completion_batch`) goes
//! into one `complete_steps` call. An outcome that cannot be written is kept and written again;
//! it is never dropped while its lease may still be live.

use super::Shared;
use super::executor::Report;
use super::stats::bump;
use crate::events::Event;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tasker_model::State;
use tasker_store::{CompletionResult, OutcomeKind};
use tokio::sync::mpsc::UnboundedReceiver;

/// After the last executor is gone, give up on a database that stays away this many times:
/// the leases then expire and the steps are rescued by whoever comes next.
const FINAL_WRITE_ATTEMPTS: u32 = 8;

pub(crate) async fn run(shared: Arc<Shared>, mut reports: UnboundedReceiver<Report>) {
    let batch = shared.config.completion_batch;
    let mut pending: Vec<Report> = Vec::with_capacity(batch);
    let mut closed = false;
    let mut failures: u32 = 0;
    loop {
        if pending.is_empty() {
            if closed {
                return;
            }
            match reports.recv().await {
                Some(report) => pending.push(report),
                None => return,
            }
        }
        while pending.len() < batch {
            match reports.try_recv() {
                Ok(report) => pending.push(report),
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        match write(&shared, &pending).await {
            Ok(()) => {
                failures = 0;
                pending.clear();
            }
            Err(e) => {
                failures += 1;
                if closed && failures >= FINAL_WRITE_ATTEMPTS {
                    tracing::error!(error = %e, outcomes = pending.len(), "giving up on writing outcomes; their leases will expire and be rescued");
                    return;
                }
                let wait = store_backoff(failures);
                tracing::warn!(error = %e, outcomes = pending.len(), retry_in = ?wait, "cannot write outcomes; will retry");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Exponential from 50 ms, capped at 5 s.
pub(crate) fn store_backoff(failures: u32) -> Duration {
    let ms = 50u64.saturating_mul(1 << failures.min(7));
    Duration::from_millis(ms.min(5_000))
}

async fn write(shared: &Shared, pending: &[Report]) -> Result<(), tasker_store::Error> {
    let outcomes: Vec<_> = pending.iter().map(|r| r.outcome.clone()).collect();
    let now = shared.engine.now();
    let results = shared.engine.store().complete_steps(&outcomes, now).await?;
    {
        let mut running = shared.running();
        for report in pending {
            running.remove(&report.outcome.step_id);
        }
    }
    shared.in_flight.fetch_sub(pending.len(), Ordering::AcqRel);
    apply_results(shared, pending, &results, false);
    shared.progress.notify_one();
    Ok(())
}

/// Counts, logs and publishes what the store applied. Shared with the rescuer.
pub(crate) fn apply_results(
    shared: &Shared,
    reports: &[Report],
    results: &[CompletionResult],
    rescued: bool,
) {
    let stats = &shared.stats;
    let events = shared.engine.events();
    let mut wake = false;
    for (report, result) in reports.iter().zip(results) {
        let outcome = &report.outcome;
        let (task_id, step_id, attempt) = (outcome.task_id, outcome.step_id, outcome.attempt);
        let name = report.name.clone();
        if !result.applied {
            bump(&stats.fenced_out, 1);
            tracing::warn!(task_id, step_id, step = %name, attempt, owner = %outcome.owner, "outcome fenced out: the lease was lost before it was written");
            continue;
        }
        if rescued {
            bump(&stats.leases_recovered, 1);
        }
        wake |= !result.released_steps.is_empty();
        match &outcome.result {
            OutcomeKind::Succeeded { .. } => {
                bump(&stats.steps_succeeded, 1);
                tracing::debug!(task_id, step_id, step = %name, attempt, "step completed");
                events.publish(Event::StepCompleted {
                    task_id,
                    step_id,
                    name,
                    attempt,
                });
            }
            OutcomeKind::Failed {
                error, retry_at, ..
            } => {
                bump(&stats.steps_failed, 1);
                tracing::debug!(task_id, step_id, step = %name, attempt, %error, ?retry_at, "step failed");
                events.publish(Event::StepFailed {
                    task_id,
                    step_id,
                    name: name.clone(),
                    attempt,
                    error: error.clone(),
                    permanent: retry_at.is_none(),
                });
                if let Some(retry_at) = *retry_at {
                    bump(&stats.retries_scheduled, 1);
                    wake = true;
                    events.publish(Event::RetryScheduled {
                        task_id,
                        step_id,
                        name,
                        attempt,
                        retry_at,
                    });
                }
            }
        }
        match result.task_finished {
            Some(State::Complete) => {
                bump(&stats.tasks_completed, 1);
                tracing::info!(task_id, "task completed");
                events.publish(Event::TaskCompleted { task_id });
            }
            Some(State::Error) => {
                bump(&stats.tasks_failed, 1);
                tracing::info!(task_id, "task failed");
                events.publish(Event::TaskFailed { task_id });
            }
            _ => {}
        }
    }
    if wake {
        shared.engine.wakeup().notify();
    }
}
