//! Follow the orchestrator's events to draw how many demo tasks have finished.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashSet;
use std::time::Duration;
use tasker::model::TaskId;
use tasker::{Event, RunStats};
use tokio::sync::broadcast::{Receiver, error::RecvError};

pub fn bar(total: usize, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed} [{wide_bar}] {pos}/{len} tasks {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Drive `orchestrator` to its end while counting finish events of the demo's tasks.
///
/// Events are a view, not the truth: a lagging receiver misses some, so the bar may end short;
/// the summary reads the final states from the store.
pub async fn follow(
    mut events: Receiver<Event>,
    mut waiting: HashSet<TaskId>,
    bar: &ProgressBar,
    orchestrator: impl Future<Output = tasker::Result<RunStats>>,
) -> tasker::Result<RunStats> {
    tokio::pin!(orchestrator);
    let mut failed = 0u64;
    let mut retries = 0u64;
    let mut listening = true;
    loop {
        tokio::select! {
            stats = &mut orchestrator => return stats,
            event = events.recv(), if listening => match event {
                Ok(event) => {
                    match &event {
                        Event::TaskFailed { .. } if waiting.contains(&event.task_id()) => failed += 1,
                        Event::RetryScheduled { .. } => retries += 1,
                        _ => {}
                    }
                    if event.finishes_task() && waiting.remove(&event.task_id()) {
                        bar.inc(1);
                    }
                    bar.set_message(format!("{retries} retries, {failed} failed"));
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => listening = false,
            },
        }
    }
}
