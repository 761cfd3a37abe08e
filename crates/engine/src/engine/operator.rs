//! What an operator does to a stuck task: cancel it, retry it, resolve a step by hand.

use super::Engine;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::telemetry::{TaskEnd, task_ended};
use serde_json::Value;
use tasker_model::{State, StepId, StepRecord, TaskId, TaskRecord};

impl Engine {
    /// `pending | in_progress | error -> cancelled`. Running steps finish, nothing new starts.
    pub async fn cancel_task(&self, id: TaskId) -> Result<TaskRecord> {
        self.cancel_task_as(id, None).await
    }

    /// [`Engine::cancel_task`], recording `actor` (who asked: an API token, a user) as
    /// `"actor"` in the metadata of the transitions it writes.
    pub async fn cancel_task_as(&self, id: TaskId, actor: Option<&Value>) -> Result<TaskRecord> {
        let task = self
            .store()
            .cancel_task(id, self.now(), actor)
            .await
            .map_err(|e| not_found(e, Error::TaskNotFound(id)))?;
        tracing::info!(task_id = id, "task cancelled");
        self.events().publish(Event::TaskCancelled { task_id: id });
        self.record_task_end(&task).await;
        Ok(task)
    }

    /// Gives every permanently failed step of a task in `error` a fresh set of attempts.
    pub async fn retry_task(&self, id: TaskId) -> Result<TaskRecord> {
        self.retry_task_as(id, None).await
    }

    /// [`Engine::retry_task`], recording `actor` in the transitions' metadata.
    pub async fn retry_task_as(&self, id: TaskId, actor: Option<&Value>) -> Result<TaskRecord> {
        let task = self
            .store()
            .retry_task(id, self.now(), actor)
            .await
            .map_err(|e| not_found(e, Error::TaskNotFound(id)))?;
        tracing::info!(task_id = id, "task retried");
        self.wakeup().notify();
        Ok(task)
    }

    /// Marks a `pending` or `error` step as done by hand: its children may run, and its task
    /// may complete or be unblocked.
    pub async fn resolve_step(&self, id: StepId) -> Result<StepRecord> {
        self.resolve_step_as(id, None).await
    }

    /// [`Engine::resolve_step`], recording `actor` in the transitions' metadata.
    pub async fn resolve_step_as(&self, id: StepId, actor: Option<&Value>) -> Result<StepRecord> {
        let step = self
            .store()
            .resolve_step(id, self.now(), actor)
            .await
            .map_err(|e| not_found(e, Error::StepNotFound(id)))?;
        tracing::info!(task_id = step.task_id, step_id = id, step = %step.name, "step resolved manually");
        self.wakeup().notify();
        // Resolving the last unfinished step completes the task without any orchestrator.
        if let Some(task) = self.store().task(step.task_id).await?
            && task.state == State::Complete
        {
            self.events()
                .publish(Event::TaskCompleted { task_id: task.id });
            self.record_task_end(&task).await;
        }
        Ok(step)
    }

    /// Metrics and the trace of a task an operator action finished.
    async fn record_task_end(&self, task: &TaskRecord) {
        let labels = self.template_labels(task.template_id).await;
        let end = TaskEnd {
            task_id: task.id,
            state: task.state,
            created_at: Some(task.created_at),
            traceparent: task.traceparent.as_deref(),
        };
        task_ended(self, &labels, end);
    }
}

fn not_found(error: tasker_store::Error, replacement: Error) -> Error {
    match error {
        tasker_store::Error::NotFound { .. } => replacement,
        other => Error::Store(other),
    }
}
