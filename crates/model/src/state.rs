//! The task and step state machines.
//!
//! Tasks and steps share one set of states but not one set of transitions. The tables here are
//! the only definition of what is allowed; every backend enforces them with a compare-and-set on
//! the expected state, and the conformance suite checks that both agree with this module.
//!
//! ```
//! use tasker_model::State;
//! use tasker_model::state::{step_transition_allowed, task_transition_allowed};
//!
//! let state: State = "in_progress".parse()?;
//! assert_eq!(state, State::InProgress);
//! assert_eq!(State::ResolvedManually.to_string(), "resolved_manually");
//!
//! // A failed step may be retried; a finished one never moves again.
//! assert!(step_transition_allowed(State::Error, State::InProgress));
//! assert!(!step_transition_allowed(State::Complete, State::Pending));
//! // A running step is never cancelled under its handler: it finishes first.
//! assert!(!step_transition_allowed(State::InProgress, State::Cancelled));
//! // Tasks, unlike steps, are never resolved by hand.
//! assert!(!task_transition_allowed(State::Error, State::ResolvedManually));
//! assert!(State::ResolvedManually.satisfies_dependents());
//! # Ok::<(), tasker_model::state::UnknownState>(())
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The state of a task or a step, written in snake_case (`in_progress`) in JSON, in the
/// database and on the command line.
///
/// `complete`, `cancelled` and `resolved_manually` are terminal: no transition leaves them.
/// `error` is not, since `task retry` and `step resolve` lead out of it. Only steps are ever
/// `resolved_manually`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not started yet. A step waits for its parents, or for a claim once they are done; a
    /// task has had none of its steps claimed yet.
    Pending,
    /// Running. A step has been claimed under a lease and its handler is running; a task has
    /// had a step claimed and is not finished.
    InProgress,
    /// Done. A step's handler succeeded (its result is stored); every step of a task is
    /// complete or resolved manually. Terminal.
    Complete,
    /// Failed. A step's last attempt failed, and a retry may still be due; a task is blocked by
    /// a step that failed with no retry left and has no step running. Not terminal: `task
    /// retry` and `step resolve` lead out of it.
    Error,
    /// Stopped by `task cancel`: the task, and those of its steps that were pending or failed
    /// at the time (running steps finish on their own). Terminal.
    Cancelled,
    /// A step an operator marked as done (`step resolve`): it counts as complete for its
    /// children, without a result. Terminal. Tasks never take this state.
    ResolvedManually,
}

impl State {
    /// Every state, in declaration order (which is also their [`Ord`] order).
    pub const ALL: [State; 6] = [
        State::Pending,
        State::InProgress,
        State::Complete,
        State::Error,
        State::Cancelled,
        State::ResolvedManually,
    ];

    /// The snake_case name (`in_progress`), as in JSON and the database; [`str::parse`] reads
    /// it back.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InProgress => "in_progress",
            State::Complete => "complete",
            State::Error => "error",
            State::Cancelled => "cancelled",
            State::ResolvedManually => "resolved_manually",
        }
    }

    /// A state no transition leaves: `complete`, `cancelled` or `resolved_manually`.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Complete | State::Cancelled | State::ResolvedManually
        )
    }

    /// A step in this state counts as done for its children: `complete` or
    /// `resolved_manually`.
    pub fn satisfies_dependents(self) -> bool {
        matches!(self, State::Complete | State::ResolvedManually)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no [`State`]; holds the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown state {0:?} (expected one of pending, in_progress, complete, error, cancelled, resolved_manually)"
)]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// Allowed step transitions.
///
/// - `pending -> in_progress`: claimed by an orchestrator (all parents satisfied).
/// - `pending -> cancelled | resolved_manually`: task cancelled, or an operator resolves it.
/// - `in_progress -> complete | error`: the handler's outcome (or an expired lease, as `error`).
/// - `in_progress -> pending`: a lease released on graceful shutdown; the attempt is not counted.
/// - `in_progress -> cancelled`: never; a running step finishes, its task may be cancelled meanwhile.
/// - `error -> in_progress`: a retry claimed after its backoff.
/// - `error -> pending`: `task retry` gives a permanently failed step a fresh set of attempts.
/// - `error -> cancelled | resolved_manually`: task cancelled, or an operator resolves it.
pub fn step_transition_allowed(from: State, to: State) -> bool {
    use State::*;
    matches!(
        (from, to),
        (Pending, InProgress)
            | (Pending, Cancelled)
            | (Pending, ResolvedManually)
            | (InProgress, Complete)
            | (InProgress, Error)
            | (InProgress, Pending)
            | (Error, InProgress)
            | (Error, Pending)
            | (Error, Cancelled)
            | (Error, ResolvedManually)
    )
}

/// Allowed task transitions.
///
/// - `pending -> in_progress`: its first step is claimed.
/// - `pending | in_progress | error -> cancelled`: `task cancel`.
/// - `in_progress -> complete`: every step complete or resolved manually.
/// - `in_progress -> error`: a step failed permanently and no step of the task is still running.
/// - `error -> in_progress`: `task retry`, or `step resolve` of its last blocking step.
/// - `pending | error -> complete`: `step resolve` of the last unfinished step.
pub fn task_transition_allowed(from: State, to: State) -> bool {
    use State::*;
    matches!(
        (from, to),
        (Pending, InProgress)
            | (Pending, Cancelled)
            | (Pending, Complete)
            | (InProgress, Complete)
            | (InProgress, Error)
            | (InProgress, Cancelled)
            | (Error, InProgress)
            | (Error, Cancelled)
            | (Error, Complete)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
        }
        assert!("done".parse::<State>().is_err());
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for from in State::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in State::ALL {
                assert!(!step_transition_allowed(from, to), "step {from} -> {to}");
                assert!(!task_transition_allowed(from, to), "task {from} -> {to}");
            }
        }
    }

    /// The whole step table, written out so that a change to it is a visible change to this test.
    #[test]
    fn step_table() {
        use State::*;
        let allowed: Vec<(State, State)> = State::ALL
            .into_iter()
            .flat_map(|f| State::ALL.into_iter().map(move |t| (f, t)))
            .filter(|&(f, t)| step_transition_allowed(f, t))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, InProgress),
                (Pending, Cancelled),
                (Pending, ResolvedManually),
                (InProgress, Pending),
                (InProgress, Complete),
                (InProgress, Error),
                (Error, Pending),
                (Error, InProgress),
                (Error, Cancelled),
                (Error, ResolvedManually),
            ]
        );
    }

    #[test]
    fn task_table() {
        use State::*;
        let allowed: Vec<(State, State)> = State::ALL
            .into_iter()
            .flat_map(|f| State::ALL.into_iter().map(move |t| (f, t)))
            .filter(|&(f, t)| task_transition_allowed(f, t))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, InProgress),
                (Pending, Complete),
                (Pending, Cancelled),
                (InProgress, Complete),
                (InProgress, Error),
                (InProgress, Cancelled),
                (Error, InProgress),
                (Error, Complete),
                (Error, Cancelled),
            ]
        );
    }
}
