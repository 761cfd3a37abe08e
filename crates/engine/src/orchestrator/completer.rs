//! Writes handler outcomes in batches, one batch at a time: everything available (up to
//! `completion_batch`) goes into one `complete_and_claim` call. An outcome that cannot be
//! written because the database is unavailable (or slow, or read-only during a failover) is
//! kept and written again, for as long as it takes. One the store refuses for another reason
//! is recorded instead as a permanent failure of the step whose error says why, so the step's
//! history tells what happened; only when even that cannot be written (or the database stays
//! away during a shutdown) is it given up, its lease left to expire and be rescued.

use super::claimer::{HandedOff, track};
use super::executor::{AttemptMeta, Report, unstorable};
use super::stats::bump;
use super::{Shared, lease_expiry};
use crate::events::Event;
use crate::telemetry::metrics::{self, AttemptOutcome};
use crate::telemetry::{TaskEnd, task_ended};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tasker_model::limits::storable_text;
use tasker_model::{State, StepId};
use tasker_store::{Completion, CompletionResult, Handoff, OutcomeKind};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{Receiver, UnboundedSender};
use tokio::time::Instant;

/// During a shutdown, give up on a database that stays away this many times: the leases then
/// expire and the steps are rescued by whoever comes next.
const FINAL_WRITE_ATTEMPTS: u32 = 8;

/// A batch the store refuses for a reason other than availability this many times is written
/// one outcome at a time, so that one bad outcome cannot hold the others back.
const SPLIT_AFTER: u32 = 3;

/// Yields in a row without a new report before a batch is written.
const GATHER_YIELDS: u32 = 16;

/// Writes one batch at a time: while it commits, the next outcomes pile up for the next batch.
/// Two writers at once on PostgreSQL made every scale slower: they waited for each other's
/// task locks (a diamond's branches finish in different batches), and split the outcomes into
/// smaller batches. 50,000 tasks ran in 10.8-14.1 s with one writer against 13.6-16.0 s with
/// two (interleaved runs), 5,000 in 1.36-1.38 s against 1.68-1.96 s.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut reports: Receiver<Report>,
    handoffs: UnboundedSender<HandedOff>,
) {
    let batch = shared.config.completion_batch;
    let mut closed = false;
    while !closed {
        let Some(first) = reports.recv().await else {
            break;
        };
        let mut pending = Vec::with_capacity(batch);
        pending.push(first);
        gather(&mut reports, &mut pending, batch, &mut closed).await;
        write_until_done(&shared, pending, &handoffs).await;
    }
}

/// Writes a batch, retrying while the store is unavailable; isolates an outcome the store
/// keeps refusing and records it as a failure that says why.
async fn write_until_done(
    shared: &Shared,
    mut pending: Vec<Report>,
    handoffs: &UnboundedSender<HandedOff>,
) {
    let Err(e) = write_with_retries(shared, &mut pending, handoffs).await else {
        return;
    };
    if pending.len() == 1 {
        record_refused(shared, pending, &e, handoffs).await;
        return;
    }
    tracing::warn!(error = %e, outcomes = pending.len(), "the store refuses a batch of outcomes; writing them one at a time");
    for report in pending {
        let mut single = vec![report];
        if let Err(e) = write_with_retries(shared, &mut single, handoffs).await {
            record_refused(shared, single, &e, handoffs).await;
        }
    }
}

/// The store refused an outcome for a reason other than availability: the step's history
/// gets a permanent failure that quotes the refusal instead of nothing at all.
async fn record_refused(
    shared: &Shared,
    mut single: Vec<Report>,
    error: &tasker_store::Error,
    handoffs: &UnboundedSender<HandedOff>,
) {
    let already_a_stand_in = single.iter().any(|r| {
        matches!(&r.outcome.result, OutcomeKind::Failed { metadata, .. }
            if metadata["failure"] == "unstorable_outcome")
    });
    if !already_a_stand_in {
        bump(&shared.stats.outcomes_unstorable, single.len() as u64);
        for report in &mut single {
            let o = &report.outcome;
            tracing::error!(%error, task_id = o.task_id, step_id = o.step_id, attempt = o.attempt, "the store refuses this outcome; recording a failure that says why instead");
            report.outcome.result = unstorable(format!(
                "the database refused it: {}",
                storable_text(&error.to_string())
            ));
        }
        match write_with_retries(shared, &mut single, handoffs).await {
            Ok(()) => return,
            Err(e) => return forget(shared, single, &e),
        }
    }
    forget(shared, single, error);
}

