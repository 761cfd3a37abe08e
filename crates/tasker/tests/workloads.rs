//! The bundled workloads, and the rules of task creation, on every backend.

mod common;

use common::workloads::{examples, order, yaml};
use common::{TestDb, assert_parents_finished_first, run_until_idle};
use serde_json::json;
use std::time::Duration;
use tasker::{CreateTask, Error, OrchestratorConfig, State, TemplateRef};

async fn example_workloads_run_to_completion(db: TestDb) {
    let engine = db.engine();
    let mut tasks = Vec::new();
    for (stem, reference, context) in examples() {
        let (template, registered) = engine.register_template_yaml(&yaml(stem)).await.unwrap();
        assert!(registered.created, "{stem}");
        assert_eq!(template.key(), format!("{reference}@1.0.0"));
        let reference: TemplateRef = reference.parse().unwrap();
        for _ in 0..3 {
            // Strict identity (order_fulfillment) needs a different context per task.
            let context = if stem == "order_fulfillment" {
                order(tasks.len() as i64 + 1)
            } else {
                context.clone()
            };
            let created = engine
                .create_task(CreateTask::new(reference.clone(), context))
                .await
                .unwrap();
            assert!(created.created);
            tasks.push((stem, created.id, template.steps.len()));
        }
    }
    let stats = run_until_idle(&engine, "workloads").await;
    let total_steps: usize = tasks.iter().map(|t| t.2).sum();
    assert_eq!(stats.steps_claimed as usize, total_steps);
    assert_eq!(stats.steps_succeeded as usize, total_steps);
    assert_eq!(stats.tasks_completed as usize, tasks.len());
    assert_eq!(
        stats.steps_failed + stats.fenced_out + stats.leases_recovered,
        0
    );
    for (stem, id, steps) in tasks {
        let details = engine.task_details(id).await.unwrap();
        assert_eq!(details.task.state, State::Complete, "{stem}");
        assert_eq!(details.task.steps_remaining, 0, "{stem}");
        assert_eq!(details.steps.len(), steps);
        assert!(
            details
                .steps
                .iter()
                .all(|s| s.state == State::Complete && s.attempts == 1)
        );
        assert!(
            details.explanations.iter().all(|e| e == "complete"),
            "{:?}",
            details.explanations
        );
        assert_parents_finished_first(&engine, id).await;
        let history = engine.task_history(id).await.unwrap();
        let task_states: Vec<State> = history
            .iter()
            .filter(|h| h.subject == tasker::HistorySubject::Task)
            .map(|h| h.to)
            .collect();
        assert_eq!(
            task_states,
            vec![State::Pending, State::InProgress, State::Complete]
        );
    }
    assert_eq!(
        engine.count_tasks_by_state().await.unwrap(),
        vec![(State::Complete, 15)]
    );
}

/// In-process wake-ups, not polling, move a task along: with a poll interval of an hour, a
/// linear 4-step task can only finish within the wait's limit if every step was woken.
async fn a_linear_task_finishes_without_waiting_for_polls(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&yaml("linear"))
        .await
        .unwrap();
    let orchestrator = engine
        .orchestrator(OrchestratorConfig {
            poll_interval: Duration::from_secs(3_600),
            ..OrchestratorConfig::default()
        })
        .spawn();
    // Let the claimer settle into its idle wait first, so that only a wake-up can start work.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let created = engine
        .create_task(CreateTask::new(
            "examples/linear".parse().unwrap(),
            json!({}),
        ))
        .await
        .unwrap();
    let task = engine
        .wait_for_task(created.id, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(task.state, State::Complete);
    let stats = orchestrator.shutdown().await.unwrap();
    assert_eq!(stats.steps_succeeded, 4);
    assert_eq!(stats.steps_claimed, 4);
    // Each completion claims the next step in its own transaction: only the first is claimed.
    assert_eq!(stats.steps_handed_off, 3);
}

