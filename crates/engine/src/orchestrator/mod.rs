//! The orchestrator: claims runnable steps under a lease, runs their handlers, records outcomes.
//!
//! Built from a few concurrent parts sharing one [`Shared`]:
//! the *claimer* (`claimer.rs`, one loop) reserves free slots and claims a batch to fill them;
//! each claimed step runs in its own *executor* task; handlers report to the *completer*,
//! which writes outcomes in batches and, in the same transaction, claims the steps they
//! released for the slots free at that moment (the *hand-off*, started by the claimer); the *heartbeat* renews the leases of running steps; the
//! *rescuer* turns expired leases of dead orchestrators into failed attempts, in the one
//! process elected for it (`leadership.rs`); the *advertiser* (`advertise.rs`) tells the store
//! which handlers this process runs, so that a step nobody runs can be explained.

pub(crate) mod advertise;
mod claimer;
mod clock_check;
mod completer;
mod executor;
mod gauges;
mod heartbeat;
mod leadership;
mod lease;
pub(crate) mod outcome;
mod rescuer;
mod shutdown;
mod stats;
pub(crate) mod wakeup;

pub use shutdown::ShutdownSignal;
pub use stats::RunStats;

use crate::config::OrchestratorConfig;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::telemetry::metrics;
use lease::Leases;
use stats::Stats;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tasker_store::ClaimFilter;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// State shared by the parts of one orchestrator.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) config: OrchestratorConfig,
    pub(crate) stats: Stats,
    pub(crate) shutdown: ShutdownSignal,
    /// The attempts this orchestrator holds a lease on: renewed by the heartbeat until their
    /// outcome is written, stopped when their lease is lost (`lease.rs`).
    pub(crate) leases: Leases,
    /// Claimed steps whose outcome is not written yet.
    pub(crate) in_flight: AtomicUsize,
    /// A handler finished or a batch of outcomes was written: the claimer has room again.
    pub(crate) progress: Notify,
    /// The last claimed step's outcome was written: an `until_idle` claimer checks whether
    /// all work is done.
    pub(crate) drained: Notify,
    /// This process's clock agrees with the database's (`clock_check.rs`): claims and rescues
    /// pause while it does not.
    pub(crate) clock_ok: AtomicBool,
    /// Stop without the grace period: running handlers are stopped at once (their leases are
    /// given back, the attempts not counted). A stored permit: it holds even when the claim
    /// loop has not reached its graceful stop yet.
    pub(crate) stop_now: Notify,
    /// One permit per handler allowed to run at once.
    pub(crate) slots: Arc<Semaphore>,
    /// The steps this orchestrator can run: in-process ones whose handler its registry has.
    /// Claims, hand-offs and the idle wait all use it, so that a step of a queue or of a
    /// handler registered elsewhere is never taken here.
    pub(crate) filter: ClaimFilter,
}

/// In-flight steps up to which work counts as trickling (see [`Shared::trickling`]).
pub(crate) const TRICKLE: usize = 16;

/// When a lease taken at `now` runs out.
pub(crate) fn lease_expiry(
    config: &OrchestratorConfig,
    now: tasker_model::Timestamp,
) -> tasker_model::Timestamp {
    let lease = chrono::Duration::from_std(config.lease_duration).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(lease).unwrap_or(now)
}

impl Shared {
    /// How long an attempt may run on its lease after the claim or renewal was sent: the lease
    /// minus the clock skew tolerated between processes, so that an attempt has stopped before
    /// any process could judge its lease expired.
    pub(crate) fn lease_budget(&self) -> std::time::Duration {
        let lease = self.config.lease_duration;
        lease - clock_check::tolerated(lease)
    }

    /// The free slots, up to a claim batch, for steps about to be claimed: reserved before the
    /// claim, so that every claimed step can start at once (a step waiting for a slot would
    /// hold a lease nobody renews). `None` when no slot is free.
    pub(crate) fn reserve_slots(&self) -> Option<OwnedSemaphorePermit> {
        let wanted = self
            .slots
            .available_permits()
            .min(self.config.claim_batch as usize);
        let wanted = u32::try_from(wanted).ok().filter(|&n| n > 0)?;
        self.slots.clone().try_acquire_many_owned(wanted).ok()
    }

    /// Whether work trickles: at most [`TRICKLE`] claimed steps in flight (outcomes being
    /// written included). Completions then hand off what they release, and the claimer does
    /// not look for work each time a handler finishes.
    pub(crate) fn trickling(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) <= TRICKLE
    }

    /// `steps` claimed steps are done with (their outcomes written or given up).
    pub(crate) fn leave_flight(&self, steps: usize) {
        metrics::in_flight(-(steps as f64));
        if self.in_flight.fetch_sub(steps, Ordering::AcqRel) == steps {
            self.drained.notify_one();
        }
        self.progress.notify_one();
    }
}

/// Steps still in flight when an orchestrator is gone (aborted, or handed off while it
/// stopped) no longer count for this process.
impl Drop for Shared {
    fn drop(&mut self) {
        let left = self.in_flight.load(Ordering::Acquire);
        if left > 0 {
            metrics::in_flight(-(left as f64));
        }
    }
}

