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

/// The shape of the tasks a bare DAG queue runs ([`Store::bare_dag_queue`](crate::Store::bare_dag_queue)):
/// steps numbered from 0, step 0 the only root, the last step the only sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BareShape {
    /// 0 -> 1, 0 -> 2, (1, 2) -> 3: the diamond of `examples/diamond`.
    Diamond,
    /// 0 -> 1 -> 2 -> 3: the chain of `examples/linear`.
    Linear,
    /// One step: a plain job.
    OneStep,
}

impl BareShape {
    /// Steps per task.
    pub fn steps(self) -> u8 {
        match self {
            BareShape::Diamond | BareShape::Linear => 4,
            BareShape::OneStep => 1,
        }
    }

    /// Edges `(parent, child)`.
    pub fn edges(self) -> &'static [(i16, i16)] {
        match self {
            BareShape::Diamond => &[(0, 1), (0, 2), (1, 3), (2, 3)],
            BareShape::Linear => &[(0, 1), (1, 2), (2, 3)],
            BareShape::OneStep => &[],
        }
    }

    /// The step with several parents, released through a join counter, and how many parents
    /// it waits for.
    pub fn join(self) -> Option<(i16, i32)> {
        match self {
            BareShape::Diamond => Some((3, 2)),
            BareShape::Linear | BareShape::OneStep => None,
        }
    }

    /// The step whose completion completes the task.
    pub fn sink(self) -> i16 {
        i16::from(self.steps()) - 1
    }

    /// The children of `step` released as soon as it completes (the join step is not among
    /// them: the join counter releases it).
    pub fn direct_children(self, step: i16) -> impl Iterator<Item = i16> {
        let join = self.join().map(|(j, _)| j);
        self.edges()
            .iter()
            .filter(move |(parent, child)| *parent == step && Some(*child) != join)
            .map(|(_, child)| *child)
    }

    /// Whether `step` is a parent of the join step.
    pub fn feeds_join(self, step: i16) -> bool {
        self.join()
            .is_some_and(|(join, _)| self.edges().contains(&(step, join)))
    }
}

/// How a bare DAG queue is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareMode {
    /// Create every task, then let the workers run them all: throughput.
    Throughput,
    /// Create one task, wait for it to complete, and again: latency per task. The first
    /// `warm_up` tasks are not measured.
    OneAtATime {
        /// Tasks run before measuring.
        warm_up: u64,
    },
}

/// What a bare DAG queue run is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BareQueueSpec {
    /// The tasks' shape.
    pub shape: BareShape,
    /// Tasks to run (measured ones, in [`BareMode::OneAtATime`]).
    pub tasks: u64,
    /// Keep a history row for every state change of every step and task, written by the
    /// statements that change the state.
    pub history: bool,
    /// Throughput or one at a time.
    pub mode: BareMode,
    /// Concurrent workers, each on its own connection where the backend allows several.
    pub workers: usize,
    /// Steps claimed per statement.
    pub batch: u32,
}

/// What one run of a bare DAG queue did.
#[derive(Debug, Clone, PartialEq)]
pub struct BareQueueReport {
    /// Workers that ran (SQLite: 1).
    pub workers: usize,
    /// Steps completed; `tasks * steps` when the queue worked.
    pub steps_completed: u64,
    /// Steps claimed more than once (must be 0).
    pub claimed_twice: u64,
    /// History rows written for steps and for tasks (0 without history).
    pub step_history_rows: u64,
    /// History rows of tasks.
    pub task_history_rows: u64,
    /// Time to create the tasks ([`BareMode::Throughput`]; zero otherwise).
    pub create_time: Duration,
    /// From the first claim to the last completion ([`BareMode::Throughput`]).
    pub run_time: Duration,
    /// Per measured task, from before its creation to its last step's completion
    /// ([`BareMode::OneAtATime`]; empty otherwise).
    pub latencies: Vec<Duration>,
}
