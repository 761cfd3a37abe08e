//! The store methods behind `tasker bench`.

use super::fixture::{check_task, layout, t0, template};
use crate::{Store, TaskFilter};
use std::sync::Arc;
use tasker_model::State;

pub async fn seeded_history_is_a_sound_finished_run(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    let diamond = layout(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let before = store.table_counts().await.expect("counts");
    assert_eq!(before.tasks(), 0);
    store
        .seed_completed_tasks(template_id, &diamond, 3, t0())
        .await
        .expect("seed");
    let counts = store.table_counts().await.expect("counts");
    assert_eq!(counts.tasks_by_state, vec![(State::Complete, 3)]);
    assert_eq!(counts.steps_by_state, vec![(State::Complete, 12)]);
    assert_eq!(
        (counts.task_transitions, counts.current_task_transitions),
        (9, 3)
    );
    assert_eq!(
        (counts.step_transitions, counts.current_step_transitions),
        (36, 12)
    );
    assert_eq!(counts.edges, 12);

    let tasks = store
        .list_tasks(&TaskFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        assert_eq!(
            (task.steps_total, task.steps_remaining, task.completed_at),
            (4, 0, Some(t0()))
        );
        check_task(&*store, task.id, t0()).await;
        let steps = store.steps_of_task(task.id).await.expect("steps");
        assert_eq!(steps[3].parents, vec!["b".to_string(), "c".to_string()]);
        assert!(
            steps
                .iter()
                .all(|s| s.attempts == 1 && s.ready_at.is_none())
        );
    }
    let outstanding = store.outstanding_work().await.expect("outstanding");
    assert!(!outstanding.scheduled && !outstanding.running);
}

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
