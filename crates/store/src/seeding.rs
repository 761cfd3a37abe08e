//! When the tasks that [`Store::seed_completed_tasks`](crate::Store::seed_completed_tasks)
//! loads ran: the rule both backends follow (SQLite here, PostgreSQL in the same arithmetic in
//! SQL), so that analytics over a seeded history have something to show.
//!
//! The `count` tasks of one call finished evenly over the day before `now`, the last at `now`.
//! Each took one slot of 50 ms per level of its DAG, stretched by 1.00x-1.99x, and every 97th
//! task ten times more (the slow ones a "slowest tasks" view should find). A step at level `l`
//! became runnable `l` slots after its task was created, waited 2-9% of a slot and ran for
//! 30-79% of one: every step ends before the next level starts and before its task completes.
//! All in whole microseconds with integer arithmetic, so both backends agree to the microsecond.

use crate::StepLayout;

/// The day over which one seeding spreads its tasks.
pub const WINDOW_MICROS: i64 = 86_400_000_000;
/// One level of a seeded task's DAG at the base speed.
pub const SLOT_MICROS: i64 = 50_000;

/// A seeded task's times, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededTask {
    /// When the task was created.
    pub created_at: i64,
    /// When it completed.
    pub completed_at: i64,
    /// The length of one level of its DAG.
    pub slot: i64,
}

/// A seeded step's times, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededStep {
    /// When it became runnable (`last_ready_at`).
    pub ready_at: i64,
    /// When its one attempt started (`last_attempted_at`).
    pub attempted_at: i64,
    /// When it completed (`updated_at`).
    pub completed_at: i64,
}

/// Task `k` (from 0) of `count` seeded at `now` (microseconds), whose DAG has `levels` levels.
pub fn task_times(k: i64, count: i64, now: i64, levels: i64) -> SeededTask {
    let completed_at = now - (count - 1 - k) * WINDOW_MICROS / count;
    let stretch = 100 + (k * 7919) % 100;
    let stretch = if k % 97 == 0 { stretch * 10 } else { stretch };
    let slot = SLOT_MICROS * stretch / 100;
    SeededTask {
        created_at: completed_at - levels * slot,
        completed_at,
        slot,
    }
}

/// The step at `position` and `level` of the seeded task `task_id`.
pub fn step_times(task_id: i64, position: i64, level: i64, task: SeededTask) -> SeededStep {
    let ready_at = task.created_at + level * task.slot;
    let attempted_at = ready_at + task.slot * (2 + (task_id * 7 + position * 13) % 8) / 100;
    SeededStep {
        ready_at,
        attempted_at,
        completed_at: attempted_at + task.slot * (30 + (task_id * 31 + position * 17) % 50) / 100,
    }
}

/// The level of each step of the layout (0 for roots, else one more than its deepest parent),
/// by position. Edges that name no step of the layout are ignored (the backends refuse them).
pub fn levels(layout: &StepLayout) -> Vec<i64> {
    let mut levels = vec![0i64; layout.steps.len()];
    // A DAG of n steps settles within n rounds of relaxing every edge.
    for _ in 0..layout.steps.len() {
        let mut changed = false;
        for &(parent, child) in &layout.edges {
            if let (Some(&p), Some(&c)) = (levels.get(parent), levels.get(child))
                && c < p + 1
            {
                levels[child] = p + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewStep;

    fn layout(n: usize, edges: &[(usize, usize)]) -> StepLayout {
        StepLayout {
            steps: (0..n)
                .map(|i| NewStep {
                    name: format!("s{i}"),
                    handler: "noop".into(),
                    queue: None,
                    inputs: None,
                    retryable: true,
                    max_attempts: 1,
                })
                .collect(),
            edges: edges.to_vec(),
        }
    }

    #[test]
    fn levels_follow_the_longest_path() {
        let diamond = layout(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(levels(&diamond), [0, 1, 1, 2]);
        // Edges listed child first still settle.
        let chain = layout(4, &[(2, 3), (1, 2), (0, 1), (0, 3)]);
        assert_eq!(levels(&chain), [0, 1, 2, 3]);
        assert_eq!(levels(&layout(2, &[])), [0, 0]);
    }

    #[test]
    fn tasks_spread_over_the_day_and_steps_fit_their_task() {
        let now = 1_767_225_600_000_000;
        let count = 1_000;
        let first = task_times(0, count, now, 3);
        let last = task_times(count - 1, count, now, 3);
        assert_eq!(last.completed_at, now);
        assert_eq!(
            first.completed_at,
            now - (count - 1) * WINDOW_MICROS / count
        );
        assert_eq!(
            first.slot,
            SLOT_MICROS * 10,
            "every 97th task is ten times slower"
        );
        for k in 0..count {
            let task = task_times(k, count, now, 3);
            assert!(task.completed_at > task.created_at);
            assert!((SLOT_MICROS..=SLOT_MICROS * 20).contains(&task.slot));
            for (position, level) in [(0, 0), (1, 1), (2, 1), (3, 2)] {
                let step = step_times(k * 10 + 7, position, level, task);
                assert!(step.ready_at >= task.created_at);
                assert!(step.ready_at < step.attempted_at);
                assert!(step.attempted_at < step.completed_at);
                assert!(step.completed_at < task.created_at + (level + 1) * task.slot);
            }
        }
    }
}
