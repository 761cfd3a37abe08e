//! Leases under stalls: a lost lease stops its attempt and never overlaps the next one, a
//! stalled completer cannot make a process hold more leases than its concurrency, outcomes the
//! store cannot keep say so in the history, an empty claim does not spin, a step this process
//! cannot run is given back without using up an attempt, and a clock too far off the
//! database's is refused.

mod common;

use common::chaos::{ChaosPlan, ChaosStore, Recorder, RunEnd, recorded_sleep};
use common::{TestDb, eventually, step};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tasker::{
    CreateTask, Engine, EngineConfig, Error, Event, HandlerRegistry, OffsetClock,
    OrchestratorConfig, State, StepContext, TaskId,
};

/// Long enough that a loaded machine does not lose leases by itself (their budget is 5/6 of
/// this from the moment the claim was sent).
const LEASE: Duration = Duration::from_secs(2);

/// `slow` sleeps for `config.ms` (stopping when told to) and records each run.
fn handlers(recorder: &Recorder) -> HandlerRegistry {
    let mut handlers = HandlerRegistry::with_builtins();
    let recorder = recorder.clone();
    handlers.register("slow", move |ctx: StepContext| {
        let recorder = recorder.clone();
        async move {
            let ms = ctx.config["ms"].as_u64().unwrap_or(0);
            let run = recorded_sleep(&recorder, &ctx, ms).await?;
            run.finish(RunEnd::Succeeded);
            Ok(json!({"attempt": ctx.attempt}))
        }
    });
    handlers.register("nul", |_ctx: StepContext| async move {
        Ok(json!({"text": "a\u{0}b"}))
    });
    handlers
}

fn template(handler: &str, ms: u64) -> String {
    format!(
        "namespace: t\nname: one\nversion: 1.0.0\ndefaults:\n  retry:\n    max_attempts: 3\n    backoff: exponential\n    base_ms: 10\n    max_ms: 20\nsteps:\n  - name: work\n    handler: {handler}\n    config: {{ ms: {ms} }}\n"
    )
}

fn orchestrator(owner: &str) -> OrchestratorConfig {
    OrchestratorConfig {
        owner: owner.into(),
        lease_duration: LEASE,
        poll_interval: Duration::from_millis(20),
        rescue_interval: Duration::from_millis(50),
        ..OrchestratorConfig::default()
    }
}

async fn one_task(engine: &Engine, handler: &str, ms: u64) -> TaskId {
    engine
        .register_template_yaml(&template(handler, ms))
        .await
        .unwrap();
    engine
        .create_task(CreateTask::new("t/one".parse().unwrap(), json!({})))
        .await
        .unwrap()
        .id
}

