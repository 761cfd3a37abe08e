//! The orchestrator's main loop: claim while there are free slots, start an executor per
//! claimed step, sleep until something changes; then stop gracefully.

use super::completer::{self, store_backoff};
use super::executor::{self, Report};
use super::lease::Lease;
use super::stats::bump;
use super::wakeup::hinted;
use super::{
    RunStats, Shared, advertise, clock_check, gauges, heartbeat, leadership, lease_expiry, rescuer,
};
use crate::error::Result;
use crate::events::Event;
use crate::telemetry::metrics;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tasker_model::{State, Timestamp};
use tasker_store::{ClaimRequest, ClaimedStep};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::{self, Sender, UnboundedReceiver};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Steps a completion claimed for this orchestrator among those it released (the hand-off),
/// already tracked, with the slots reserved for them.
pub(crate) struct HandedOff {
    pub(crate) steps: Vec<(ClaimedStep, Arc<Lease>)>,
    pub(crate) slots: OwnedSemaphorePermit,
}

/// A claim that came back empty although a step looked ready (another orchestrator won it, or
/// holds its row locked) waits at least this long, doubled for each such claim in a row up to
/// the poll interval, so that claimers do not spin against a row they cannot take.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(1);

pub(crate) async fn run(shared: Arc<Shared>) -> Result<RunStats> {
    let config = &shared.config;
    tracing::info!(owner = %config.owner, concurrency = config.concurrency, backend = shared.engine.store().backend_name(), "orchestrator started");
    // Out-of-range settings are refused before anything is claimed (a huge lease once
    // overflowed into "expired now").
    shared.engine.config().validate()?;
    config.validate()?;
    clock_check::check_at_start(&shared).await?;
    // Every report holds its handler's slot until it is written, so this never fills up.
    let (sender, receiver) = mpsc::channel::<Report>(config.concurrency);
    let (handoff_sender, mut handoffs) = mpsc::unbounded_channel::<HandedOff>();
    // Dropping this future (an aborted orchestrator) drops these sets, which aborts every task
    // in them: nothing keeps running or renewing leases after a simulated death.
    let mut completer_set = JoinSet::new();
    completer_set.spawn(completer::run(shared.clone(), receiver, handoff_sender));
    let mut background = JoinSet::new();
    background.spawn(heartbeat::run(shared.clone()));
    background.spawn(rescuer::run(shared.clone()));
    background.spawn(clock_check::watch(shared.clone()));
    background.spawn(gauges::run(shared.clone()));
    background.spawn(advertise::run(shared.clone()));
    // One claim loop per orchestrator. A second one on PostgreSQL (whose claims skip each
    // other's rows) made 50,000 tasks slower, 24-30 s against 18-20 s in interleaved runs;
    // likely cause: both claims start at the same front of the ready index, one skipping
    // what the other locked. More claimers come from more processes.
    let mut executors = claim_loop(&shared, &sender, &mut handoffs).await;

    // Graceful stop: let running handlers finish within one lease (not at all after
    // `shutdown_now`), then cut them off.
    let cut_off = async {
        tokio::select! {
            _ = tokio::time::sleep(config.lease_duration) => {}
            _ = shared.stop_now.notified() => {}
        }
    };
    tokio::pin!(cut_off);
    while !executors.is_empty() {
        tokio::select! {
            _ = executors.join_next() => {}
            _ = &mut cut_off => {
                tracing::warn!(running = executors.len(), "handlers still running at shutdown; stopping them and releasing their steps");
                // Dropped first (the `command` handler kills its process group on drop);
                // their tokens are cancelled below, once nothing can mistake that for a lost
                // lease.
                executors.abort_all();
                while executors.join_next().await.is_some() {}
            }
        }
    }
    drop(sender);
    while completer_set.join_next().await.is_some() {}
    // Handlers cut off above were aborted; anything they started that watches the token stops.
    for lease in shared.leases.all() {
        lease.cancel.cancel();
    }
    // Steps handed off while stopping are not started: they stay in `running`, so that their
    // leases are released below.
    while let Ok(handed) = handoffs.try_recv() {
        tracing::debug!(
            steps = handed.steps.len(),
            "not starting steps handed off during shutdown"
        );
    }
    background.abort_all();
    while background.join_next().await.is_some() {}
    leadership::resign(&shared, leadership::RESCUER).await;

    // Also when no lease is tracked any more: one this process gave up as lost may still be
    // its own in the database (not rescued yet); giving it back spares the step an attempt.
    let held = shared.leases.len();
    if shared.stats.snapshot().steps_claimed > 0 {
        match shared
            .engine
            .store()
            .release_leases(&config.owner, shared.engine.now())
            .await
        {
            Ok(released) => tracing::info!(released, "released leases at shutdown"),
            Err(e) => {
                metrics::database_error(&e);
                tracing::warn!(error = %e, held, "cannot release leases at shutdown; they will expire")
            }
        }
        shared.engine.wakeup().notify();
    }
    let stats = shared.stats.snapshot();
    tracing::info!(owner = %config.owner, ?stats, "orchestrator stopped");
    Ok(stats)
}

