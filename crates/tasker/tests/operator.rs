//! An operator drives stuck tasks to the end: cancel, retry, resolve.

mod common;

use common::{TestDb, step};
use serde_json::json;
use std::time::Duration;
use tasker::{CreateTask, Engine, Error, OrchestratorConfig, State, TaskId};

const WAIT: Option<Duration> = Some(Duration::from_secs(20));

async fn create(engine: &Engine, yaml: &str) -> TaskId {
    let (template, _) = engine.register_template_yaml(yaml).await.unwrap();
    let reference = format!("{}/{}", template.namespace, template.name);
    engine
        .create_task(CreateTask::new(reference.parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id
}

fn orchestrator(engine: &Engine) -> tasker::OrchestratorHandle {
    engine
        .orchestrator(OrchestratorConfig {
            owner: "operator-test".into(),
            poll_interval: Duration::from_millis(50),
            ..OrchestratorConfig::default()
        })
        .spawn()
}

/// One attempt only, so that the first failure is for good.
const ONE_SHOT: &str = r#"
namespace: t
name: one_shot
version: 1.0.0
steps:
  - name: once
    handler: fail
    config: { times: 1 }
    retry: { max_attempts: 1 }
  - name: after
    handler: noop
    depends_on: [once]
"#;

async fn retry_task_gives_failed_steps_new_attempts(db: TestDb) {
    let engine = db.engine();
    let running = orchestrator(&engine);
    let task = create(&engine, ONE_SHOT).await;
    let failed = engine.wait_for_task(task, WAIT).await.unwrap();
    assert_eq!(failed.state, State::Error);
    assert_eq!(failed.steps_failed, 1);
    assert!(matches!(engine.retry_task(task).await, Ok(t) if t.state == State::InProgress));
    let done = engine.wait_for_task(task, WAIT).await.unwrap();
    assert_eq!(done.state, State::Complete);
    let once = step(&engine, task, "once").await;
    assert_eq!((once.attempts, once.max_attempts), (2, 2));
    // Only a task in error can be retried.
    assert!(matches!(
        engine.retry_task(task).await,
        Err(Error::Store(tasker::store::Error::InvalidTransition { .. }))
    ));
    assert!(matches!(
        engine.retry_task(999_999).await,
        Err(Error::TaskNotFound(999_999))
    ));
    running.shutdown().await.unwrap();
}

async fn resolving_the_blocking_step_lets_the_task_finish(db: TestDb) {
    let engine = db.engine();
    let running = orchestrator(&engine);
    let task = create(&engine, ONE_SHOT).await;
    assert_eq!(
        engine.wait_for_task(task, WAIT).await.unwrap().state,
        State::Error
    );
    let once = step(&engine, task, "once").await;
    let resolved = engine.resolve_step(once.id).await.unwrap();
    assert_eq!(resolved.state, State::ResolvedManually);
    let done = engine.wait_for_task(task, WAIT).await.unwrap();
    assert_eq!(done.state, State::Complete);
    assert_eq!(step(&engine, task, "after").await.state, State::Complete);
    let details = engine.task_details(task).await.unwrap();
    assert_eq!(details.explanations, vec!["resolved manually", "complete"]);
    assert!(matches!(
        engine.resolve_step(999_999).await,
        Err(Error::StepNotFound(999_999))
    ));
    running.shutdown().await.unwrap();
}

async fn cancelling_stops_a_task_and_wait_returns(db: TestDb) {
    let engine = db.engine();
    // No orchestrator: the task waits, pending, until an operator acts.
    let task = create(
        &engine,
        "namespace: t\nname: idle\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: noop\n  - name: b\n    handler: noop\n    depends_on: [a]\n",
    )
    .await;
    let details = engine.task_details(task).await.unwrap();
    // No orchestrator has advertised `noop` either.
    assert_eq!(
        details.explanations,
        vec![
            r#"ready, but no worker has handler "noop""#,
            "waiting for a"
        ]
    );
    let waiter = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.wait_for_task(task, WAIT).await })
    };
    let cancelled = engine.cancel_task(task).await.unwrap();
    assert_eq!(cancelled.state, State::Cancelled);
    assert_eq!(waiter.await.unwrap().unwrap().state, State::Cancelled);
    let details = engine.task_details(task).await.unwrap();
    assert!(details.steps.iter().all(|s| s.state == State::Cancelled));
    assert_eq!(details.explanations, vec!["cancelled", "cancelled"]);
    assert!(matches!(
        engine.cancel_task(task).await,
        Err(Error::Store(_))
    ));
    assert!(matches!(
        engine.cancel_task(999_999).await,
        Err(Error::TaskNotFound(999_999))
    ));
    // Nothing of a cancelled task runs.
    let stats = common::run_until_idle(&engine, "after-cancel").await;
    assert_eq!(stats.steps_claimed, 0);
}

async fn waiting_times_out_on_a_task_nobody_runs(db: TestDb) {
    let engine = db.engine();
    let task = create(
        &engine,
        "namespace: t\nname: lonely\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: noop\n",
    )
    .await;
    let err = engine
        .wait_for_task(task, Some(Duration::from_millis(250)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

on_every_backend!(
    retry_task_gives_failed_steps_new_attempts,
    resolving_the_blocking_step_lets_the_task_finish,
    cancelling_stops_a_task_and_wait_returns,
    waiting_times_out_on_a_task_nobody_runs,
);
