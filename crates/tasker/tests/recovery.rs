//! A "killed" orchestrator: its lease expires, another orchestrator recovers the step as a
//! failed attempt and finishes the task, and the dead one's late completion is fenced.

mod common;

use common::{TestDb, config, eventually, step};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tasker::store::{OutcomeKind, StepOutcome};
use tasker::{CreateTask, HandlerRegistry, OrchestratorConfig, State, StepContext, StepResult};

fn handlers() -> HandlerRegistry {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register("hangs_first", |ctx: StepContext| async move {
        if ctx.attempt == 1 {
            std::future::pending::<()>().await;
        }
        StepResult::Ok(json!({"attempt": ctx.attempt}))
    });
    handlers
}

const TEMPLATE: &str = r#"
namespace: t
name: survivor
version: 1.0.0
steps:
  - name: stuck
    handler: hangs_first
  - name: after
    handler: noop
    depends_on: [stuck]
"#;

async fn a_dead_orchestrators_step_is_recovered_by_another(db: TestDb) {
    let clock = common::manual_clock();
    // Two engines on one database: two processes.
    let engine_a = db.engine_with(handlers(), config(true, Some(Arc::new(clock.clone()))));
    let engine_b = db.engine_with(handlers(), config(true, Some(Arc::new(clock.clone()))));
    engine_a.register_template_yaml(TEMPLATE).await.unwrap();
    let task = engine_a
        .create_task(CreateTask::new("t/survivor".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;

    let a = engine_a
        .orchestrator(OrchestratorConfig {
            owner: "a".into(),
            lease_duration: Duration::from_secs(2),
            poll_interval: Duration::from_millis(50),
            ..OrchestratorConfig::default()
        })
        .spawn();
    eventually("a to claim the step", || {
        let engine = engine_a.clone();
        async move { step(&engine, task, "stuck").await.state == State::InProgress }
    })
    .await;
    // Death: no shutdown, no release, no more heartbeats.
    let a_stats = a.abort().await;
    assert_eq!(a_stats.steps_claimed, 1);
    let held = step(&engine_a, task, "stuck").await;
    assert_eq!(held.lease_owner.as_deref(), Some("a"));

    clock.advance(Duration::from_secs(3));
    let b_stats = tokio::time::timeout(
        Duration::from_secs(30),
        engine_b
            .orchestrator(OrchestratorConfig {
                lease_duration: Duration::from_secs(2),
                ..common::until_idle("b")
            })
            .run(),
    )
    .await
    .expect("b finishes")
    .unwrap();

    assert_eq!(common::state_of(&engine_b, task).await, State::Complete);
    assert_eq!(b_stats.leases_recovered, 1);
    assert_eq!(b_stats.steps_succeeded, 2);
    let stuck = step(&engine_b, task, "stuck").await;
    assert_eq!(stuck.attempts, 2);
    assert_eq!(stuck.results, Some(json!({"attempt": 2})));
    let errors: Vec<serde_json::Value> = engine_b
        .store()
        .step_transitions_of_task(task)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.step_name.as_deref() == Some("stuck") && t.to_state == State::Error)
        .map(|t| t.metadata)
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["failure"], "lease_expired");
    assert_eq!(errors[0]["error"], "lease expired (owner a)", "{errors:?}");
    // The rescuer's failure is on the record too, kept after the retry succeeded.
    let last_error = stuck.last_error.as_ref().expect("last error");
    assert_eq!(
        (
            last_error.message.as_str(),
            last_error.kind.as_str(),
            last_error.attempt
        ),
        ("lease expired (owner a)", "lease_expired", 1)
    );

    // A's handler finishing late cannot overwrite anything.
    let late = StepOutcome {
        step_id: stuck.id,
        task_id: task,
        owner: "a".into(),
        attempt: 1,
        lease_expired: false,
        result: OutcomeKind::Succeeded {
            result: json!({"late": true}),
        },
    };
    let results = engine_a
        .store()
        .complete_steps(&[late], tasker::Clock::now(&clock))
        .await
        .unwrap();
    assert!(!results[0].applied);
    assert_eq!(
        step(&engine_b, task, "stuck").await.results,
        Some(json!({"attempt": 2}))
    );
}

/// A graceful shutdown gives the lease back at once: the step is runnable again, and the
/// interrupted attempt is not counted.
async fn shutdown_releases_the_leases_of_unfinished_handlers(db: TestDb) {
    let engine = db.engine_with(handlers(), config(true, None));
    engine.register_template_yaml(TEMPLATE).await.unwrap();
    let task = engine
        .create_task(CreateTask::new("t/survivor".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;
    let running = engine
        .orchestrator(OrchestratorConfig {
            owner: "leaving".into(),
            lease_duration: Duration::from_millis(300),
            ..OrchestratorConfig::default()
        })
        .spawn();
    eventually("the step to start", || {
        let engine = engine.clone();
        async move { step(&engine, task, "stuck").await.state == State::InProgress }
    })
    .await;
    let stats = running.shutdown().await.unwrap();
    assert_eq!(stats.steps_claimed, 1);
    let stuck = step(&engine, task, "stuck").await;
    assert_eq!((stuck.state, stuck.attempts), (State::Pending, 0));
    assert_eq!(stuck.lease_owner, None);
}

on_every_backend!(
    a_dead_orchestrators_step_is_recovered_by_another,
    shutdown_releases_the_leases_of_unfinished_handlers,
);
