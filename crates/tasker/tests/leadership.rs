//! The rescuer runs only in the elected process: an orchestrator that is not the leader leaves
//! expired leases alone, takes over as soon as the leadership is free, and gives it up when
//! it stops.

mod common;

use common::TestDb;
use common::workloads::yaml;
use serde_json::json;
use std::time::Duration;
use tasker::store::{ClaimFilter, ClaimRequest};
use tasker::{CreateTask, OrchestratorConfig, State};

async fn only_the_leader_rescues_and_leadership_moves_on_release(db: TestDb) {
    let engine = db.engine();
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
    // A "dead" process holds the first step under a lease that has already run out...
    let now = engine.clock().now();
    let claimed = db
        .store
        .claim_steps(&ClaimRequest {
            owner: "ghost".into(),
            limit: 1,
            now,
            lease_expires_at: now - chrono::Duration::seconds(1),
            only_task: None,
            filter: ClaimFilter::any_in_process(),
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // ...and another live process leads the rescue for the next minute.
    let minute = now + chrono::Duration::seconds(60);
    assert!(
        db.store
            .try_acquire_leadership("rescuer", "elsewhere", now, minute)
            .await
            .unwrap()
    );

    let orchestrator = engine
        .orchestrator(OrchestratorConfig {
            owner: "follower".into(),
            poll_interval: Duration::from_millis(20),
            rescue_interval: Duration::from_millis(20),
            ..OrchestratorConfig::default()
        })
        .spawn();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let start = common::step(&engine, task, "start").await;
    assert_eq!(start.state, State::InProgress, "not the leader: no rescue");
    assert_eq!(start.lease_owner.as_deref(), Some("ghost"));
    assert_eq!(orchestrator.stats().leases_recovered, 0);

    // The leader stops: the follower takes over at its next round and rescues.
    db.store
        .release_leadership("rescuer", "elsewhere")
        .await
        .unwrap();
    let done = engine
        .wait_for_task(task, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(done.state, State::Complete);
    assert_eq!(orchestrator.stats().leases_recovered, 1);
    assert!(
        !db.store
            .try_acquire_leadership("rescuer", "elsewhere", engine.clock().now(), minute)
            .await
            .unwrap(),
        "the follower leads now"
    );

    // Stopping gives the leadership up at once.
    orchestrator.shutdown().await.unwrap();
    assert!(
        db.store
            .try_acquire_leadership("rescuer", "elsewhere", engine.clock().now(), minute)
            .await
            .unwrap()
    );
}

on_every_backend!(only_the_leader_rescues_and_leadership_moves_on_release);
