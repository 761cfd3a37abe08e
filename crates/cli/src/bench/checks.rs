//! Every scenario checks its end state against what a correct run must leave: a fast wrong
//! answer is a failure, not a result.

use tasker::State;
use tasker::store::TableCounts;

/// What the tables must hold after a run in which every step succeeded on its first attempt.
#[derive(Debug, Clone, Copy)]
pub struct Expected {
    pub tasks: i64,
    pub steps: i64,
    pub edges: i64,
}

impl Expected {
    /// `tasks` tasks of `steps_per_task` steps and `edges_per_task` edges each.
    pub fn runs(tasks: u64, steps_per_task: usize, edges_per_task: usize) -> Expected {
        let tasks = tasks as i64;
        Expected {
            tasks,
            steps: tasks * steps_per_task as i64,
            edges: tasks * edges_per_task as i64,
        }
    }
}

/// Every task and step complete, and each with exactly three transitions (created, started,
/// completed), the last one current. Returns what was checked, or every mismatch found.
pub fn all_complete(what: &str, counts: &TableCounts, e: Expected) -> anyhow::Result<Vec<String>> {
    let mut wrong = Vec::new();
    let mut check = |name: &str, found: i64, expected: i64| {
        if found != expected {
            wrong.push(format!("{name}: expected {expected}, found {found}"));
        }
    };
    check("tasks", counts.tasks(), e.tasks);
    check("complete tasks", counts.tasks_in(State::Complete), e.tasks);
    check("steps", counts.steps(), e.steps);
    check("complete steps", counts.steps_in(State::Complete), e.steps);
    check("edges", counts.edges, e.edges);
    check("task transitions", counts.task_transitions, 3 * e.tasks);
    check(
        "current task transitions",
        counts.current_task_transitions,
        e.tasks,
    );
    check("step transitions", counts.step_transitions, 3 * e.steps);
    check(
        "current step transitions",
        counts.current_step_transitions,
        e.steps,
    );
    if !wrong.is_empty() {
        anyhow::bail!(
            "{what}: the run left a wrong end state: {} (tasks by state {:?}, steps by state {:?})",
            wrong.join("; "),
            counts.tasks_by_state,
            counts.steps_by_state
        );
    }
    Ok(vec![
        format!(
            "{} tasks complete, 3 transitions each, one current",
            e.tasks
        ),
        format!(
            "{} steps complete, 3 transitions each, one current",
            e.steps
        ),
        format!("{} edges", e.edges),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(tasks: i64, steps: i64) -> TableCounts {
        TableCounts {
            tasks_by_state: vec![(State::Complete, tasks)],
            steps_by_state: vec![(State::Complete, steps)],
            task_transitions: 3 * tasks,
            current_task_transitions: tasks,
            step_transitions: 3 * steps,
            current_step_transitions: steps,
            edges: tasks * 4,
        }
    }

    #[test]
    fn a_sound_diamond_run_passes() {
        let expected = Expected::runs(10, 4, 4);
        assert!(all_complete("t", &counts(10, 40), expected).is_ok());
    }

    #[test]
    fn a_missing_task_or_transition_fails() {
        let expected = Expected::runs(10, 4, 4);
        let mut short = counts(10, 40);
        short.tasks_by_state = vec![(State::Complete, 9), (State::InProgress, 1)];
        let err = all_complete("t", &short, expected).unwrap_err().to_string();
        assert!(
            err.contains("complete tasks: expected 10, found 9"),
            "{err}"
        );
        let mut extra = counts(10, 40);
        extra.step_transitions += 1;
        assert!(all_complete("t", &extra, expected).is_err());
    }
}