async fn wait_for_end(engine: &Engine, task: TaskId) -> State {
    let mut state = State::Pending;
    for _ in 0..1_000 {
        state = engine.task(task).await.unwrap().state;
        if matches!(state, State::Complete | State::Error) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {task} did not end: {state:?}");
}

/// Defects 1 and 2: the lease of a running attempt is lost (expired in the database, as after
/// a stall); the rescuer takes the step back and this same process claims it again. The first
/// attempt is stopped, the second starts only once it has ended, and the first cannot remove
/// the second's lease: the task completes with two attempts (before: attempts overlapped and
/// the task failed). (Expiring a lease behind its holder's back is not something time does: a
/// lease expires by time only after its holder's own deadline stopped the attempt.)
async fn a_lost_lease_stops_its_handler_and_never_overlaps_the_next_attempt(db: TestDb) {
    let recorder = Recorder::default();
    let engine = db.engine_with(handlers(&recorder), EngineConfig::default());
    let mut events = engine.subscribe();
    let task = one_task(&engine, "slow", 1_500).await;
    let orchestrator = engine.orchestrator(orchestrator("one")).spawn();
    let work = step(&engine, task, "work").await.id;
    eventually("the first attempt to start", || {
        let runs = recorder.runs_started();
        async move { runs > 0 }
    })
    .await;
    common::expire_lease_in_db(&db, work).await;

    assert_eq!(wait_for_end(&engine, task).await, State::Complete);
    let stats = orchestrator.shutdown().await.unwrap();
    let runs = recorder.runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!((runs[0].attempt, runs[0].how), (1, RunEnd::Stopped));
    assert_eq!((runs[1].attempt, runs[1].how), (2, RunEnd::Succeeded));
    assert!(
        runs[0].end <= runs[1].start,
        "attempts overlapped: {runs:?}"
    );
    assert_eq!(stats.leases_lost, 1);
    assert_eq!(stats.leases_recovered, 1);
    let record = step(&engine, task, "work").await;
    assert_eq!((record.state, record.attempts), (State::Complete, 2));
    let mut lost = 0;
    while let Ok(event) = events.try_recv() {
        if let Event::LeaseLost { attempt, .. } = event {
            assert_eq!(attempt, 1);
            lost += 1;
        }
    }
    assert_eq!(lost, 1, "one LeaseLost event");
}

/// Defect 2 and the harness's heartbeat stall: the renewal hangs for longer than a lease and
/// never answers in time. The attempt stops at its own deadline, before the rescuer can judge
/// its lease expired, so the next attempt starts only after it ended.
async fn a_stalled_heartbeat_stops_the_attempt_before_anyone_can_rescue_it(db: TestDb) {
    let recorder = Recorder::default();
    let chaos = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            // Renewals go out every third of a lease and each stalled one is dropped at the
            // next: three in a row leave the lease unrenewed past its budget.
            stall_next_renewals: 3,
            stall: LEASE * 3,
            ..ChaosPlan::calm()
        },
        1,
    ));
    let engine = Engine::new(chaos.clone(), handlers(&recorder), EngineConfig::default());
    let task = one_task(&engine, "slow", 4_000).await;
    let orchestrator = engine.orchestrator(orchestrator("stalled")).spawn();
    eventually("the first attempt to stop", || {
        let stopped = recorder.runs().iter().any(|r| r.how == RunEnd::Stopped);
        async move { stopped }
    })
    .await;
    assert_eq!(wait_for_end(&engine, task).await, State::Complete);
    let stats = orchestrator.shutdown().await.unwrap();
    let runs = recorder.runs();
    assert_eq!(runs[0].how, RunEnd::Stopped);
    assert_eq!(runs.last().unwrap().how, RunEnd::Succeeded);
    for pair in runs.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "attempts overlapped: {runs:?}"
        );
    }
    assert!(stats.leases_lost >= 1);
}

/// Defect 3: while the completer is stalled, a process holds at most `concurrency` leases:
/// a handler's slot is freed when its outcome is written, not when the handler returns.
async fn a_stalled_completer_holds_no_more_leases_than_its_concurrency(db: TestDb) {
    let recorder = Recorder::default();
    let chaos = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            completion_stall: Duration::from_millis(1_500),
            ..ChaosPlan::calm()
        },
        1,
    ));
    let engine = Engine::new(chaos.clone(), handlers(&recorder), EngineConfig::default());
    engine
        .register_template_yaml(&template("noop", 0))
        .await
        .unwrap();
    let requests = (0..40)
        .map(|_| CreateTask::new("t/one".parse().unwrap(), json!({})))
        .collect();
    engine.create_tasks(requests).await.unwrap();
    let concurrency = 5;
    let orchestrator = engine
        .orchestrator(OrchestratorConfig {
            concurrency,
            lease_duration: Duration::from_secs(10),
            ..orchestrator("bounded")
        })
        .spawn();
    let mut most = 0;
    for _ in 0..100 {
        let stats = orchestrator.stats();
        if stats.steps_succeeded > 0 {
            break;
        }
        most = most.max(stats.steps_claimed);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    chaos.set_plan(ChaosPlan::calm());
    orchestrator.shutdown().await.unwrap();
    assert!(most > 0, "nothing was claimed");
    assert!(
        most <= concurrency as u64,
        "{most} steps claimed before any outcome was written, with concurrency {concurrency}"
    );
}

