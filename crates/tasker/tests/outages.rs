//! The orchestrator rides out a database that fails: outages are retried with backoff, and an
//! outcome the store keeps refusing (even as a failure that says why) is given up, its lease
//! left to expire and be rescued.

mod common;

use common::chaos::{ChaosPlan, ChaosStore};
use common::workloads::yaml;
use common::{TestDb, run_until_idle, step};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tasker::{CreateTask, Engine, EngineConfig, HandlerRegistry, OrchestratorConfig, State};

async fn outages_are_retried_and_nothing_is_lost(db: TestDb) {
    let faulty = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            claims_unavailable: 3,
            completions_unavailable: 3,
            ..ChaosPlan::calm()
        },
        1,
    ));
    let engine = Engine::new(
        faulty,
        HandlerRegistry::with_builtins(),
        EngineConfig::default(),
    );
    engine
        .register_template_yaml(&yaml("diamond"))
        .await
        .unwrap();
    let requests = (0..10)
        .map(|_| CreateTask::new("examples/diamond".parse().unwrap(), json!({})))
        .collect();
    let created = engine.create_tasks(requests).await.unwrap();
    let stats = run_until_idle(&engine, "outage").await;
    assert_eq!(stats.steps_claimed, 40);
    assert_eq!(stats.steps_succeeded, 40);
    assert_eq!(stats.tasks_completed, 10);
    assert_eq!(
        stats.steps_failed + stats.fenced_out + stats.leases_recovered,
        0
    );
    for task in created {
        assert_eq!(common::state_of(&engine, task.id).await, State::Complete);
    }
}

async fn a_refused_outcome_is_rescued_after_its_lease_expires(db: TestDb) {
    let faulty = Arc::new(ChaosStore::new(db.store.clone(), ChaosPlan::calm(), 1));
    let engine = Engine::new(
        faulty.clone(),
        HandlerRegistry::with_builtins(),
        common::config(true, None),
    );
    engine
        .register_template_yaml(&yaml("diamond"))
        .await
        .unwrap();
    let task = engine
        .create_task(CreateTask::new(
            "examples/diamond".parse().unwrap(),
            json!({}),
        ))
        .await
        .unwrap()
        .id;
    let refused = step(&engine, task, "branch_b").await;
    faulty.set_plan(ChaosPlan {
        refused_attempt: Some((refused.id, 1)),
        ..ChaosPlan::calm()
    });
    let stats = tokio::time::timeout(
        Duration::from_secs(30),
        engine
            .orchestrator(OrchestratorConfig {
                lease_duration: Duration::from_millis(1_000),
                ..common::until_idle("refused")
            })
            .run(),
    )
    .await
    .expect("the orchestrator becomes idle")
    .unwrap();
    assert_eq!(common::state_of(&engine, task).await, State::Complete);
    // Attempt 1's success could not be written; once its lease expired the rescuer recorded
    // it as a failed attempt, and attempt 2 ran and was written.
    let branch = step(&engine, task, "branch_b").await;
    assert_eq!((branch.state, branch.attempts), (State::Complete, 2));
    assert_eq!(stats.leases_recovered, 1);
    assert_eq!(stats.steps_succeeded, 4);
    assert_eq!(stats.tasks_completed, 1);
}

on_every_backend!(
    outages_are_retried_and_nothing_is_lost,
    a_refused_outcome_is_rescued_after_its_lease_expires,
);
