//! Hostile input: sizes that are refused, and what lists leave out.

mod common;

use common::{TestDb, run_until_idle, step};
use serde_json::json;
use tasker::{CreateTask, EngineConfig, HandlerRegistry, State, TemplateRef};

const TEMPLATE: &str = r#"
namespace: t
name: sized
version: 1.0.0
steps:
  - name: echo
    handler: command
    config: { program: sh, args: ["-c", "printf '{\"text\": \"%s\"}' 0123456789012345678901234567890123456789"] }
"#;

async fn engine(db: &TestDb, config: EngineConfig) -> tasker::Engine {
    let engine = db.engine_with(HandlerRegistry::with_builtins(), config);
    engine.register_template_yaml(TEMPLATE).await.unwrap();
    engine
}

fn request(context: serde_json::Value) -> CreateTask {
    CreateTask::new(TemplateRef::new("t", "sized"), context)
}

/// Issue 11, defect 2: a context over the limit (1 MiB by default) is refused with its size
/// and the limit, and nothing of the batch it came in is written.
async fn an_oversized_context_is_refused_and_nothing_is_written(db: TestDb) {
    let engine = engine(&db, EngineConfig::default()).await;
    let big = json!({"text": "x".repeat(1024 * 1024)});
    let err = engine.create_task(request(big.clone())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "template t/sized@1.0.0: the task context is 1048587 bytes of JSON, more than the limit of 1048576 bytes"
    );
    let err = engine
        .create_tasks(vec![request(json!({"small": 1})), request(big)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1048587 bytes"), "{err}");
    let listed = engine.list_tasks(Default::default()).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");

    // The limit is a setting; at the limit exactly is fine.
    let engine = engine_with_limits(&db, 20, 1024 * 1024);
    let err = engine
        .create_task(request(json!({"text": "0123456789"})))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the task context is 21 bytes of JSON, more than the limit of 20 bytes"),
        "{err}"
    );
    let created = engine
        .create_task(request(json!({"text": "012345678"})))
        .await
        .unwrap();
    assert!(created.created);
}

fn engine_with_limits(db: &TestDb, context: usize, result: usize) -> tasker::Engine {
    db.engine_with(
        HandlerRegistry::with_builtins(),
        EngineConfig {
            max_context_bytes: context,
            max_result_bytes: result,
            ..EngineConfig::default()
        },
    )
}

/// Issue 11, defect 2: the result limit is the engine's `max_result_bytes`.
async fn a_result_over_the_configured_limit_fails_its_step(db: TestDb) {
    engine(&db, EngineConfig::default()).await;
    let engine = engine_with_limits(&db, 1024, 40);
    let task = engine.create_task(request(json!({}))).await.unwrap().id;
    run_until_idle(&engine, "results").await;
    assert_eq!(engine.task(task).await.unwrap().state, State::Error);
    let echo = step(&engine, task, "echo").await;
    assert_eq!((echo.state, echo.attempts), (State::Error, 1));
    let history = engine.store().step_transitions_of_task(task).await.unwrap();
    let failure = history.last().unwrap();
    assert_eq!(failure.metadata["failure"], "unstorable_outcome");
    let error = failure.metadata["error"].as_str().unwrap();
    assert!(error.contains("more than the limit of 40 bytes"), "{error}");
}

/// Issue 11, defect 9: an orchestrator for one task runs that task's steps and no other's,
/// and (until idle) stops when its task is done although other work is ready.
async fn an_orchestrator_for_one_task_leaves_the_others_alone(db: TestDb) {
    let engine = engine(&db, EngineConfig::default()).await;
    engine
        .register_template_yaml(
            "namespace: t\nname: chain\nversion: 1.0.0\nsteps:\n  - {name: a, handler: noop}\n  - {name: b, handler: noop, depends_on: [a]}\n",
        )
        .await
        .unwrap();
    let other = engine.create_task(request(json!({}))).await.unwrap().id;
    let mine = engine
        .create_task(CreateTask::new(TemplateRef::new("t", "chain"), json!({})))
        .await
        .unwrap()
        .id;
    let config = tasker::OrchestratorConfig {
        only_task: Some(mine),
        ..common::until_idle("one-task")
    };
    let stats = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        engine.orchestrator(config).run(),
    )
    .await
    .expect("the orchestrator did not stop once its task was done")
    .unwrap();
    assert_eq!(stats.steps_claimed, 2);
    assert_eq!(engine.task(mine).await.unwrap().state, State::Complete);
    assert_eq!(engine.task(other).await.unwrap().state, State::Pending);
    let echo = step(&engine, other, "echo").await;
    assert_eq!((echo.state, echo.attempts), (State::Pending, 0));
}

const FAN_OUT: &str = r#"
namespace: t
name: wide
version: 1.0.0
steps:
  - name: a
    handler: hold
  - name: b
    handler: hold
  - name: c
    handler: hold
"#;

/// Issue 11, defect 2: the steps of a task that run at the same time share one copy of its
/// context (a 10 MB context on a 200-wide fan-out used to cost 2-5 GB, a copy per step).
async fn running_steps_of_a_task_share_one_copy_of_its_context(db: TestDb) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let together = std::sync::Arc::new(tokio::sync::Barrier::new(3));
    let mut handlers = HandlerRegistry::with_builtins();
    let (record, barrier) = (seen.clone(), together.clone());
    handlers.register("hold", move |ctx: tasker::StepContext| {
        let (record, barrier) = (record.clone(), barrier.clone());
        async move {
            // All three run at once: each holds its context until the others have theirs.
            record
                .lock()
                .unwrap()
                .push(std::sync::Arc::as_ptr(&ctx.context) as usize);
            barrier.wait().await;
            Ok(json!({}))
        }
    });
    let engine = db.engine_with(handlers, EngineConfig::default());
    engine.register_template_yaml(FAN_OUT).await.unwrap();
    let big = "x".repeat(100_000);
    let task = engine
        .create_task(CreateTask::new(
            TemplateRef::new("t", "wide"),
            json!({ "big": big }),
        ))
        .await
        .unwrap()
        .id;
    run_until_idle(&engine, "shared").await;
    assert_eq!(engine.task(task).await.unwrap().state, State::Complete);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|&p| p == seen[0]),
        "each running step had its own copy: {seen:?}"
    );
}

on_every_backend!(
    running_steps_of_a_task_share_one_copy_of_its_context,
    an_orchestrator_for_one_task_leaves_the_others_alone,
    an_oversized_context_is_refused_and_nothing_is_written,
    a_result_over_the_configured_limit_fails_its_step,
);