/// Defect 4a: a result no backend can store (a NUL character) is a permanent failure that
/// says why, after one run, instead of three runs and "lease expired".
async fn an_unstorable_result_fails_the_step_once_with_the_reason(db: TestDb) {
    let recorder = Recorder::default();
    let engine = db.engine_with(handlers(&recorder), EngineConfig::default());
    let task = one_task(&engine, "nul", 0).await;
    let stats = common::run_until_idle(&engine, "nul").await;
    assert_eq!(engine.task(task).await.unwrap().state, State::Error);
    let work = step(&engine, task, "work").await;
    assert_eq!((work.state, work.attempts), (State::Error, 1));
    let history = engine.store().step_transitions_of_task(task).await.unwrap();
    let failure = history.last().unwrap();
    let error = failure.metadata["error"].as_str().unwrap();
    assert!(
        error.contains("NUL character") && error.contains("/text"),
        "{error}"
    );
    assert_eq!(failure.metadata["failure"], "unstorable_outcome");
    assert_eq!(stats.outcomes_unstorable, 1);
}

/// Defect 4b: an outcome the store refuses for a reason other than availability is not
/// forgotten: the step's history records a failure that quotes the refusal.
async fn a_refused_success_is_recorded_as_a_failure_that_says_why(db: TestDb) {
    let recorder = Recorder::default();
    let chaos = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            refuse_successes: true,
            ..ChaosPlan::calm()
        },
        1,
    ));
    let engine = Engine::new(chaos, handlers(&recorder), EngineConfig::default());
    let task = one_task(&engine, "slow", 0).await;
    common::run_until_idle(&engine, "refused").await;
    let work = step(&engine, task, "work").await;
    assert_eq!((work.state, work.attempts), (State::Error, 1));
    assert_eq!(recorder.runs().len(), 1, "the handler ran once");
    let history = engine.store().step_transitions_of_task(task).await.unwrap();
    let error = history.last().unwrap().metadata["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("the outcome cannot be stored") && error.contains("22001"),
        "{error}"
    );
}

/// Defect 7: claims that come back empty while a step looks ready (its row locked by someone
/// else) back off instead of spinning every millisecond.
async fn an_empty_claim_of_a_ready_step_backs_off(db: TestDb) {
    let recorder = Recorder::default();
    let chaos = Arc::new(ChaosStore::new(
        db.store.clone(),
        ChaosPlan {
            hide_claims: true,
            ..ChaosPlan::calm()
        },
        1,
    ));
    let engine = Engine::new(chaos.clone(), handlers(&recorder), EngineConfig::default());
    one_task(&engine, "noop", 0).await;
    let orchestrator = engine
        .orchestrator(OrchestratorConfig {
            poll_interval: Duration::from_millis(500),
            ..orchestrator("idle")
        })
        .spawn();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let claims = chaos.injected.claims.load(Ordering::Relaxed);
    orchestrator.shutdown().await.unwrap();
    // Backing off from 1 ms to the 500 ms poll interval: about ten claims in a second; a
    // 1 ms spin makes hundreds.
    assert!(claims <= 30, "{claims} claims in one second");
}