async fn idempotent_creation_returns_the_existing_task(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&yaml("order_fulfillment"))
        .await
        .unwrap();
    engine
        .register_template_yaml(&yaml("linear"))
        .await
        .unwrap();
    let orders: TemplateRef = "ecommerce/order_fulfillment".parse().unwrap();

    // Strict identity: the same context (after defaults) is the same task.
    let first = engine
        .create_task(CreateTask::new(orders.clone(), order(7)))
        .await
        .unwrap();
    let mut with_default = order(7);
    with_default["shipping"] = json!("standard");
    let again = engine
        .create_task(CreateTask::new(orders.clone(), with_default))
        .await
        .unwrap();
    assert!(first.created);
    assert!(!again.created);
    assert_eq!(again.id, first.id);
    let other = engine
        .create_task(CreateTask::new(orders, order(8)))
        .await
        .unwrap();
    assert!(other.created);
    assert_ne!(other.id, first.id);

    // An idempotency key makes an always-unique template idempotent too.
    let linear: TemplateRef = "examples/linear".parse().unwrap();
    let keyed = |key: &str| CreateTask {
        idempotency_key: Some(key.to_owned()),
        traceparent: None,
        ..CreateTask::new(linear.clone(), json!({"n": 1}))
    };
    let a = engine.create_task(keyed("k1")).await.unwrap();
    let b = engine.create_task(keyed("k1")).await.unwrap();
    let c = engine.create_task(keyed("k2")).await.unwrap();
    assert!(a.created && !b.created && c.created);
    assert_eq!(a.id, b.id);
    assert_ne!(a.id, c.id);
    let unkeyed = engine
        .create_tasks(vec![
            CreateTask::new(linear.clone(), json!({})),
            CreateTask::new(linear, json!({})),
        ])
        .await
        .unwrap();
    assert!(unkeyed.iter().all(|t| t.created));
    assert_ne!(unkeyed[0].id, unkeyed[1].id);
    let total: i64 = engine
        .count_tasks_by_state()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, 6);
}

async fn an_invalid_context_is_rejected_and_nothing_is_written(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&yaml("order_fulfillment"))
        .await
        .unwrap();
    let orders: TemplateRef = "ecommerce/order_fulfillment".parse().unwrap();
    let bad = json!({"order_id": 0, "customer_email": "nobody", "items": []});
    // One bad request rejects the whole batch.
    let err = engine
        .create_tasks(vec![
            CreateTask::new(orders.clone(), order(1)),
            CreateTask::new(orders, bad),
        ])
        .await
        .unwrap_err();
    let Error::Context { template, errors } = err else {
        panic!("expected a context error, got {err:?}");
    };
    assert_eq!(template, "ecommerce/order_fulfillment@1.0.0");
    let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
    for expected in ["/order_id", "/customer_email", "/items"] {
        assert!(pointers.contains(&expected), "{pointers:?}");
    }
    assert!(engine.count_tasks_by_state().await.unwrap().is_empty());
    assert!(matches!(
        engine
            .create_task(CreateTask::new("ecommerce/nope".parse().unwrap(), json!({})))
            .await,
        Err(Error::TemplateNotFound(name)) if name == "ecommerce/nope"
    ));
}

async fn a_template_for_handlers_registered_elsewhere_registers(db: TestDb) {
    let engine = db.engine();
    let yaml = "namespace: t\nname: ship\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: noop\n  - name: b\n    handler: shipit\n  - name: c\n    handler: charge_card\n    queue: payments\n";
    let (_, registered) = engine.register_template_yaml(yaml).await.unwrap();
    assert!(registered.created);
    // A built-in handler's config is still checked (in-process steps only: a queue step's
    // config is its workers' business, whatever its handler is called).
    let bad = "namespace: t\nname: bad\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: sleep\n    config: {ms: -1}\n";
    let err = engine.register_template_yaml(bad).await.unwrap_err();
    let Error::Template(errors) = err else {
        panic!("expected a template error, got {err:?}");
    };
    assert_eq!(errors.0.len(), 1);
    assert!(
        errors.0[0].path.starts_with("steps[0].config"),
        "{errors:?}"
    );
    let queued = "namespace: t\nname: queued\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: sleep\n    queue: elsewhere\n    config: {ms: -1}\n";
    engine.register_template_yaml(queued).await.unwrap();
    assert_eq!(engine.list_templates().await.unwrap().len(), 2);
}

on_every_backend!(
    example_workloads_run_to_completion,
    a_linear_task_finishes_without_waiting_for_polls,
    idempotent_creation_returns_the_existing_task,
    an_invalid_context_is_rejected_and_nothing_is_written,
    a_template_for_handlers_registered_elsewhere_registers,
);