/// Claims and starts steps until shutdown (or idleness, with `until_idle`); returns the
/// executors still running.
async fn claim_loop(
    shared: &Arc<Shared>,
    sender: &Sender<Report>,
    handoffs: &mut UnboundedReceiver<HandedOff>,
) -> JoinSet<()> {
    let config = &shared.config;
    let engine = &shared.engine;
    let mut executors = JoinSet::new();
    let mut store_failures: u32 = 0;
    // Empty claims in a row while a step looked ready (see MIN_IDLE_WAIT).
    let mut empty_claims: u32 = 0;
    // Hints from other processes (PostgreSQL `LISTEN/NOTIFY`), when the store has them.
    let mut hints = engine.store().wakeups();
    loop {
        while executors.try_join_next().is_some() {}
        if shared.shutdown.is_triggered() {
            return executors;
        }
        while let Ok(handed) = handoffs.try_recv() {
            launch_handed_off(shared, handed, sender, &mut executors);
        }
        // Enabled before looking for work, so that work appearing meanwhile wakes us.
        let work_appeared = engine.wakeup().notified();
        tokio::pin!(work_appeared);
        work_appeared.as_mut().enable();
        if let Some(hints) = hints.as_mut() {
            hints.borrow_and_update();
        }

        // Paused while this clock disagrees with the database's (see clock_check.rs).
        let reserved = if shared.clock_ok.load(Ordering::Acquire) {
            shared.reserve_slots()
        } else {
            None
        };
        let mut claimed = 0usize;
        let mut limit = 0usize;
        if let Some(mut reserved) = reserved {
            limit = reserved.num_permits();
            let sent = Instant::now();
            let claimed_at = engine.now();
            match claim(shared, limit as u32, claimed_at).await {
                Ok(steps) => {
                    store_failures = 0;
                    claimed = steps.len();
                    tracing::trace!(claimed, limit, "claimed steps");
                    if claimed > 0 {
                        metrics::claim_batch(claimed);
                    }
                    for step in steps {
                        // Never empty: no more steps come back than were asked for.
                        let Some(slot) = reserved.split(1) else {
                            break;
                        };
                        let lease = track(shared, &step, sent, claimed_at);
                        launch(shared, step, lease, slot, sender, &mut executors);
                    }
                }
                Err(e) => {
                    drop(reserved);
                    metrics::database_error(&e);
                    store_failures += 1;
                    let wait = store_backoff(store_failures);
                    tracing::warn!(error = %e, retry_in = ?wait, "cannot claim steps");
                    wait_or_shutdown(shared, wait).await;
                    continue;
                }
            }
            if claimed == limit {
                // A full batch: there may be more.
                continue;
            }
        }
        if claimed > 0 {
            empty_claims = 0;
        }
        let wait = if limit == 0 || claimed > 0 {
            // Handlers are running: new work or free slots wake us, no need to ask the store.
            config.poll_interval
        } else {
            match idle_wait(shared).await {
                Some(wait) if wait.is_zero() => {
                    // A step looked ready but the claim got nothing: someone else holds it.
                    empty_claims = empty_claims.saturating_add(1);
                    empty_claim_wait(empty_claims, config.poll_interval)
                }
                Some(wait) => {
                    empty_claims = 0;
                    wait.max(MIN_IDLE_WAIT)
                }
                None => {
                    // Other orchestrators of this engine look again now rather than at their
                    // next poll.
                    engine.wakeup().notify();
                    return executors;
                }
            }
        };
        if wait.is_zero() {
            continue;
        }
        // Free slots matter when the lack of them stopped the claim, and under load, when
        // completions do not hand off what they release. Otherwise the store had nothing
        // more, new work announces itself, and released steps mostly come handed off:
        // looking each time a handler finished cost an empty claim per step.
        let on_progress = limit == 0 || !shared.trickling();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                Some(handed) = handoffs.recv() => {
                    // Started as they come; they are no reason to claim.
                    launch_handed_off(shared, handed, sender, &mut executors);
                    continue;
                }
                _ = &mut work_appeared => {}
                _ = hinted(&mut hints) => {}
                _ = shared.progress.notified(), if on_progress => {}
                _ = shared.drained.notified(), if config.until_idle => {}
                _ = tokio::time::sleep_until(deadline) => {}
                _ = shared.shutdown.triggered() => {}
            }
            break;
        }
    }
}

async fn claim(
    shared: &Shared,
    limit: u32,
    now: Timestamp,
) -> std::result::Result<Vec<ClaimedStep>, tasker_store::Error> {
    let request = ClaimRequest {
        owner: shared.config.owner.clone(),
        limit,
        now,
        lease_expires_at: lease_expiry(&shared.config, now),
        only_task: shared.config.only_task,
        filter: shared.filter.clone(),
    };
    shared.engine.store().claim_steps(&request).await
}

