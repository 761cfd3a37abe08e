//! Requests and answers of the store methods that exist for `tasker bench`: verification counts,
//! bulk seeding of finished history, and the ideal queue the engine is compared with.

use serde::Serialize;
use std::time::Duration;
use tasker_model::State;

/// Row counts of every engine table, for checking a benchmark's end state. May scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    /// Tasks in each state (states with none are left out), in state order.
    pub tasks_by_state: Vec<(State, i64)>,
    /// Steps in each state (states with none are left out), in state order.
    pub steps_by_state: Vec<(State, i64)>,
    /// Task transitions, all of them.
    pub task_transitions: i64,
    /// Task transitions marked `most_recent`: one per task when the history is sound.
    pub current_task_transitions: i64,
    /// Step transitions, all of them.
    pub step_transitions: i64,
    /// Step transitions marked `most_recent`: one per step when the history is sound.
    pub current_step_transitions: i64,
    /// Edges between steps.
    pub edges: i64,
}

impl TableCounts {
    /// Tasks in all.
    pub fn tasks(&self) -> i64 {
        self.tasks_by_state.iter().map(|(_, n)| n).sum()
    }

    /// Steps in all.
    pub fn steps(&self) -> i64 {
        self.steps_by_state.iter().map(|(_, n)| n).sum()
    }

    /// Tasks in `state`.
    pub fn tasks_in(&self, state: State) -> i64 {
        count_in(&self.tasks_by_state, state)
    }

    /// Steps in `state`.
    pub fn steps_in(&self, state: State) -> i64 {
        count_in(&self.steps_by_state, state)
    }
}

fn count_in(counts: &[(State, i64)], state: State) -> i64 {
    counts
        .iter()
        .filter(|(s, _)| *s == state)
        .map(|(_, n)| n)
        .sum()
}

/// What one run of the ideal queue did ([`Store::baseline_queue`](crate::Store::baseline_queue)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineReport {
    /// Jobs the run enqueued.
    pub jobs: u64,
    /// Concurrent workers (connections) that claimed and completed jobs.
    pub workers: usize,
    /// Jobs claimed per statement.
    pub batch: u32,
    /// Jobs marked done; equals `jobs` when the queue worked.
    pub completed: u64,
    /// Jobs claimed more than once (must be 0).
    pub claimed_twice: u64,
    /// Time to insert the jobs (not part of the throughput).
    pub insert_time: Duration,
    /// From the first claim to the last job marked done.
    pub run_time: Duration,
}