/// Defect 10: a step whose handler this process lacks is given back without using up an
/// attempt; a process that has the handler then runs it as its first attempt.
async fn a_step_without_a_handler_here_is_never_claimed_here(db: TestDb) {
    let recorder = Recorder::default();
    let full = db.engine_with(handlers(&recorder), EngineConfig::default());
    let task = one_task(&full, "slow", 0).await;
    // A process without the handler claims only what it can run: nothing here, so it is idle
    // at once and the step used up no attempt.
    let lacking = db.engine_with(HandlerRegistry::with_builtins(), EngineConfig::default());
    let stats = tokio::time::timeout(
        Duration::from_secs(60),
        lacking.orchestrator(common::until_idle("lacking")).run(),
    )
    .await
    .expect("idle within 60 s")
    .unwrap();
    assert_eq!((stats.steps_claimed, stats.steps_released), (0, 0));
    let work = step(&full, task, "work").await;
    assert_eq!((work.state, work.attempts), (State::Pending, 0));
    let details = full.task_details(task).await.unwrap();
    assert_eq!(
        details.explanations[0],
        r#"ready, but no worker has handler "slow""#
    );

    // A process with the handler runs it.
    let runner = full.orchestrator(orchestrator("full")).spawn();
    assert_eq!(wait_for_end(&full, task).await, State::Complete);
    runner.shutdown().await.unwrap();
    let work = step(&full, task, "work").await;
    assert_eq!((work.state, work.attempts), (State::Complete, 1));
}

/// Defect 9: a process whose clock is further off the database's than its leases tolerate
/// refuses to start, and says by how much.
async fn a_clock_too_far_off_the_database_is_refused(db: TestDb) {
    let skewed = |offset_ms: i64| EngineConfig {
        clock: Arc::new(OffsetClock {
            offset: chrono::Duration::milliseconds(offset_ms),
        }),
        ..EngineConfig::default()
    };
    let lease = Duration::from_secs(30); // tolerates 5 s
    let engine = db.engine_with(HandlerRegistry::with_builtins(), skewed(20_000));
    let refused = engine
        .orchestrator(OrchestratorConfig {
            lease_duration: lease,
            ..common::until_idle("ahead")
        })
        .run()
        .await;
    match refused {
        Err(e @ Error::ClockSkew { .. }) => {
            let text = e.to_string();
            assert!(text.contains("5000 ms") && text.contains("NTP"), "{text}");
        }
        other => panic!("expected a clock-skew refusal, got {other:?}"),
    }
    let engine = db.engine_with(HandlerRegistry::with_builtins(), skewed(-1_000));
    engine
        .orchestrator(OrchestratorConfig {
            lease_duration: lease,
            ..common::until_idle("close")
        })
        .run()
        .await
        .expect("a second off is within what a 30 s lease tolerates");
}

/// Defect 11: a lease so long that its expiry overflows (it used to become "now", and every
/// running step was rescued at once) is refused before anything is claimed, as is a
/// concurrency beyond what a semaphore holds.
async fn out_of_range_settings_are_refused_before_anything_runs(db: TestDb) {
    let recorder = Recorder::default();
    let engine = db.engine_with(handlers(&recorder), EngineConfig::default());
    let task = one_task(&engine, "slow", 0).await;
    for config in [
        OrchestratorConfig {
            lease_duration: Duration::from_millis(u64::MAX),
            ..common::until_idle("huge-lease")
        },
        OrchestratorConfig {
            concurrency: usize::MAX,
            ..common::until_idle("huge-concurrency")
        },
    ] {
        match engine.orchestrator(config).run().await {
            Err(e @ Error::Config(_)) => assert!(e.to_string().contains("must be within"), "{e}"),
            other => panic!("expected a range error, got {other:?}"),
        }
    }
    let work = step(&engine, task, "work").await;
    assert_eq!(
        (work.state, work.attempts),
        (State::Pending, 0),
        "nothing ran"
    );
}

on_every_backend!(
    out_of_range_settings_are_refused_before_anything_runs,
    a_lost_lease_stops_its_handler_and_never_overlaps_the_next_attempt,
    a_stalled_heartbeat_stops_the_attempt_before_anyone_can_rescue_it,
    a_stalled_completer_holds_no_more_leases_than_its_concurrency,
    an_unstorable_result_fails_the_step_once_with_the_reason,
    a_refused_success_is_recorded_as_a_failure_that_says_why,
    an_empty_claim_of_a_ready_step_backs_off,
    a_step_without_a_handler_here_is_never_claimed_here,
    a_clock_too_far_off_the_database_is_refused,
);
