//! The store methods behind `tasker bench`.

use super::fixture::{check_task, layout, t0, template};
use crate::{FinishedQuery, Store, TaskFilter, seeding};
use std::sync::Arc;
use tasker_model::State;

/// Checks that seeded history is a sound finished run.
pub async fn seeded_history_is_a_sound_finished_run(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    let diamond = layout(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let before = store.table_counts().await.expect("counts");
    assert_eq!(before.tasks(), 0);
    // 98 tasks: the first and the 98th are the slow ones.
    const SEEDED: i64 = 98;
    store
        .seed_completed_tasks(template_id, &diamond, SEEDED as u64, t0())
        .await
        .expect("seed");
    let counts = store.table_counts().await.expect("counts");
    assert_eq!(counts.tasks_by_state, vec![(State::Complete, SEEDED)]);
    assert_eq!(counts.steps_by_state, vec![(State::Complete, 4 * SEEDED)]);
    assert_eq!(
        (counts.task_transitions, counts.current_task_transitions),
        (3 * SEEDED, SEEDED)
    );
    assert_eq!(
        (counts.step_transitions, counts.current_step_transitions),
        (12 * SEEDED, 4 * SEEDED)
    );
    assert_eq!(counts.edges, 4 * SEEDED);

    let mut tasks = store
        .list_tasks(&TaskFilter {
            limit: 1_000,
            ..Default::default()
        })
        .await
        .expect("list");
    tasks.reverse();
    assert_eq!(tasks.len(), SEEDED as usize);
    let at = |micros: i64| chrono::DateTime::from_timestamp_micros(micros).expect("in range");
    let levels = [0, 1, 1, 2];
    for (k, task) in tasks.iter().enumerate() {
        // When each seeded task and step ran follows tasker_store::seeding on every backend.
        let times = seeding::task_times(k as i64, SEEDED, t0().timestamp_micros(), 3);
        assert_eq!((task.steps_total, task.steps_remaining), (4, 0), "task {k}");
        assert_eq!(
            (task.created_at, task.completed_at),
            (at(times.created_at), Some(at(times.completed_at))),
            "task {k}"
        );
        let steps = store.steps_of_task(task.id).await.expect("steps");
        assert_eq!(steps[3].parents, vec!["b".to_string(), "c".to_string()]);
        for (position, step) in steps.iter().enumerate() {
            let ran = seeding::step_times(task.id, position as i64, levels[position], times);
            assert_eq!(
                (
                    step.attempts,
                    step.ready_at,
                    step.last_attempted_at,
                    step.updated_at
                ),
                (1, None, Some(at(ran.attempted_at)), at(ran.completed_at)),
                "task {k} step {position}"
            );
        }
        if k < 3 {
            check_task(&*store, task.id, t0()).await;
        }
    }
    let outstanding = store.outstanding_work().await.expect("outstanding");
    assert!(!outstanding.scheduled && !outstanding.running);

    // The analytics see them: over the day before t0, in 8-hour buckets; the slowest two are
    // the ones seeded ten times slower; step samples carry the seeded waits and durations.
    let day = t0() - chrono::Duration::days(1);
    let buckets = store
        .finished_counts(day, t0() + chrono::Duration::seconds(1), 8 * 3_600)
        .await
        .expect("counts");
    assert_eq!(
        buckets.iter().map(|b| b.tasks_complete).sum::<i64>(),
        SEEDED
    );
    assert_eq!(buckets.iter().map(|b| b.steps).sum::<i64>(), 4 * SEEDED);
    assert!(buckets.len() >= 3, "{buckets:?}");
    let query = FinishedQuery {
        since: day,
        until: t0() + chrono::Duration::seconds(1),
        template_ids: Vec::new(),
        limit: 1_000,
    };
    let finished = store.finished_tasks(&query).await.expect("finished");
    assert_eq!(finished.len(), SEEDED as usize);
    let mut by_duration: Vec<_> = finished
        .iter()
        .map(|t| (t.completed_at - t.created_at, t.id))
        .collect();
    by_duration.sort();
    let slowest: Vec<i64> = by_duration
        .iter()
        .rev()
        .take(2)
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(slowest, [tasks[97].id, tasks[0].id]);
    let samples = store.finished_step_samples(&query).await.expect("samples");
    assert_eq!(samples.len(), 4 * SEEDED as usize);
    let first = &tasks[0];
    let times = seeding::task_times(0, SEEDED, t0().timestamp_micros(), 3);
    for (position, sample) in samples.iter().filter(|s| s.task_id == first.id).enumerate() {
        let ran = seeding::step_times(first.id, position as i64, levels[position], times);
        assert_eq!(
            (sample.wait_ms, sample.duration_ms),
            (
                Some((ran.attempted_at - ran.ready_at) / 1_000),
                Some((ran.completed_at - ran.attempted_at) / 1_000)
            ),
            "step {position}"
        );
    }
}

/// Checks that baseline queue finishes every job once.
pub async fn baseline_queue_finishes_every_job_once(store: Arc<dyn Store>) {
    let report = store.baseline_queue(1_000, 2).await.expect("baseline");
    assert_eq!(report.jobs, 1_000);
    assert_eq!(report.completed, 1_000);
    assert_eq!(report.claimed_twice, 0);
    assert!(report.workers >= 1 && report.batch > 0);
    // The queue leaves nothing behind, and can run again.
    let again = store.baseline_queue(10, 1).await.expect("baseline again");
    assert_eq!((again.completed, again.claimed_twice), (10, 0));
    assert_eq!(store.table_counts().await.expect("counts").tasks(), 0);
}

/// Checks that the bare DAG queue runs every shape, with and without history, throughput and
/// one task at a time: every step once, the history complete, nothing left behind.
pub async fn bare_dag_queue_runs_every_step_once(store: Arc<dyn Store>) {
    use crate::{BareMode, BareQueueSpec, BareShape};
    for shape in [BareShape::Diamond, BareShape::Linear, BareShape::OneStep] {
        for history in [false, true] {
            for (mode, tasks) in [
                (BareMode::Throughput, 300u64),
                (BareMode::OneAtATime { warm_up: 2 }, 5),
            ] {
                let spec = BareQueueSpec {
                    shape,
                    tasks,
                    history,
                    mode,
                    workers: 3,
                    // Smaller than a run's ready steps, so batches follow each other.
                    batch: 16,
                };
                let report = store.bare_dag_queue(spec).await.expect("bare queue");
                let ran = match mode {
                    BareMode::Throughput => tasks,
                    BareMode::OneAtATime { warm_up } => tasks + warm_up,
                };
                let steps = ran * u64::from(shape.steps());
                let case = format!("{shape:?}, history {history}, {mode:?}");
                assert_eq!(report.steps_completed, steps, "{case}");
                assert_eq!(report.claimed_twice, 0, "{case}");
                // pending, in_progress, complete: three rows per step and per task.
                let (step_rows, task_rows) = if history {
                    (3 * steps, 3 * ran)
                } else {
                    (0, 0)
                };
                assert_eq!(report.step_history_rows, step_rows, "{case}");
                assert_eq!(report.task_history_rows, task_rows, "{case}");
                match mode {
                    BareMode::Throughput => assert!(report.latencies.is_empty(), "{case}"),
                    BareMode::OneAtATime { .. } => {
                        assert_eq!(report.latencies.len() as u64, tasks, "{case}")
                    }
                }
            }
        }
    }
    // The queue's tables are gone: the engine's are untouched.
    assert_eq!(store.table_counts().await.expect("counts").tasks(), 0);
}
