//! Readiness, as the introspection queries report it.
//!
//! The engine's hot path never calls these functions: it claims steps whose stored `ready_at` has
//! passed (kept up to date by a per-step count of unsatisfied parents). These functions are the
//! readable definition of the same thing, computed from first principles over a task's steps;
//! each backend implements them again in SQL, and the tests check that the three agree.

use crate::backoff::retry_eligible;
use crate::{State, StepId, StepRecord, TaskId, TaskRecord, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Whether one step may run now, and each reason that decides it, computed at a given time
/// from the states of the step, its parents and its task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepReadiness {
    /// The step's task.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    /// The step.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub step_id: StepId,
    /// The step's name in its template.
    pub name: String,
    /// The step's state.
    pub current_state: State,
    /// Every parent is `complete` or `resolved_manually` (true for a step without parents).
    pub dependencies_satisfied: bool,
    /// The retry rule allows an attempt: always for a `pending` step, otherwise while
    /// `attempts` is 0, or the step is retryable and `attempts < max_attempts`. It says nothing
    /// about whether the state is one that runs.
    pub retry_eligible: bool,
    /// The step can be claimed now: it is `pending` or `error`, its dependencies are
    /// satisfied, it is retry-eligible, a failed step's retry time has come, and its task is
    /// `pending` or `in_progress` with no step failed for good.
    pub ready_for_execution: bool,
    /// When the step last failed, whatever its current state; `None` if it never failed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_failure_at: Option<Timestamp>,
    /// When a step in `error` with a retry left is due to run again; `None` for any other step,
    /// and when no retry time is set.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_retry_at: Option<Timestamp>,
    /// The number of parent steps.
    pub total_parents: i32,
    /// Parents that are `complete` or `resolved_manually`.
    pub completed_parents: i32,
    /// Attempts started so far, the running one included.
    pub attempts: i32,
    /// The step's attempt budget, counting the first attempt.
    pub max_attempts: i32,
    /// The retry-after the handler asked for with its latest failure, in whole seconds,
    /// rounded up; `None` when it asked for none.
    pub backoff_request_seconds: Option<i64>,
    /// When the latest attempt was claimed; `None` before the first.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempted_at: Option<Timestamp>,
}

/// Where a task's execution stands, from its steps' readiness. The first that applies, in
/// this order: `blocked_by_failures`, `has_ready_steps`, `processing`, `all_complete`,
/// `waiting_for_dependencies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// At least one step can be claimed now.
    HasReadySteps,
    /// Steps are running and none can be claimed now.
    Processing,
    /// A step failed with no retry left: the task goes no further until `task retry` or
    /// `step resolve`.
    BlockedByFailures,
    /// Every step is `complete` or `resolved_manually`.
    AllComplete,
    /// Nothing is ready or running: steps wait for their parents or for a retry's time (a
    /// cancelled task also ends up here).
    WaitingForDependencies,
}

/// What to do about a task, one for each execution status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecommendedAction {
    /// Claim and run the ready steps (`has_ready_steps`).
    ExecuteReadySteps,
    /// Wait for the running steps (`processing`).
    WaitForCompletion,
    /// An operator's turn: retry the task or resolve its failed steps (`blocked_by_failures`).
    HandleFailures,
    /// Nothing is left to run: the task completes (`all_complete`).
    FinalizeTask,
    /// Wait for parents or retry times (`waiting_for_dependencies`).
    WaitForDependencies,
}

/// How a task is faring, from the failures among its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No step is in `error`.
    Healthy,
    /// Some steps are in `error`, and each still has a retry left.
    Recovering,
    /// A step failed with no retry left.
    Blocked,
    /// Reserved: nothing in this version computes it.
    Unknown,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The snake_case name, as in JSON; `parse` reads it back.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(Self::$v),)* other => Err(format!("unknown value {other:?}")) }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(ExecutionStatus {
    HasReadySteps => "has_ready_steps",
    Processing => "processing",
    BlockedByFailures => "blocked_by_failures",
    AllComplete => "all_complete",
    WaitingForDependencies => "waiting_for_dependencies",
});
str_enum!(RecommendedAction {
    ExecuteReadySteps => "execute_ready_steps",
    WaitForCompletion => "wait_for_completion",
    HandleFailures => "handle_failures",
    FinalizeTask => "finalize_task",
    WaitForDependencies => "wait_for_dependencies",
});
str_enum!(HealthStatus {
    Healthy => "healthy",
    Recovering => "recovering",
    Blocked => "blocked",
    Unknown => "unknown",
});

/// A summary of one task's steps: counts by state, and what the task needs next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskExecutionContext {
    /// The task.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    /// All of the task's steps.
    pub total_steps: i64,
    /// Steps in `pending`.
    pub pending_steps: i64,
    /// Steps in `in_progress`.
    pub in_progress_steps: i64,
    /// `complete` or `resolved_manually`.
    pub completed_steps: i64,
    /// Steps in `error`, whether or not a retry is still due.
    pub failed_steps: i64,
    /// Steps that can be claimed now (`ready_for_execution`).
    pub ready_steps: i64,
    /// Steps in `error` with no retry left.
    pub permanently_blocked_steps: i64,
    /// Where the task's execution stands.
    pub execution_status: ExecutionStatus,
    /// What to do about it, following from `execution_status`.
    pub recommended_action: RecommendedAction,
    /// Completed steps as a share of all steps, from 0 to 100, rounded to two decimals; 0
    /// for a task without steps.
    pub completion_percentage: f64,
    /// How the task is faring, from its failed steps.
    pub health_status: HealthStatus,
}

