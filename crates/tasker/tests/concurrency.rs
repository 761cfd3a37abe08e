//! Several orchestrators on one database, long handlers under short leases, external programs.

mod common;

use common::workloads::yaml;
use common::{TestDb, assert_parents_finished_first, step};
use serde_json::json;
use std::time::Duration;
use tasker::{CreateTask, OrchestratorConfig, State};

/// Two orchestrators (two engines: two processes) share the work; no step runs twice.
async fn two_orchestrators_share_the_work_without_overlap(db: TestDb) {
    let first = db.engine();
    let second = db.engine();
    first
        .register_template_yaml(&yaml("diamond"))
        .await
        .unwrap();
    let requests = (0..40)
        .map(|_| CreateTask::new("examples/diamond".parse().unwrap(), json!({})))
        .collect();
    let tasks = first.create_tasks(requests).await.unwrap();
    let config = |owner: &str| OrchestratorConfig {
        claim_batch: 8,
        concurrency: 8,
        ..common::until_idle(owner)
    };
    let (a, b) = tokio::join!(
        first.orchestrator(config("first")).run(),
        second.orchestrator(config("second")).run(),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.steps_claimed + b.steps_claimed, 160);
    assert_eq!(a.steps_succeeded + b.steps_succeeded, 160);
    assert_eq!(a.tasks_completed + b.tasks_completed, 40);
    assert_eq!(
        a.fenced_out + b.fenced_out + a.steps_failed + b.steps_failed,
        0
    );
    for task in tasks {
        let details = first.task_details(task.id).await.unwrap();
        assert_eq!(details.task.state, State::Complete);
        assert!(details.steps.iter().all(|s| s.attempts == 1));
        assert_parents_finished_first(&first, task.id).await;
    }
}

/// The heartbeat keeps the lease of a handler that runs longer than one lease (here three
/// leases and more; a lease long enough that a loaded test machine renews it in time, since
/// an attempt whose lease is not renewed within 5/6 of a lease is stopped).
async fn a_long_handler_keeps_its_lease(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(
            "namespace: t\nname: long\nversion: 1.0.0\nsteps:\n  - name: slow\n    handler: sleep\n    config: { ms: 3000 }\n",
        )
        .await
        .unwrap();
    let task = engine
        .create_task(CreateTask::new("t/long".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;
    let stats = engine
        .orchestrator(OrchestratorConfig {
            lease_duration: Duration::from_millis(900),
            ..common::until_idle("patient")
        })
        .run()
        .await
        .unwrap();
    let slow = step(&engine, task, "slow").await;
    assert_eq!((slow.state, slow.attempts), (State::Complete, 1));
    assert_eq!(slow.results, Some(json!({"slept_ms": 3000})));
    assert_eq!((stats.leases_recovered, stats.fenced_out), (0, 0));
}

/// The `command` handler runs a program with the step input on stdin; its stdout is the
/// result, and parents' results reach it.
async fn the_command_handler_runs_programs(db: TestDb) {
    let engine = db.engine();
    let yaml = r#"
namespace: t
name: shell
version: 1.0.0
steps:
  - name: produce
    handler: command
    config: { program: sh, args: ["-c", "echo '{\"n\": 41}'"] }
  - name: consume
    handler: command
    depends_on: [produce]
    config: { program: cat }
"#;
    engine.register_template_yaml(yaml).await.unwrap();
    let task = engine
        .create_task(CreateTask::new(
            "t/shell".parse().unwrap(),
            json!({"who": "me"}),
        ))
        .await
        .unwrap()
        .id;
    common::run_until_idle(&engine, "shell").await;
    assert_eq!(common::state_of(&engine, task).await, State::Complete);
    let echoed = step(&engine, task, "consume").await.results.unwrap();
    assert_eq!(echoed["parents"], json!({"produce": {"n": 41}}));
    assert_eq!(echoed["context"], json!({"who": "me"}));
    assert_eq!(echoed["step"], "consume");
    assert_eq!(echoed["attempt"], 1);
}

on_every_backend!(
    two_orchestrators_share_the_work_without_overlap,
    a_long_handler_keeps_its_lease,
    the_command_handler_runs_programs,
);