/// How long to wait after `empty` empty claims in a row while a step looked ready.
fn empty_claim_wait(empty: u32, poll_interval: Duration) -> Duration {
    MIN_IDLE_WAIT
        .saturating_mul(1u32 << empty.saturating_sub(1).min(16))
        .min(poll_interval)
}

/// Counts a claimed step as in flight and its lease as held (renewed by the heartbeat), from
/// the moment the claim returns; `sent` is when the claim was sent, where its lease starts,
/// and `claimed_at` the time the claim was made at, which ends the step's wait.
pub(crate) fn track(
    shared: &Shared,
    step: &ClaimedStep,
    sent: Instant,
    claimed_at: Timestamp,
) -> Arc<Lease> {
    bump(&shared.stats.steps_claimed, 1);
    shared.in_flight.fetch_add(1, Ordering::AcqRel);
    metrics::in_flight(1.0);
    metrics::step_wait(step.ready_at, claimed_at);
    shared
        .leases
        .track(step.step_id, step.attempt, sent, shared.lease_budget())
}

/// Starts the steps a completion claimed for us, one slot each from those it reserved.
fn launch_handed_off(
    shared: &Arc<Shared>,
    handed: HandedOff,
    sender: &Sender<Report>,
    executors: &mut JoinSet<()>,
) {
    let HandedOff { steps, mut slots } = handed;
    for (step, lease) in steps {
        // Never empty: the completion claimed no more steps than slots were reserved.
        let Some(slot) = slots.split(1) else {
            break;
        };
        launch(shared, step, lease, slot, sender, executors);
    }
}

/// Publishes a tracked step's start and runs its handler.
fn launch(
    shared: &Arc<Shared>,
    step: ClaimedStep,
    lease: Arc<Lease>,
    slot: OwnedSemaphorePermit,
    sender: &Sender<Report>,
    executors: &mut JoinSet<()>,
) {
    let events = shared.engine.events();
    if step.task_started {
        tracing::info!(task_id = step.task_id, "task started");
        events.publish(Event::TaskStarted {
            task_id: step.task_id,
        });
    }
    tracing::debug!(task_id = step.task_id, step_id = step.step_id, step = %step.name, attempt = step.attempt, "step started");
    events.publish(Event::StepStarted {
        task_id: step.task_id,
        step_id: step.step_id,
        name: step.name.clone(),
        attempt: step.attempt,
    });
    executors.spawn(executor::execute(
        shared.clone(),
        step,
        lease,
        slot,
        sender.clone(),
    ));
}

/// How long to sleep when there is nothing to claim; `None` when `until_idle` is met.
async fn idle_wait(shared: &Shared) -> Option<Duration> {
    let config = &shared.config;
    let engine = &shared.engine;
    if config.until_idle && shared.in_flight.load(Ordering::Acquire) == 0 {
        if let Some(task) = config.only_task {
            // Other tasks' work is not this orchestrator's: idle once its task is finished or
            // blocked (a step failed for good).
            match engine.store().task(task).await {
                Ok(None) => return None,
                Ok(Some(t)) if t.state.is_terminal() || t.state == State::Error => return None,
                Ok(Some(_)) => {}
                Err(e) => {
                    metrics::database_error(&e);
                    tracing::warn!(error = %e, "cannot read the task this orchestrator runs");
                }
            }
        } else {
            // Idle when nothing is running anywhere (a running step may release work for us,
            // or be rescued into a retry) and, after that, nothing this orchestrator can run
            // is runnable or waiting for a retry: steps of queues or of handlers registered
            // elsewhere are not its work. In this order: with nothing running, no work of
            // ours can appear between the two reads except new work, which the second sees;
            // the other way round, a step finished or rescued between them was missed.
            match engine.store().outstanding_work().await {
                Ok(work) if !work.running => {
                    let ours = engine.store().next_ready_at(&shared.filter).await;
                    if matches!(ours, Ok(None)) {
                        return None;
                    }
                    return Some(until_next(shared, ours));
                }
                Ok(_) => {}
                Err(e) => {
                    metrics::database_error(&e);
                    tracing::warn!(error = %e, "cannot check for outstanding work");
                }
            }
        }
    }
    Some(until_next(
        shared,
        engine.store().next_ready_at(&shared.filter).await,
    ))
}

/// How long to sleep given the next ready time of a step this orchestrator can run.
fn until_next(
    shared: &Shared,
    next: std::result::Result<Option<Timestamp>, tasker_store::Error>,
) -> Duration {
    let config = &shared.config;
    let engine = &shared.engine;
    match next {
        Ok(Some(at)) => {
            let until = (at - engine.now()).to_std().unwrap_or(Duration::ZERO);
            until.min(config.poll_interval)
        }
        Ok(None) => config.poll_interval,
        Err(e) => {
            metrics::database_error(&e);
            tracing::warn!(error = %e, "cannot read the next ready time");
            config.poll_interval
        }
    }
}

async fn wait_or_shutdown(shared: &Shared, wait: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = shared.shutdown.triggered() => {}
    }
}
