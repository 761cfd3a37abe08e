//! Failed attempts: retries with backoff, permanent failures, panics and timeouts.

mod common;

use common::{TestDb, assert_parents_finished_first, config, run_until_idle, step};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tasker::{CreateTask, HandlerRegistry, State, StepContext, StepResult};

async fn create(engine: &tasker::Engine, yaml: &str) -> i64 {
    let (template, _) = engine.register_template_yaml(yaml).await.unwrap();
    let reference = format!("{}/{}", template.namespace, template.name);
    engine
        .create_task(CreateTask::new(reference.parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id
}

/// The step's transitions, as (to state, metadata).
async fn transitions(
    engine: &tasker::Engine,
    task: i64,
    name: &str,
) -> Vec<(State, serde_json::Value)> {
    engine
        .store()
        .step_transitions_of_task(task)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.step_name.as_deref() == Some(name))
        .map(|t| (t.to_state, t.metadata))
        .collect()
}

async fn a_flaky_step_retries_after_its_backoff_and_recovers(db: TestDb) {
    let engine = db.engine();
    let task = create(
        &engine,
        r#"
namespace: t
name: flaky
version: 1.0.0
steps:
  - name: flaky
    handler: fail
    config: { times: 2 }
    retry: { max_attempts: 3, base_ms: 40, max_ms: 200, jitter: false }
  - name: after
    handler: noop
    depends_on: [flaky]
"#,
    )
    .await;
    let stats = run_until_idle(&engine, "flaky").await;
    assert_eq!(common::state_of(&engine, task).await, State::Complete);
    let flaky = step(&engine, task, "flaky").await;
    assert_eq!(flaky.attempts, 3);
    // The retries succeeded, yet the record keeps what failed last.
    let last_error = flaky.last_error.as_ref().expect("last error");
    assert_eq!(
        (last_error.attempt, last_error.kind.as_str()),
        (2, "handler")
    );
    assert!(!last_error.message.is_empty());
    assert_eq!(flaky.results, Some(json!({"failed_attempts": 2})));
    assert_eq!((stats.steps_failed, stats.retries_scheduled), (2, 2));
    assert_eq!(stats.steps_succeeded, 2);
    let errors: Vec<serde_json::Value> = transitions(&engine, task, "flaky")
        .await
        .into_iter()
        .filter(|(to, _)| *to == State::Error)
        .map(|(_, metadata)| metadata)
        .collect();
    assert_eq!(errors.len(), 2);
    // Exponential without jitter: 40 ms after the first failure, 80 ms after the second.
    assert_eq!(errors[0]["backoff_ms"], 40, "{errors:?}");
    assert_eq!(errors[1]["backoff_ms"], 80, "{errors:?}");
    assert_parents_finished_first(&engine, task).await;
}

async fn a_permanent_failure_blocks_dependents_while_a_running_sibling_finishes(db: TestDb) {
    let engine = db.engine();
    let task = create(
        &engine,
        r#"
namespace: t
name: blocked
version: 1.0.0
steps:
  - name: doomed
    handler: fail
    config: { permanent: true }
  - name: slow_sibling
    handler: sleep
    config: { ms: 300 }
  - name: dependent
    handler: noop
    depends_on: [doomed]
"#,
    )
    .await;
    let mut events = engine.subscribe();
    let stats = run_until_idle(&engine, "blocked").await;
    let details = engine.task_details(task).await.unwrap();
    assert_eq!(details.task.state, State::Error);
    let states: Vec<(String, State, i32)> = details
        .steps
        .iter()
        .map(|s| (s.name.clone(), s.state, s.attempts))
        .collect();
    assert_eq!(
        states,
        vec![
            ("doomed".into(), State::Error, 1),
            ("slow_sibling".into(), State::Complete, 1),
            ("dependent".into(), State::Pending, 0),
        ]
    );
    assert!(
        transitions(&engine, task, "dependent")
            .await
            .iter()
            .all(|(to, _)| *to == State::Pending),
        "the dependent must never start"
    );
    assert_eq!(
        details.explanations,
        vec![
            "failed permanently after 1 attempt: failing permanently as configured (attempt 1)",
            "complete",
            "blocked: another step of the task failed",
        ]
    );
    let doomed = details.steps[0].last_error.as_ref().expect("last error");
    assert_eq!(
        (
            doomed.message.as_str(),
            doomed.kind.as_str(),
            doomed.attempt
        ),
        (
            "failing permanently as configured (attempt 1)",
            "permanent",
            1
        )
    );
    assert_eq!(Some(doomed.at), details.steps[0].last_failure_at);
    assert_eq!(details.steps[1].last_error, None);
    assert_eq!(stats.tasks_failed, 1);
    assert_eq!(stats.retries_scheduled, 0);
    // The events tell the same story, in order: the failure, the sibling, then the task.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        match event {
            tasker::Event::StepFailed {
                name, permanent, ..
            } => seen.push(format!("{name} failed permanent={permanent}")),
            tasker::Event::StepCompleted { name, .. } => seen.push(format!("{name} completed")),
            tasker::Event::TaskFailed { .. } => seen.push("task failed".into()),
            _ => {}
        }
    }
    assert_eq!(
        seen,
        vec![
            "doomed failed permanent=true",
            "slow_sibling completed",
            "task failed"
        ]
    );
}