/// Runs the steps of an engine's tasks: claims the ready steps whose handler this process has,
/// runs them under renewed leases, records their outcomes (retries, children made ready) and
/// takes over the steps of orchestrators that died. Built by
/// [`Engine::orchestrator`](crate::Engine::orchestrator); run it in the foreground
/// ([`Orchestrator::run`]) or in the background ([`Orchestrator::spawn`]).
///
/// ```
/// use std::time::Duration;
/// use tasker_engine::{CreateTask, OrchestratorConfig, State};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = std::sync::Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
/// # let engine = tasker_engine::Engine::new(store, tasker_engine::HandlerRegistry::with_builtins(), Default::default());
/// # engine.migrate().await?;
/// engine
///     .register_template_yaml("namespace: demo\nname: one\nversion: 1.0.0\nsteps:\n  - { name: a, handler: noop }\n")
///     .await?;
/// let task = engine.create_task(CreateTask::new("demo/one".parse()?, serde_json::json!({}))).await?;
///
/// let orchestrator = engine.orchestrator(OrchestratorConfig::default()).spawn();
/// let done = engine.wait_for_task(task.id, Some(Duration::from_secs(10))).await?;
/// assert_eq!(done.state, State::Complete);
/// // Stops claiming, lets running handlers finish and records their outcomes.
/// let stats = orchestrator.shutdown().await?;
/// assert_eq!(stats.steps_succeeded, 1);
/// # Ok(())
/// # }
/// ```
pub struct Orchestrator {
    shared: Arc<Shared>,
}

impl Orchestrator {
    /// Settings are checked when it runs ([`OrchestratorConfig::validate`]).
    pub(crate) fn new(engine: Engine, config: OrchestratorConfig) -> Self {
        // Out-of-range settings are refused when it runs; until then nothing may panic here.
        let slots = Arc::new(Semaphore::new(
            config.concurrency.min(Semaphore::MAX_PERMITS),
        ));
        let filter = ClaimFilter::in_process(engine.handlers().names());
        Orchestrator {
            shared: Arc::new(Shared {
                filter,
                engine,
                config,
                stats: Stats::default(),
                shutdown: ShutdownSignal::default(),
                leases: Leases::default(),
                clock_ok: AtomicBool::new(true),
                stop_now: Notify::new(),
                in_flight: AtomicUsize::new(0),
                progress: Notify::new(),
                drained: Notify::new(),
                slots,
            }),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &OrchestratorConfig {
        &self.shared.config
    }

    /// Triggers a graceful shutdown of this orchestrator, whether run or spawned.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shared.shutdown.clone()
    }

    /// Runs in the foreground until the shutdown signal (or, with `until_idle`, until there is
    /// nothing left to do), then stops gracefully.
    pub async fn run(self) -> Result<RunStats> {
        claimer::run(self.shared).await
    }

    /// Runs in the background on tokio. Dropping the handle without [`OrchestratorHandle::shutdown`]
    /// or [`OrchestratorHandle::join`] aborts the orchestrator at once, as if its process died:
    /// its leases are left to expire and be rescued.
    pub fn spawn(self) -> OrchestratorHandle {
        let shared = self.shared.clone();
        OrchestratorHandle {
            task: Some(tokio::spawn(self.run())),
            shared,
        }
    }
}

/// A running orchestrator, from [`Orchestrator::spawn`]: stop it with
/// [`OrchestratorHandle::shutdown`] (graceful), [`OrchestratorHandle::shutdown_now`] or
/// [`OrchestratorHandle::abort`], or wait for it with [`OrchestratorHandle::join`]. Dropping
/// it aborts the orchestrator.
pub struct OrchestratorHandle {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Result<RunStats>>>,
}

impl OrchestratorHandle {
    /// What it did so far.
    pub fn stats(&self) -> RunStats {
        self.shared.stats.snapshot()
    }

    /// The owner its leases are taken under ([`OrchestratorConfig::owner`]).
    pub fn owner(&self) -> &str {
        &self.shared.config.owner
    }

    /// Stops claiming, waits for running handlers (up to the lease duration), records their
    /// outcomes and releases any lease left.
    pub async fn shutdown(mut self) -> Result<RunStats> {
        self.shared.shutdown.trigger();
        self.wait().await
    }

    /// Stops without waiting for running handlers: they are told to stop (their cancellation
    /// tokens fire, their futures are dropped, `command` process groups are killed), their
    /// outcomes are not written and their leases are given back at once without counting the
    /// attempts. For a caller that gives up (a `--wait` time-out).
    pub async fn shutdown_now(mut self) -> Result<RunStats> {
        self.shared.stop_now.notify_one();
        self.shared.shutdown.trigger();
        self.wait().await
    }

    /// Waits for the orchestrator to stop by itself (`until_idle`) or through its signal.
    pub async fn join(mut self) -> Result<RunStats> {
        self.wait().await
    }

    /// Triggers a graceful shutdown from elsewhere (a signal handler), as
    /// [`OrchestratorHandle::shutdown`] does without waiting.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shared.shutdown.clone()
    }

    /// Stops everything at once without recording anything, as if the process had died.
    pub async fn abort(mut self) -> RunStats {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        self.shared.stats.snapshot()
    }

    async fn wait(&mut self) -> Result<RunStats> {
        match self.task.take() {
            Some(task) => task.await.map_err(|e| Error::Orchestrator(e.to_string()))?,
            None => Ok(self.shared.stats.snapshot()),
        }
    }
}

impl Drop for OrchestratorHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
