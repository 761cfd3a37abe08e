//! Task creation, identity and the read side.

use super::fixture::{check_task, create, layout, new_task, t0, template};
use crate::{Error, Store, TaskFilter};
use serde_json::json;
use std::sync::Arc;
use tasker_model::State;

/// Checks that create task writes steps edges counters and history.
pub async fn create_task_writes_steps_edges_counters_and_history(store: Arc<dyn Store>) {
    let diamond = layout(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let task_id = create(&*store, &diamond, t0()).await;

    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(task.state, State::Pending);
    assert_eq!(
        (task.steps_total, task.steps_remaining, task.steps_failed),
        (4, 4, 0)
    );
    assert_eq!(
        (
            task.namespace.as_str(),
            task.name.as_str(),
            task.version.as_str()
        ),
        ("conformance", "flow", "1.0.0")
    );
    assert_eq!(task.context, json!({"order": 42}));
    assert_eq!(
        (task.created_at, task.updated_at, task.completed_at),
        (t0(), t0(), None)
    );

    let steps = store.steps_of_task(task_id).await.expect("steps");
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    let parents: Vec<Vec<String>> = steps.iter().map(|s| s.parents.clone()).collect();
    assert_eq!(
        parents,
        vec![
            vec![],
            vec!["a".to_string()],
            vec!["a".into()],
            vec!["b".into(), "c".into()]
        ]
    );
    let counts: Vec<(i32, i32)> = steps
        .iter()
        .map(|s| (s.total_parents, s.unsatisfied_parents))
        .collect();
    assert_eq!(counts, [(0, 0), (1, 1), (1, 1), (2, 2)]);
    let ready: Vec<Option<_>> = steps.iter().map(|s| s.ready_at).collect();
    assert_eq!(ready, [Some(t0()), None, None, None]);
    for step in &steps {
        assert_eq!(step.state, State::Pending);
        assert_eq!(
            (step.attempts, step.max_attempts, step.retry_limit),
            (0, 3, 3)
        );
        assert!(step.retryable);
        assert_eq!(step.inputs, Some(json!({"step": step.name})));
        assert_eq!(step.results, None);
        assert_eq!(
            (step.lease_owner.as_deref(), step.lease_expires_at),
            (None, None)
        );
        let single = store.step(step.id).await.expect("step").expect("exists");
        assert_eq!(&single, step);
    }

    let history = store.task_transitions(task_id).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].from_state,
            history[0].to_state,
            history[0].sort_key
        ),
        (None, State::Pending, 1)
    );
    assert!(history[0].most_recent);
    assert_eq!(history[0].metadata, json!({}));
    assert_eq!(history[0].created_at, t0());
    let step_history = store
        .step_transitions_of_task(task_id)
        .await
        .expect("step history");
    assert_eq!(step_history.len(), 4);
    assert!(step_history.iter().all(|t| t.from_state.is_none()
        && t.to_state == State::Pending
        && t.metadata == json!({})));
    assert_eq!(step_history[0].step_name.as_deref(), Some("a"));
    check_task(&*store, task_id, t0()).await;
    assert_eq!(store.task(task_id + 1000).await.expect("task"), None);
    assert_eq!(store.step(i64::MAX).await.expect("step"), None);
}

/// A key that already created a task, or that an earlier item of the same batch carries,
/// with another context: the whole batch is refused and nothing of it is written.
pub async fn a_key_reused_with_another_context_rolls_the_batch_back(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    let single = layout(&["only"], &[]);
    let keyed = |key: &str, context: serde_json::Value| {
        let mut task = new_task(template_id, &single);
        task.identity_hash = Some(format!("hash-of-{key}"));
        task.idempotency_key = Some(key.to_owned());
        task.context = context;
        task
    };
    let first = store
        .create_tasks(&[keyed("k1", json!({"n": 1}))], t0())
        .await
        .expect("create");
    let count = || async { store.table_counts().await.expect("counts") };
    let before = count().await;

    let batch = [new_task(template_id, &single), keyed("k1", json!({"n": 2}))];
    match store.create_tasks(&batch, t0()).await {
        Err(Error::IdempotencyConflict { index, task }) => {
            assert_eq!((index, task), (1, first[0].id));
        }
        other => panic!("expected an idempotency conflict, got {other:?}"),
    }
    let after = count().await;
    assert_eq!(
        (after.tasks(), after.steps(), after.task_transitions),
        (before.tasks(), before.steps(), before.task_transitions),
        "a refused batch writes nothing"
    );

    let batch = [
        keyed("k2", json!({"n": 1})),
        new_task(template_id, &single),
        keyed("k2", json!({"n": 2})),
    ];
    match store.create_tasks(&batch, t0()).await {
        Err(Error::IdempotencyConflict { index, .. }) => assert_eq!(index, 2),
        other => panic!("expected an idempotency conflict, got {other:?}"),
    }
    assert_eq!(
        count().await.tasks(),
        before.tasks(),
        "nothing of it written"
    );

    // The same key with the same context is a retry: it answers with the first task.
    let again = store
        .create_tasks(
            &[new_task(template_id, &single), keyed("k1", json!({"n": 1}))],
            t0(),
        )
        .await
        .expect("a retry");
    assert!(again[0].created);
    assert_eq!((again[1].id, again[1].created), (first[0].id, false));
}