async fn write_with_retries(
    shared: &Shared,
    pending: &mut [Report],
    handoffs: &UnboundedSender<HandedOff>,
) -> Result<(), tasker_store::Error> {
    let mut failures: u32 = 0;
    loop {
        let Err(e) = write(shared, pending, handoffs).await else {
            return Ok(());
        };
        metrics::database_error(&e);
        failures += 1;
        let stopping = shared.shutdown.is_triggered();
        if (!e.is_transient() && failures >= SPLIT_AFTER)
            || (stopping && failures >= FINAL_WRITE_ATTEMPTS)
        {
            return Err(e);
        }
        let wait = store_backoff(failures);
        tracing::warn!(error = %e, outcomes = pending.len(), retry_in = ?wait, "cannot write outcomes; will retry");
        tokio::time::sleep(wait).await;
    }
}

/// Stops tracking outcomes that could not be written at all: their leases are no longer
/// renewed, so they expire and the rescuer (here or elsewhere) turns them into failed attempts
/// (`lease_expired` in the step's history).
fn forget(shared: &Shared, pending: Vec<Report>, error: &tasker_store::Error) {
    for report in &pending {
        let o = &report.outcome;
        tracing::error!(%error, task_id = o.task_id, step_id = o.step_id, attempt = o.attempt, "giving up on writing an outcome; its lease will expire and the step will be rescued");
        shared.leases.remove(o.step_id, o.attempt);
    }
    let count = pending.len();
    drop(pending); // the slots
    shared.leave_flight(count);
}

/// Takes what is available, up to `batch`. Handlers of one claimed batch finish at nearly the
/// same moment; yielding briefly lets them report, so that they share one write instead of the
/// first paying for a write of its own.
async fn gather(
    reports: &mut Receiver<Report>,
    pending: &mut Vec<Report>,
    batch: usize,
    closed: &mut bool,
) {
    let mut idle_yields = 0;
    while pending.len() < batch && idle_yields < GATHER_YIELDS {
        match reports.try_recv() {
            Ok(report) => {
                pending.push(report);
                idle_yields = 0;
            }
            Err(TryRecvError::Empty) => {
                idle_yields += 1;
                tokio::task::yield_now().await;
            }
            Err(TryRecvError::Disconnected) => {
                *closed = true;
                return;
            }
        }
    }
}

/// Exponential from 50 ms, capped at 5 s.
pub(crate) fn store_backoff(failures: u32) -> Duration {
    let ms = 50u64.saturating_mul(1 << failures.min(7));
    Duration::from_millis(ms.min(5_000))
}

