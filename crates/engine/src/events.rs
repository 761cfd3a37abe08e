//! The in-process event bus: what happened to tasks and steps, as it happens.
//!
//! A broadcast channel: every subscriber sees every event published after it subscribed. A
//! subscriber that falls more than [`CAPACITY`] events behind misses the oldest ones (its next
//! `recv` reports how many) rather than slowing the orchestrator down.
//!
//! Order: the events of one step arrive in order (started, then completed or failed), a task's
//! start comes before its steps' events and its end after them. Events of *different* steps are
//! published by different components (claimer, completer) after their own commits, so a child's
//! start can be seen just before its parent's completion; the transition history is the
//! authoritative order.

use serde::Serialize;
use tasker_model::{StepId, TaskId, Timestamp};
use tokio::sync::broadcast;

/// Events a subscriber may fall behind by before it misses the oldest.
pub const CAPACITY: usize = 4096;

/// Something that happened to a task or a step in this process, from
/// [`Engine::subscribe`](crate::Engine::subscribe). Serialized with its kind in `event`
/// (`{"event": "step_failed", "task_id": 1, ...}`).
///
/// ```
/// use tasker_engine::{CreateTask, Engine, EngineConfig, Event, HandlerRegistry, OrchestratorConfig};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = std::sync::Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
/// let engine = Engine::new(store, HandlerRegistry::with_builtins(), EngineConfig::default());
/// engine.migrate().await?;
/// engine
///     .register_template_yaml("namespace: demo\nname: one\nversion: 1.0.0\nsteps:\n  - { name: a, handler: noop }\n")
///     .await?;
/// let mut events = engine.subscribe();
/// let task = engine.create_task(CreateTask::new("demo/one".parse()?, serde_json::json!({}))).await?;
/// let orchestrator = engine.orchestrator(OrchestratorConfig::default()).spawn();
/// let mut seen = Vec::new();
/// loop {
///     let event = events.recv().await?;
///     seen.push(serde_json::to_value(&event)?["event"].as_str().unwrap_or_default().to_owned());
///     if event.task_id() == task.id && event.finishes_task() {
///         break;
///     }
/// }
/// assert_eq!(seen, ["task_started", "step_started", "step_completed", "task_completed"]);
/// orchestrator.shutdown().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The task's first step was claimed: it moved `pending -> in_progress`.
    TaskStarted {
        /// The task.
        task_id: TaskId,
    },
    /// Every step of the task is complete (or resolved): the task is `complete`.
    TaskCompleted {
        /// The task.
        task_id: TaskId,
    },
    /// A step failed for good and nothing else of the task can run: the task is `error`.
    TaskFailed {
        /// The task.
        task_id: TaskId,
    },
    /// The task was cancelled.
    TaskCancelled {
        /// The task.
        task_id: TaskId,
    },
    /// An attempt of a step started in this process.
    StepStarted {
        /// The step's task.
        task_id: TaskId,
        /// The step.
        step_id: StepId,
        /// The step's name in its template.
        name: String,
        /// The attempt's number, 1 for the first.
        attempt: i32,
    },
    /// An attempt succeeded: the step is `complete`.
    StepCompleted {
        /// The step's task.
        task_id: TaskId,
        /// The step.
        step_id: StepId,
        /// The step's name in its template.
        name: String,
        /// The attempt's number, 1 for the first.
        attempt: i32,
    },
    /// An attempt failed. A [`Event::RetryScheduled`] follows when the step will run again.
    StepFailed {
        /// The step's task.
        task_id: TaskId,
        /// The step.
        step_id: StepId,
        /// The step's name in its template.
        name: String,
        /// The attempt's number, 1 for the first.
        attempt: i32,
        /// The failure's text (the handler's message, a time-out, a panic).
        error: String,
        /// `true` when no retry follows: the step failed for good (a permanent error, a step
        /// that is not retryable, or its last attempt).
        permanent: bool,
    },
    /// A failed step will run again at `retry_at`.
    RetryScheduled {
        /// The step's task.
        task_id: TaskId,
        /// The step.
        step_id: StepId,
        /// The step's name in its template.
        name: String,
        /// The attempt that failed.
        attempt: i32,
        /// When the step becomes runnable again.
        retry_at: Timestamp,
    },
    /// This process lost the lease of a running attempt (not renewed in time, or the step was
    /// taken back): its handler was told to stop and its outcome is not written. The step's
    /// history shows what happened instead (`lease_expired` once rescued).
    LeaseLost {
        /// The step's task.
        task_id: TaskId,
        /// The step.
        step_id: StepId,
        /// The step's name in its template.
        name: String,
        /// The attempt that lost its lease.
        attempt: i32,
    },
}

impl Event {
    /// The task the event concerns.
    pub fn task_id(&self) -> TaskId {
        match self {
            Event::TaskStarted { task_id }
            | Event::TaskCompleted { task_id }
            | Event::TaskFailed { task_id }
            | Event::TaskCancelled { task_id }
            | Event::StepStarted { task_id, .. }
            | Event::StepCompleted { task_id, .. }
            | Event::StepFailed { task_id, .. }
            | Event::RetryScheduled { task_id, .. }
            | Event::LeaseLost { task_id, .. } => *task_id,
        }
    }

    /// The event ends the task (for now: a failed task may be retried).
    pub fn finishes_task(&self) -> bool {
        matches!(
            self,
            Event::TaskCompleted { .. } | Event::TaskFailed { .. } | Event::TaskCancelled { .. }
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    pub(crate) fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub(crate) fn publish(&self, event: Event) {
        // An error only means that nobody is listening, which is fine.
        let _ = self.sender.send(event);
    }
}
