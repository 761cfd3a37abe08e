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

pub const CAPACITY: usize = 4096;

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    TaskStarted {
        task_id: TaskId,
    },
    TaskCompleted {
        task_id: TaskId,
    },
    TaskFailed {
        task_id: TaskId,
    },
    TaskCancelled {
        task_id: TaskId,
    },
    StepStarted {
        task_id: TaskId,
        step_id: StepId,
        name: String,
        attempt: i32,
    },
    StepCompleted {
        task_id: TaskId,
        step_id: StepId,
        name: String,
        attempt: i32,
    },
    StepFailed {
        task_id: TaskId,
        step_id: StepId,
        name: String,
        attempt: i32,
        error: String,
        permanent: bool,
    },
    RetryScheduled {
        task_id: TaskId,
        step_id: StepId,
        name: String,
        attempt: i32,
        retry_at: Timestamp,
    },
    /// This process lost the lease of a running attempt (not renewed in time, or the step was
    /// taken back): its handler was told to stop and its outcome is not written. The step's
    /// history shows what happened instead (`lease_expired` once rescued).
    LeaseLost {
        task_id: TaskId,
        step_id: StepId,
        name: String,
        attempt: i32,
    },
}

impl Event {
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