async fn write(
    shared: &Shared,
    pending: &mut [Report],
    handoffs: &UnboundedSender<HandedOff>,
) -> Result<(), tasker_store::Error> {
    let outcomes: Vec<_> = pending.iter().map(|r| r.outcome.clone()).collect();
    let now = shared.engine.now();
    // Successes may release children: slots reserved now let this write claim them (the
    // hand-off), so that they start without a claim of their own. Only while little is in
    // flight: that is when work trickles and each step would otherwise pay for a claim of its
    // own. Under load, claims come in full batches anyway, and hand-offs made small writes
    // beget small claims and writes that kept recurring: 50,000 tasks took 24-26 s instead
    // of 16-19 s on PostgreSQL, even with hand-offs from small writes only. Never while
    // stopping: nothing new starts then.
    let reserved = if shared.trickling()
        && !shared.shutdown.is_triggered()
        && shared.clock_ok.load(std::sync::atomic::Ordering::Acquire)
        && outcomes
            .iter()
            .any(|o| matches!(o.result, OutcomeKind::Succeeded { .. }))
    {
        shared.reserve_slots()
    } else {
        None
    };
    let handoff = reserved.as_ref().map(|slots| Handoff {
        owner: shared.config.owner.clone(),
        limit: slots.num_permits() as u32,
        lease_expires_at: lease_expiry(&shared.config, now),
        filter: shared.filter.clone(),
    });
    let sent = Instant::now();
    let Completion { results, claimed } = shared
        .engine
        .store()
        .complete_and_claim(&outcomes, now, handoff.as_ref())
        .await?;
    metrics::completion_batch(outcomes.len());
    tracing::trace!(
        outcomes = outcomes.len(),
        handed_off = claimed.len(),
        "wrote outcomes"
    );
    // Tracked before the completed steps are let go, so that the orchestrator never looks idle
    // in between.
    let claimed: Vec<_> = claimed
        .into_iter()
        .map(|step| {
            let lease = track(shared, &step, sent, now);
            (step, lease)
        })
        .collect();
    bump(&shared.stats.steps_handed_off, claimed.len() as u64);
    let handed_off: HashSet<StepId> = claimed.iter().map(|(s, _)| s.step_id).collect();
    for report in pending.iter_mut() {
        shared
            .leases
            .remove(report.outcome.step_id, report.outcome.attempt);
        // The handler's slot: free again now that its outcome is written.
        report.slot.take();
    }
    // Published before the handed-off steps start, so that a parent's end comes before its
    // children's start on the event bus too.
    apply_results(shared, pending, &results, &handed_off, false);
    if let (Some(mut slots), false) = (reserved, claimed.is_empty()) {
        // Unused slots go back at once; the claim loop starts the steps on the rest (the
        // store claims no more steps than the limit, which is all the slots).
        let used = match slots.split(claimed.len()) {
            Some(used) => used,
            None => slots,
        };
        // A send fails only while the orchestrator is torn down (aborted): the leases then
        // expire like every other.
        let _ = handoffs.send(HandedOff {
            steps: claimed,
            slots: used,
        });
    }
    shared.leave_flight(pending.len());
    Ok(())
}

/// Counts, logs and publishes what the store applied; wakes the claimers when steps were
/// released that the hand-off did not take. Shared with the rescuer.
pub(crate) fn apply_results(
    shared: &Shared,
    reports: &[Report],
    results: &[CompletionResult],
    handed_off: &HashSet<StepId>,
    rescued: bool,
) {
    let stats = &shared.stats;
    let events = shared.engine.events();
    let mut wake = false;
    for (report, result) in reports.iter().zip(results) {
        let outcome = &report.outcome;
        let (task_id, step_id, attempt) = (outcome.task_id, outcome.step_id, outcome.attempt);
        let name = report.name.clone();
        let meta = &report.meta;
        if !result.applied {
            bump(&stats.fenced_out, 1);
            // A rescue fenced out is no attempt of this process: its owner or another
            // rescuer recorded it.
            if !rescued {
                metrics::step_attempt(&meta.handler, AttemptOutcome::LeaseLost);
            }
            tracing::warn!(task_id, step_id, step = %name, attempt, owner = %outcome.owner, "outcome fenced out: the lease was lost before it was written");
            continue;
        }
        if rescued {
            bump(&stats.leases_recovered, 1);
        }
        count_attempt(meta, &outcome.result, rescued);
        wake |= result
            .released_steps
            .iter()
            .any(|step| !handed_off.contains(step));
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
        if let Some(state) = result.task_finished {
            let end = TaskEnd {
                task_id,
                state,
                created_at: meta.task_created_at,
                traceparent: meta.traceparent.as_deref(),
            };
            task_ended(&shared.engine, &meta.template, end);
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

/// Counts an attempt whose outcome was written, under its handler.
fn count_attempt(meta: &AttemptMeta, result: &OutcomeKind, rescued: bool) {
    let retried = matches!(
        result,
        OutcomeKind::Failed {
            retry_at: Some(_),
            ..
        }
    );
    let outcome = match result {
        _ if rescued => AttemptOutcome::LeaseExpired,
        OutcomeKind::Succeeded { .. } => AttemptOutcome::Success,
        OutcomeKind::Failed { .. } if retried => AttemptOutcome::Retryable,
        OutcomeKind::Failed { .. } => AttemptOutcome::Permanent,
    };
    metrics::step_attempt(&meta.handler, outcome);
    if rescued && retried {
        metrics::step_retry(&meta.handler);
    }
}
