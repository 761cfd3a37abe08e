//! Injected time drives retries; the event bus tells what happens; the builder sets it all up.

mod common;

use common::{TestDb, config, eventually, state_of, step};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tasker::time::Timelike;
use tasker::{
    CreateTask, Event, HandlerRegistry, OrchestratorConfig, State, StepContext, StepResult,
    TaskerBuilder,
};

/// With backoff on, a retry waits for the clock: nothing happens until the clock passes it.
async fn a_retry_waits_for_the_clock_to_reach_its_time(db: TestDb) {
    let clock = common::manual_clock();
    let engine = db.engine_with(
        HandlerRegistry::with_builtins(),
        config(false, Some(Arc::new(clock.clone()))),
    );
    engine
        .register_template_yaml(
            "namespace: t\nname: later\nversion: 1.0.0\nsteps:\n  - name: flaky\n    handler: fail\n    config: { times: 1 }\n    retry: { base_ms: 10000, jitter: false }\n",
        )
        .await
        .unwrap();
    let task = engine
        .create_task(CreateTask::new("t/later".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;
    let running = engine
        .orchestrator(OrchestratorConfig {
            poll_interval: Duration::from_millis(20),
            ..OrchestratorConfig::default()
        })
        .spawn();
    eventually("the first attempt to fail", || {
        let engine = engine.clone();
        async move { step(&engine, task, "flaky").await.state == State::Error }
    })
    .await;
    let failed = step(&engine, task, "flaky").await;
    let retry_at = failed.ready_at.expect("a retry is scheduled");
    assert_eq!(
        retry_at - tasker::Clock::now(&clock),
        chrono::Duration::seconds(10)
    );
    let details = engine.task_details(task).await.unwrap();
    assert!(
        details.explanations[0].starts_with("retrying at "),
        "{:?}",
        details.explanations
    );

    // Real time passes, the clock does not: no retry.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(step(&engine, task, "flaky").await.attempts, 1);

    clock.advance(Duration::from_secs(10));
    let done = engine
        .wait_for_task(task, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(done.state, State::Complete);
    assert_eq!(step(&engine, task, "flaky").await.attempts, 2);
    running.shutdown().await.unwrap();
}

async fn events_tell_the_story_of_a_task(db: TestDb) {
    let engine = db.engine();
    engine
        .register_template_yaml(&common::workloads::yaml("linear"))
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let task = engine
        .create_task(CreateTask::new(
            "examples/linear".parse().unwrap(),
            json!({}),
        ))
        .await
        .unwrap()
        .id;
    common::run_until_idle(&engine, "storyteller").await;
    let mut story = Vec::new();
    while let Ok(event) = events.try_recv() {
        assert_eq!(event.task_id(), task);
        story.push(match event {
            Event::TaskStarted { .. } => "task started".to_owned(),
            Event::TaskCompleted { .. } => "task completed".to_owned(),
            Event::StepStarted { name, attempt, .. } => format!("{name} started ({attempt})"),
            Event::StepCompleted { name, .. } => format!("{name} completed"),
            other => format!("unexpected {other:?}"),
        });
    }
    // The bus orders the events of one step, and puts the task's start first and its end last.
    // Events of different steps are published by different components after their commits, so
    // a child's start may be seen before its parent's completion (the history is the
    // authoritative order, checked by the workload tests).
    assert_eq!(story.len(), 10, "{story:?}");
    assert_eq!(
        story.first().map(String::as_str),
        Some("task started"),
        "{story:?}"
    );
    assert_eq!(
        story.last().map(String::as_str),
        Some("task completed"),
        "{story:?}"
    );
    let position = |label: &str| {
        let found: Vec<usize> = (0..story.len()).filter(|&i| story[i] == label).collect();
        assert_eq!(found.len(), 1, "{label} exactly once in {story:?}");
        found[0]
    };
    for n in 1..=4 {
        let started = position(&format!("step_{n} started (1)"));
        let completed = position(&format!("step_{n} completed"));
        assert!(started < completed, "step_{n} out of order in {story:?}");
        if n > 1 {
            // A step cannot start before its parent started.
            assert!(
                position(&format!("step_{} started (1)", n - 1)) < started,
                "{story:?}"
            );
        }
    }
}

/// Moving a `ManualClock` past a retry's time wakes the orchestrator: with a poll interval of a
/// minute, two retries run as soon as the clock reaches them. Without the wake-up the
/// orchestrator would sleep until its next poll (up to the 10 s backoff in real time) and the
/// bound below would fail the test.
async fn moving_the_clock_runs_a_due_retry_at_once(db: TestDb) {
    let clock = tasker::ManualClock::new(
        tasker::time::Utc::now()
            .with_nanosecond(0)
            .expect("a valid time"),
    );
    let engine = db.engine_with(
        HandlerRegistry::with_builtins(),
        config(false, Some(Arc::new(clock.clone()))),
    );
    engine
        .register_template_yaml(
            "namespace: t\nname: twice\nversion: 1.0.0\nsteps:\n  - name: flaky\n    handler: fail\n    config: { times: 2 }\n    retry: { max_attempts: 3, base_ms: 10000, jitter: false }\n",
        )
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let task = engine
        .create_task(CreateTask::new("t/twice".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id;
    let running = engine
        .orchestrator(OrchestratorConfig {
            poll_interval: Duration::from_secs(60),
            ..OrchestratorConfig::default()
        })
        .spawn();
    let retries = tokio::time::timeout(Duration::from_secs(5), async {
        let mut retries = 0;
        loop {
            match events.recv().await.unwrap() {
                Event::RetryScheduled { retry_at, .. } => {
                    retries += 1;
                    // Let the orchestrator go to sleep first: moving the clock before it looks
                    // again would not test the wake-up.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    clock.set(retry_at);
                }
                Event::TaskCompleted { .. } => return retries,
                _ => {}
            }
        }
    })
    .await
    .expect("the retries ran when the clock reached them, not at the next poll");
    assert_eq!(retries, 2);
    assert_eq!(state_of(&engine, task).await, State::Complete);
    assert_eq!(step(&engine, task, "flaky").await.attempts, 3);
    running.shutdown().await.unwrap();
}

/// `wait_for_tasks` returns every task once all are finished, in the order asked, whether
/// they completed or failed; a panicking handler's step fails with the panic's message.
async fn waiting_for_many_tasks_and_a_panicking_handler(db: TestDb) {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register_fn("explode", |_ctx| async move {
        if true {
            panic!("the flux capacitor broke");
        }
        Ok(json!(null))
    });
    let engine = db.engine_with(handlers, config(true, None));
    engine
        .register_template_yaml(
            "namespace: t\nname: many\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: noop\n",
        )
        .await
        .unwrap();
    engine
        .register_template_yaml(
            "namespace: t\nname: boom\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: explode\n    retry: { max_attempts: 1 }\n",
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let template = if n == 2 { "t/boom" } else { "t/many" };
        let created = engine
            .create_task(CreateTask::new(
                template.parse().unwrap(),
                json!({ "n": n }),
            ))
            .await
            .unwrap();
        ids.push(created.id);
    }
    // Nothing runs them yet: the wait gives up.
    let waited = engine
        .wait_for_tasks(&ids, Some(Duration::from_millis(50)))
        .await;
    assert!(
        matches!(waited, Err(tasker::Error::Timeout(ref text)) if text.starts_with("5 of 5 tasks")),
        "{waited:?}"
    );
    assert!(matches!(
        engine.wait_for_tasks(&[ids[0], 999_999], None).await,
        Err(tasker::Error::TaskNotFound(999_999))
    ));

    let mut events = engine.subscribe();
    let running = engine.orchestrator(OrchestratorConfig::default()).spawn();
    let asked: Vec<_> = ids.iter().rev().copied().collect();
    let tasks = engine
        .wait_for_tasks(&asked, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), asked);
    let states: Vec<State> = tasks.iter().rev().map(|t| t.state).collect();
    assert_eq!(
        states,
        [
            State::Complete,
            State::Complete,
            State::Error,
            State::Complete,
            State::Complete
        ]
    );
    let exploded = engine.task_details(ids[2]).await.unwrap();
    assert!(
        exploded
            .explanations
            .iter()
            .any(|line| line.contains("failed permanently")),
        "{:?}",
        exploded.explanations
    );
    let mut failures = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::StepFailed {
            task_id,
            error,
            permanent,
            ..
        } = event
        {
            failures.push((task_id, error, permanent));
        }
    }
    assert_eq!(
        failures,
        [(
            ids[2],
            "handler panicked: the flux capacitor broke".to_owned(),
            true
        )]
    );
    running.shutdown().await.unwrap();
}

on_every_backend!(
    a_retry_waits_for_the_clock_to_reach_its_time,
    events_tell_the_story_of_a_task,
    moving_the_clock_runs_a_due_retry_at_once,
    waiting_for_many_tasks_and_a_panicking_handler,
);

#[tokio::test]
async fn the_builder_migrates_registers_handlers_and_runs_them() {
    let path = std::env::temp_dir().join(format!(
        "tasker_builder_{}_{:08x}.db",
        std::process::id(),
        rand::random::<u32>()
    ));
    let url = format!("sqlite://{}", path.display());
    let unmigrated = TaskerBuilder::new(url.clone())
        .migrate(false)
        .build()
        .await
        .unwrap();
    assert!(!unmigrated.pending_migrations().await.unwrap().is_empty());
    drop(unmigrated);

    let engine = TaskerBuilder::new(url)
        .handler("double", |ctx: StepContext| async move {
            StepResult::Ok(json!(ctx.context["n"].as_i64().unwrap_or(0) * 2))
        })
        .retry_backoff_disabled(true)
        .build()
        .await
        .unwrap();
    assert!(engine.pending_migrations().await.unwrap().is_empty());
    assert!(engine.config().retry_backoff_disabled);
    assert!(engine.handlers().contains("double") && engine.handlers().contains("noop"));
    engine
        .register_template_yaml(
            "namespace: t\nname: double\nversion: 1.0.0\nsteps:\n  - name: d\n    handler: double\n",
        )
        .await
        .unwrap();
    let task = engine
        .create_task(CreateTask::new(
            "t/double".parse().unwrap(),
            json!({"n": 21}),
        ))
        .await
        .unwrap()
        .id;
    common::run_until_idle(&engine, "builder").await;
    assert_eq!(step(&engine, task, "d").await.results, Some(json!(42)));
    drop(engine);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