/// May steps of a task in this state start at all? A cancelled, finished or blocked task starts
/// nothing new; a pending or running one does.
pub fn task_accepts_work(task_state: State) -> bool {
    matches!(task_state, State::Pending | State::InProgress)
}

/// Readiness of every step of one task at `now`, in the order of `steps`. `steps` must hold
/// all steps of the task; parents are looked up by name (a parent missing from `steps` counts
/// as unsatisfied).
pub fn step_readiness(
    task: &TaskRecord,
    steps: &[StepRecord],
    now: Timestamp,
) -> Vec<StepReadiness> {
    let by_name: HashMap<&str, &StepRecord> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let blocked = steps.iter().any(|s| {
        s.state == State::Error && !retry_eligible(s.attempts, s.max_attempts, s.retryable)
    });
    let accepts_work = task_accepts_work(task.state) && !blocked;
    steps
        .iter()
        .map(|step| {
            let total_parents = step.parents.len() as i32;
            let completed_parents = step
                .parents
                .iter()
                .filter(|p| {
                    by_name
                        .get(p.as_str())
                        .is_some_and(|p| p.state.satisfies_dependents())
                })
                .count() as i32;
            let dependencies_satisfied = completed_parents == total_parents;
            // A pending step has not failed since it was (re)scheduled: its next attempt is the
            // first of a fresh set (after `task retry`), so the retry rule does not apply.
            let eligible = step.state == State::Pending
                || retry_eligible(step.attempts, step.max_attempts, step.retryable);
            // A failed step retries at the time chosen when it failed (backoff or retry-after).
            let next_retry_at = if step.state == State::Error && eligible {
                step.ready_at
            } else {
                None
            };
            let runnable_state = matches!(step.state, State::Pending | State::Error);
            let backoff_elapsed = match step.state {
                State::Error => next_retry_at.is_some_and(|at| at <= now),
                _ => true,
            };
            StepReadiness {
                task_id: step.task_id,
                step_id: step.id,
                name: step.name.clone(),
                current_state: step.state,
                dependencies_satisfied,
                retry_eligible: eligible,
                ready_for_execution: runnable_state
                    && dependencies_satisfied
                    && eligible
                    && backoff_elapsed
                    && accepts_work,
                last_failure_at: step.last_failure_at,
                next_retry_at,
                total_parents,
                completed_parents,
                attempts: step.attempts,
                max_attempts: step.max_attempts,
                backoff_request_seconds: step.backoff_request_seconds,
                last_attempted_at: step.last_attempted_at,
            }
        })
        .collect()
}

/// The execution context of one task, from its steps' readiness (as [`step_readiness`]
/// computes it).
pub fn task_execution_context(
    task_id: TaskId,
    readiness: &[StepReadiness],
) -> TaskExecutionContext {
    let count =
        |f: &dyn Fn(&StepReadiness) -> bool| readiness.iter().filter(|s| f(s)).count() as i64;
    let total_steps = readiness.len() as i64;
    let pending_steps = count(&|s| s.current_state == State::Pending);
    let in_progress_steps = count(&|s| s.current_state == State::InProgress);
    let completed_steps = count(&|s| s.current_state.satisfies_dependents());
    let failed_steps = count(&|s| s.current_state == State::Error);
    let ready_steps = count(&|s| s.ready_for_execution);
    let permanently_blocked_steps =
        count(&|s| s.current_state == State::Error && !s.retry_eligible);
    let execution_status = if permanently_blocked_steps > 0 {
        ExecutionStatus::BlockedByFailures
    } else if ready_steps > 0 {
        ExecutionStatus::HasReadySteps
    } else if in_progress_steps > 0 {
        ExecutionStatus::Processing
    } else if total_steps > 0 && completed_steps == total_steps {
        ExecutionStatus::AllComplete
    } else {
        ExecutionStatus::WaitingForDependencies
    };
    let recommended_action = match execution_status {
        ExecutionStatus::BlockedByFailures => RecommendedAction::HandleFailures,
        ExecutionStatus::HasReadySteps => RecommendedAction::ExecuteReadySteps,
        ExecutionStatus::Processing => RecommendedAction::WaitForCompletion,
        ExecutionStatus::AllComplete => RecommendedAction::FinalizeTask,
        ExecutionStatus::WaitingForDependencies => RecommendedAction::WaitForDependencies,
    };
    let completion_percentage = if total_steps == 0 {
        0.0
    } else {
        (completed_steps as f64 * 10_000.0 / total_steps as f64).round() / 100.0
    };
    let health_status = if permanently_blocked_steps > 0 {
        HealthStatus::Blocked
    } else if failed_steps > 0 {
        HealthStatus::Recovering
    } else {
        HealthStatus::Healthy
    };
    TaskExecutionContext {
        task_id,
        total_steps,
        pending_steps,
        in_progress_steps,
        completed_steps,
        failed_steps,
        ready_steps,
        permanently_blocked_steps,
        execution_status,
        recommended_action,
        completion_percentage,
        health_status,
    }
}