async fn panics_and_timeouts_are_failed_attempts_and_the_orchestrator_goes_on(db: TestDb) {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register("panics_once", |ctx: StepContext| async move {
        if ctx.attempt == 1 {
            panic!("boom on attempt 1");
        }
        StepResult::Ok(json!({"attempt": ctx.attempt}))
    });
    handlers.register("hangs_once", |ctx: StepContext| async move {
        if ctx.attempt == 1 {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        StepResult::Ok(json!({"attempt": ctx.attempt}))
    });
    let engine = db.engine_with(handlers, config(true, None));
    let task = create(
        &engine,
        r#"
namespace: t
name: crashy
version: 1.0.0
steps:
  - name: panicky
    handler: panics_once
  - name: slow
    handler: hangs_once
    timeout_ms: 200
  - name: fine
    handler: noop
  - name: last
    handler: noop
    depends_on: [panicky, slow, fine]
"#,
    )
    .await;
    let stats = run_until_idle(&engine, "crashy").await;
    assert_eq!(common::state_of(&engine, task).await, State::Complete);
    for name in ["panicky", "slow"] {
        let s = step(&engine, task, name).await;
        assert_eq!((s.state, s.attempts), (State::Complete, 2), "{name}");
        assert_eq!(s.results, Some(json!({"attempt": 2})));
    }
    let mut failures = Vec::new();
    for name in ["panicky", "slow"] {
        let kinds: Vec<serde_json::Value> = transitions(&engine, task, name)
            .await
            .into_iter()
            .filter(|(to, _)| *to == State::Error)
            .map(|(_, m)| m["failure"].clone())
            .collect();
        failures.push(kinds);
    }
    assert_eq!(failures, vec![vec![json!("panic")], vec![json!("timeout")]]);
    assert_eq!(stats.steps_failed, 2);
    assert_eq!(stats.steps_succeeded, 4);
}

async fn with_backoff_disabled_retries_need_no_clock(db: TestDb) {
    let clock = common::manual_clock();
    let start = tasker::Clock::now(&clock);
    let engine = db.engine_with(
        HandlerRegistry::with_builtins(),
        config(true, Some(Arc::new(clock.clone()))),
    );
    let task = create(
        &engine,
        r#"
namespace: t
name: nowait
version: 1.0.0
defaults:
  retry: { max_attempts: 4, base_ms: 60000, max_ms: 60000 }
steps:
  - name: flaky
    handler: fail
    config: { times: 3 }
"#,
    )
    .await;
    let stats = run_until_idle(&engine, "nowait").await;
    assert_eq!(common::state_of(&engine, task).await, State::Complete);
    assert_eq!(step(&engine, task, "flaky").await.attempts, 4);
    assert_eq!(stats.retries_scheduled, 3);
    // The clock never moved: every retry was due at once.
    assert_eq!(tasker::Clock::now(&clock), start);
}

on_every_backend!(
    a_flaky_step_retries_after_its_backoff_and_recovers,
    a_permanent_failure_blocks_dependents_while_a_running_sibling_finishes,
    panics_and_timeouts_are_failed_attempts_and_the_orchestrator_goes_on,
    with_backoff_disabled_retries_need_no_clock,
);
