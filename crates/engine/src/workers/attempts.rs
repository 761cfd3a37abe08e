//! What the server remembers of the attempts it handed out to workers, so that a completion
//! needs no read before its write: the task, the step's retry facts, its handler and template
//! (for metrics), when it was claimed. Lost on restart or unknown to another server process:
//! then the step is read instead (`outcome.rs`). Entries of workers that vanished are dropped
//! once their lease is long gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tasker_model::{StepId, TaskId, TemplateId, Timestamp};
use tokio::time::Instant;

/// Entries whose lease ended longer ago than this are dropped (the rescuer has the step).
const KEEP_AFTER_EXPIRY: chrono::Duration = chrono::Duration::minutes(5);
/// How often at most the map is swept.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) owner: String,
    pub(crate) task_id: TaskId,
    pub(crate) queue: Option<String>,
    pub(crate) template_id: TemplateId,
    pub(crate) name: String,
    pub(crate) handler: Arc<str>,
    pub(crate) max_attempts: i32,
    pub(crate) retryable: bool,
    pub(crate) task_created_at: Option<Timestamp>,
    pub(crate) traceparent: Option<Arc<str>>,
    pub(crate) lease_expires_at: Timestamp,
    /// When the claim returned it: the attempt's duration ends with its outcome.
    pub(crate) claimed: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct Attempts {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    by_step: HashMap<(StepId, i32), Attempt>,
    swept: Option<Instant>,
}

impl Attempts {
    pub(crate) fn insert(&self, step: StepId, attempt: i32, entry: Attempt, now: Timestamp) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
            state.swept = Some(Instant::now());
            let cutoff = now - KEEP_AFTER_EXPIRY;
            state.by_step.retain(|_, a| a.lease_expires_at > cutoff);
        }
        state.by_step.insert((step, attempt), entry);
    }

    /// The attempt, if this owner holds it.
    pub(crate) fn get(&self, step: StepId, attempt: i32, owner: &str) -> Option<Attempt> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .by_step
            .get(&(step, attempt))
            .filter(|a| a.owner == owner)
            .cloned()
    }

    pub(crate) fn renewed(&self, step: StepId, attempt: i32, expires_at: Timestamp) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = state.by_step.get_mut(&(step, attempt)) {
            a.lease_expires_at = expires_at;
        }
    }

    pub(crate) fn remove(&self, step: StepId, attempt: i32) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.by_step.remove(&(step, attempt));
    }
}
