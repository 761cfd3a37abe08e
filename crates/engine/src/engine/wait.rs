//! Waiting for a task to finish.

use super::Engine;
use crate::error::{Error, Result};
use std::time::Duration;
use tasker_model::{State, TaskId, TaskRecord};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Events only come from this process; another process's orchestrator is seen by polling.
const POLL: Duration = Duration::from_millis(200);

impl Engine {
    /// Returns the task once it is `complete`, `error` or `cancelled`; [`Error::Timeout`] when
    /// `timeout` passes first.
    pub async fn wait_for_task(&self, id: TaskId, timeout: Option<Duration>) -> Result<TaskRecord> {
        // Subscribe before the first read, so that an event between the two is not missed.
        let mut events = self.subscribe();
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let task = self.task(id).await?;
            if matches!(
                task.state,
                State::Complete | State::Error | State::Cancelled
            ) {
                return Ok(task);
            }
            let mut wake = Instant::now() + POLL;
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    return Err(Error::Timeout(format!(
                        "task {id} is still {} after {:?}",
                        task.state,
                        timeout.unwrap_or_default()
                    )));
                }
                wake = wake.min(deadline);
            }
            loop {
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(event) if event.task_id() == id && event.finishes_task() => break,
                        Ok(_) => continue,
                        // Missed events may have included ours: read the task again.
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => {
                            tokio::time::sleep_until(wake).await;
                            break;
                        }
                    },
                    _ = tokio::time::sleep_until(wake) => break,
                }
            }
        }
    }
}
