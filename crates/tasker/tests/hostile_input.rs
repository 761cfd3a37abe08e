//! Hostile input is refused the same way on every backend, before anything is written, with the
//! field it concerns: handler configs, NUL characters, idempotency keys, trace contexts.

mod common;

use common::TestDb;
use serde_json::json;
use tasker::{CreateTask, Error, TemplateRef};

const HEADER: &str = "namespace: hostile\nname: t\nversion: 1.0.0\n";

fn every_task() -> tasker::store::TaskFilter {
    tasker::store::TaskFilter {
        limit: 100,
        ..Default::default()
    }
}

fn template_errors(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
    match result {
        Err(Error::Template(errors)) => errors.0.iter().map(ToString::to_string).collect(),
        other => panic!("expected template errors, got {other:?}"),
    }
}

async fn builtin_configs_are_checked_at_registration(db: TestDb) {
    let engine = db.engine();
    let yaml = format!(
        "{HEADER}steps:\n\
         \x20 - {{name: a, handler: command, config: {{args: [x]}}}}\n\
         \x20 - {{name: b, handler: command, config: {{program: echo, args: \"x\"}}}}\n\
         \x20 - {{name: c, handler: command, config: {{program: echo, timeout_ms: -1}}}}\n\
         \x20 - {{name: d, handler: command, config: {{program: echo, timeout_ms: \"abc\"}}}}\n\
         \x20 - {{name: e, handler: command, config: {{program: echo, timeout_ms: 0}}}}\n\
         \x20 - {{name: f, handler: sleep, config: {{ms: -5}}}}\n\
         \x20 - {{name: g, handler: command, config: {{program: echo, args: [a], timeout_ms: 100}}}}\n"
    );
    let errors = template_errors(engine.register_template_yaml(&yaml).await);
    assert_eq!(
        errors,
        vec![
            "steps[0].config.program: is required (the program to run)",
            "steps[1].config.args: must be an array of strings, got \"x\"",
            "steps[2].config.timeout_ms: must be a whole number of milliseconds, got -1",
            "steps[3].config.timeout_ms: must be a whole number of milliseconds, got \"abc\"",
            "steps[4].config.timeout_ms: must be at least 1, got 0",
            "steps[5].config.ms: must be a whole number of milliseconds, got -5",
        ]
    );
    assert!(engine.list_templates().await.unwrap().is_empty());
}

async fn nul_characters_are_refused_before_any_write(db: TestDb) {
    let engine = db.engine();
    let yaml = format!(
        "{HEADER}description: \"fake\\0row\"\nsteps:\n  - {{name: a, handler: noop, config: {{k: \"v\\0\"}}}}\n"
    );
    let errors = template_errors(engine.register_template_yaml(&yaml).await);
    assert_eq!(
        errors,
        vec![
            "description: contains a NUL character (\\u0000)",
            "steps[0].config: contains a NUL character (\\u0000) at /k",
        ]
    );
    assert!(engine.list_templates().await.unwrap().is_empty());

    engine
        .register_template_yaml(&format!("{HEADER}steps:\n  - {{name: a, handler: noop}}\n"))
        .await
        .unwrap();
    let t: TemplateRef = "hostile/t".parse().unwrap();
    let err = engine
        .create_task(CreateTask::new(t.clone(), json!({"a": ["ok", "x\u{0}"]})))
        .await
        .unwrap_err();
    match &err {
        Error::Context { errors, .. } => {
            assert_eq!(errors.0[0].pointer, "/a/1");
            assert!(errors.0[0].message.contains("NUL character"), "{err}");
        }
        other => panic!("expected a context error, got {other:?}"),
    }
    let keyed = CreateTask {
        idempotency_key: Some("k\u{0}".into()),
        traceparent: None,
        ..CreateTask::new(t, json!({}))
    };
    let err = engine.create_task(keyed).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidIdempotencyKey(m) if m.contains("NUL character")),
        "{err:?}"
    );
    assert!(engine.list_tasks(every_task()).await.unwrap().is_empty());
}

async fn idempotency_keys_are_checked_and_reuse_with_another_context_conflicts(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&format!("{HEADER}steps:\n  - {{name: a, handler: noop}}\n"))
        .await
        .unwrap();
    let t: TemplateRef = "hostile/t".parse().unwrap();
    let keyed = |key: &str, context| CreateTask {
        idempotency_key: Some(key.to_owned()),
        traceparent: None,
        ..CreateTask::new(t.clone(), context)
    };
    let err = engine.create_task(keyed("", json!({}))).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidIdempotencyKey(m) if m.contains("must not be empty")),
        "{err:?}"
    );
    let err = engine
        .create_task(keyed(&"k".repeat(256), json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIdempotencyKey(_)), "{err:?}");

    let first = engine
        .create_task(keyed("order-1", json!({"amount": 10})))
        .await
        .unwrap();
    let again = engine
        .create_task(keyed("order-1", json!({"amount": 10})))
        .await
        .unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    let err = engine
        .create_task(keyed("order-1", json!({"amount": 11})))
        .await
        .unwrap_err();
    match err {
        Error::IdempotencyConflict { key, task } => {
            assert_eq!(key, "order-1");
            assert_eq!(task, first.id);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(engine.list_tasks(every_task()).await.unwrap().len(), 1);
}

async fn a_bad_traceparent_refuses_its_batch_before_any_write(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&format!("{HEADER}steps:\n  - {{name: a, handler: noop}}\n"))
        .await
        .unwrap();
    let t: TemplateRef = "hostile/t".parse().unwrap();
    let traced = |traceparent: &str| CreateTask {
        traceparent: Some(traceparent.to_owned()),
        ..CreateTask::new(t.clone(), json!({}))
    };
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let zeros = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    let err = engine
        .create_tasks(vec![traced(good), traced(zeros)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidTraceparent(m) if m == "traceparent trace id must not be all zeros"),
        "{err:?}"
    );
    let err = engine
        .create_task(traced(
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidTraceparent(m) if m.contains("trace id must be lowercase hex")),
        "{err:?}"
    );
    assert!(engine.list_tasks(every_task()).await.unwrap().is_empty());

    let created = engine.create_task(traced(good)).await.unwrap();
    let task = engine.task(created.id).await.unwrap();
    assert_eq!(task.traceparent.as_deref(), Some(good));
}

on_every_backend!(
    builtin_configs_are_checked_at_registration,
    nul_characters_are_refused_before_any_write,
    idempotency_keys_are_checked_and_reuse_with_another_context_conflicts,
    a_bad_traceparent_refuses_its_batch_before_any_write,
);
