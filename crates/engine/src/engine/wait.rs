//! Waiting for tasks to finish.

use super::Engine;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tasker_model::{State, TaskId, TaskRecord};
use tasker_store::TaskFilter;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

/// Events only come from this process; another process's orchestrator is seen by polling.
const POLL: Duration = Duration::from_millis(200);

/// The widest range of ids [`Engine::wait_for_tasks`] reads in one list: tasks created together
/// have neighbouring ids, so a batch of them costs one read per wake.
const SPAN: i64 = 1000;

fn finished(task: &TaskRecord) -> bool {
    matches!(
        task.state,
        State::Complete | State::Error | State::Cancelled
    )
}

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

impl Engine {
    /// Returns the tasks, in the order of `ids`, once every one is `complete`, `error` or
    /// `cancelled`; [`Error::Timeout`] when `timeout` passes first, [`Error::TaskNotFound`] when
    /// an id names no task. Like [`Engine::wait_for_task`] it wakes on this process's events
    /// and polls for other processes' work, but each wake reads the unfinished tasks together
    /// (one list read per range of up to 1,000 neighbouring ids), not one by one. The records
    /// are those of [`Engine::list_tasks`]: without their context ([`Engine::task`] has it).
    ///
    /// ```no_run
    /// # async fn demo(engine: tasker_engine::Engine, ids: Vec<tasker_engine::TaskId>) -> tasker_engine::Result<()> {
    /// use std::time::Duration;
    ///
    /// let tasks = engine.wait_for_tasks(&ids, Some(Duration::from_secs(60))).await?;
    /// let failed = tasks.iter().filter(|t| t.state != tasker_engine::State::Complete).count();
    /// println!("{} tasks done, {failed} not complete", tasks.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_tasks(
        &self,
        ids: &[TaskId],
        timeout: Option<Duration>,
    ) -> Result<Vec<TaskRecord>> {
        // Subscribe before the first read, so that an event between the two is not missed.
        let mut events = self.subscribe();
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut pending: BTreeSet<TaskId> = ids.iter().copied().collect();
        let mut done: BTreeMap<TaskId, TaskRecord> = BTreeMap::new();
        loop {
            for task in self.read_tasks(&pending).await? {
                if finished(&task) {
                    pending.remove(&task.id);
                    done.insert(task.id, task);
                }
            }
            if pending.is_empty() {
                return Ok(ids.iter().filter_map(|id| done.get(id).cloned()).collect());
            }
            let mut wake = Instant::now() + POLL;
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    let first = pending.iter().next().copied().unwrap_or_default();
                    return Err(Error::Timeout(format!(
                        "{} of {} tasks still unfinished after {:?} (task {first} among them)",
                        pending.len(),
                        ids.len(),
                        timeout.unwrap_or_default()
                    )));
                }
                wake = wake.min(deadline);
            }
            loop {
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(event) if event.finishes_task() && pending.contains(&event.task_id()) => {
                            // Others may have finished meanwhile: one read for all of them.
                            while let Ok(_) | Err(TryRecvError::Lagged(_)) = events.try_recv() {}
                            break;
                        }
                        Ok(_) => continue,
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

    /// The tasks among `ids`, read a range of neighbouring ids at a time;
    /// [`Error::TaskNotFound`] for an id that names no task.
    async fn read_tasks(&self, ids: &BTreeSet<TaskId>) -> Result<Vec<TaskRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut ids = ids.iter().copied().peekable();
        while let Some(low) = ids.next() {
            let mut window = vec![low];
            while let Some(next) = ids.next_if(|&next| next - low < SPAN) {
                window.push(next);
            }
            let high = window[window.len() - 1];
            let filter = TaskFilter {
                before_id: Some(high + 1),
                limit: u32::try_from(high - low + 1).unwrap_or(u32::MAX),
                ..TaskFilter::default()
            };
            let mut found: BTreeMap<TaskId, TaskRecord> = self
                .store()
                .list_tasks(&filter)
                .await?
                .into_iter()
                .map(|task| (task.id, task))
                .collect();
            for id in window {
                out.push(found.remove(&id).ok_or(Error::TaskNotFound(id))?);
            }
        }
        Ok(out)
    }
}
