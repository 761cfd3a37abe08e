//! The retry rules as README states them: a handler's retry-after wins over the backoff's cap
//! (up to its own ceiling), and after `task retry` the backoff starts again from the first
//! failure.

mod common;

use common::{TestDb, run_until_idle, step};
use serde_json::{Value, json};
use std::time::Duration;
use tasker::{CreateTask, Engine, OrchestratorConfig, State};

async fn create(engine: &Engine, yaml: &str) -> i64 {
    let (template, _) = engine.register_template_yaml(yaml).await.unwrap();
    let reference = format!("{}/{}", template.namespace, template.name);
    engine
        .create_task(CreateTask::new(reference.parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id
}

/// The metadata of the step's transitions to `error`, in order.
async fn failures(engine: &Engine, task: i64, name: &str) -> Vec<Value> {
    engine
        .store()
        .step_transitions_of_task(task)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.step_name.as_deref() == Some(name) && t.to_state == State::Error)
        .map(|t| t.metadata)
        .collect()
}

async fn after_task_retry_the_backoff_starts_again_from_the_first_failure(db: TestDb) {
    let engine = db.engine();
    let task = create(
        &engine,
        r#"
namespace: t
name: stubborn
version: 1.0.0
steps:
  - name: stubborn
    handler: fail
    config: { times: 100 }
    retry: { max_attempts: 2, base_ms: 20, multiplier: 4, max_ms: 10000, jitter: false }
"#,
    )
    .await;
    run_until_idle(&engine, "first-set").await;
    assert_eq!(common::state_of(&engine, task).await, State::Error);
    engine.retry_task(task).await.unwrap();
    run_until_idle(&engine, "second-set").await;
    let stubborn = step(&engine, task, "stubborn").await;
    assert_eq!((stubborn.attempts, stubborn.max_attempts), (4, 4));
    let waits: Vec<Value> = failures(&engine, task, "stubborn")
        .await
        .into_iter()
        .map(|m| m["backoff_ms"].clone())
        .collect();
    // Attempts 1 and 3 are the first of their sets: both wait the base; 2 and 4 fail for good.
    assert_eq!(waits, vec![json!(20), Value::Null, json!(20), Value::Null]);
}

async fn a_retry_after_longer_than_the_backoff_cap_is_honoured(db: TestDb) {
    let engine = db.engine();
    let task = create(
        &engine,
        r#"
namespace: t
name: throttled
version: 1.0.0
steps:
  - name: throttled
    handler: fail
    config: { times: 1, retry_after_ms: 60000 }
    retry: { max_attempts: 3, base_ms: 100, max_ms: 1000 }
"#,
    )
    .await;
    let handle = engine
        .orchestrator(OrchestratorConfig {
            owner: "throttled".into(),
            poll_interval: Duration::from_millis(50),
            ..OrchestratorConfig::default()
        })
        .spawn();
    let mut failed = Vec::new();
    for _ in 0..500 {
        failed = failures(&engine, task, "throttled").await;
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown().await.unwrap();
    assert_eq!(failed.len(), 1, "the step never failed");
    assert_eq!(failed[0]["backoff_ms"], json!(60_000), "{failed:?}");
    let throttled = step(&engine, task, "throttled").await;
    assert_eq!(throttled.state, State::Error);
    assert_eq!(throttled.backoff_request_seconds, Some(60));
    let (ready, failed_at) = (
        throttled.ready_at.unwrap(),
        throttled.last_failure_at.unwrap(),
    );
    // Due about a minute after the failure, not at the backoff's 1 s cap.
    assert!(
        ready - failed_at > chrono::Duration::seconds(30),
        "{ready} {failed_at}"
    );
}

on_every_backend!(
    after_task_retry_the_backoff_starts_again_from_the_first_failure,
    a_retry_after_longer_than_the_backoff_cap_is_honoured,
);