/// Checks that identity dedupes within a batch and across calls.
pub async fn identity_dedupes_within_a_batch_and_across_calls(store: Arc<dyn Store>) {
    let template_id = template(&*store).await;
    let single = layout(&["only"], &[]);
    let mut first = new_task(template_id, &single);
    first.identity_hash = Some("same".into());
    first.idempotency_key = Some("key-1".into());
    let mut duplicate = new_task(template_id, &single);
    duplicate.identity_hash = Some("same".into());
    let unique = new_task(template_id, &single);

    let created = store
        .create_tasks(&[first.clone(), duplicate, unique], t0())
        .await
        .expect("create");
    assert!(created[0].created && !created[1].created && created[2].created);
    assert_eq!(created[0].id, created[1].id);
    assert_ne!(created[0].id, created[2].id);

    let again = store
        .create_tasks(&[first], t0())
        .await
        .expect("create again");
    assert_eq!((again[0].id, again[0].created), (created[0].id, false));
    let task = store
        .task(created[0].id)
        .await
        .expect("task")
        .expect("exists");
    assert_eq!(task.identity_hash.as_deref(), Some("same"));
    assert_eq!(task.idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(
        store
            .steps_of_task(created[0].id)
            .await
            .expect("steps")
            .len(),
        1
    );
    assert_eq!(counts(&*store).await, vec![(State::Pending, 2)]);
}

/// Checks that list tasks is newest first with filters.
pub async fn list_tasks_is_newest_first_with_filters(store: Arc<dyn Store>) {
    let single = layout(&["only"], &[]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&*store, &single, t0()).await);
    }
    store.cancel_task(ids[1], t0(), None).await.expect("cancel");
    let all = |filter: TaskFilter| {
        let store = Arc::clone(&store);
        async move {
            store
                .list_tasks(&filter)
                .await
                .expect("list")
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        all(TaskFilter {
            limit: 10,
            ..Default::default()
        })
        .await,
        vec![ids[2], ids[1], ids[0]]
    );
    assert_eq!(
        all(TaskFilter {
            limit: 2,
            ..Default::default()
        })
        .await,
        vec![ids[2], ids[1]]
    );
    assert_eq!(
        all(TaskFilter {
            limit: 10,
            before_id: Some(ids[2]),
            ..Default::default()
        })
        .await,
        vec![ids[1], ids[0]]
    );
    assert_eq!(
        all(TaskFilter {
            limit: 10,
            state: Some(State::Cancelled),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        all(TaskFilter {
            limit: 10,
            namespace: Some("conformance".into()),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        all(TaskFilter {
            limit: 10,
            namespace: Some("elsewhere".into()),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        counts(&*store).await,
        vec![(State::Pending, 2), (State::Cancelled, 1)]
    );
}

/// Counts by state in `State` order (the trait leaves the order open).
async fn counts(store: &dyn Store) -> Vec<(State, i64)> {
    let mut counts = store.count_tasks_by_state().await.expect("count");
    counts.sort();
    counts
}

/// Issue 11: a list carries no contexts (a row stands for its task; `task` has the context).
pub async fn list_rows_carry_no_context(store: Arc<dyn Store>) {
    let id = create(&*store, &layout(&["only"], &[]), t0()).await;
    store.cancel_task(id, t0(), None).await.expect("cancel");
    for state in [None, Some(State::Cancelled)] {
        let listed = store
            .list_tasks(&TaskFilter {
                limit: 10,
                state,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, id);
        assert_eq!(listed[0].context, serde_json::Value::Null, "{state:?}");
    }
    let task = store.task(id).await.expect("task").expect("exists");
    assert_eq!(task.context, json!({"order": 42}));
}
