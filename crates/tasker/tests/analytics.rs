//! Analytics through the engine, on every backend: throughput per bucket, the per-step view,
//! the slowest tasks, and the bounds each refuses to go past. The clock stands still (retries
//! need no wait), so every count is exact.

mod common;

use common::{TestDb, config, run_until_idle};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tasker::{CreateTask, Engine, Error, HandlerRegistry, State, TaskId, Timestamp};

const FLAKY: &str = r#"
namespace: shop
name: order
version: 1.0.0
defaults:
  retry: { max_attempts: 3 }
steps:
  - name: pay
    handler: fail
    config: { times: 1 }
  - name: ship
    handler: noop
    depends_on: [pay]
"#;

const BROKEN: &str = r#"
namespace: ops
name: sweep
version: 1.0.0
steps:
  - name: scan
    handler: fail
    config: { times: 5 }
    retry: { max_attempts: 1 }
"#;

async fn create(engine: &Engine, yaml: &str, n: usize) -> Vec<TaskId> {
    let (template, _) = engine.register_template_yaml(yaml).await.unwrap();
    let reference = format!("{}/{}", template.namespace, template.name);
    let requests = (0..n)
        .map(|i| CreateTask::new(reference.parse().unwrap(), json!({ "i": i })))
        .collect();
    let created = engine.create_tasks(requests).await.unwrap();
    created.into_iter().map(|c| c.id).collect()
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

/// The start of the minute that holds `at` (buckets are aligned to the epoch).
fn on_the_minute(at: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp(at.timestamp().div_euclid(60) * 60, 0).unwrap_or(at)
}

async fn analytics_sum_up_finished_tasks(db: TestDb) {
    let clock = common::manual_clock();
    let now: Timestamp = tasker::Clock::now(&clock);
    let engine = db.engine_with(
        HandlerRegistry::with_builtins(),
        config(true, Some(Arc::new(clock.clone()))),
    );
    let orders = create(&engine, FLAKY, 4).await;
    let sweeps = create(&engine, BROKEN, 1).await;
    run_until_idle(&engine, "analytics").await;
    for id in &orders {
        assert_eq!(engine.task(*id).await.unwrap().state, State::Complete);
    }
    assert_eq!(engine.task(sweeps[0]).await.unwrap().state, State::Error);

    // Ten whole minutes around now: ten buckets of a minute.
    let since = on_the_minute(now - minutes(5));
    let until = since + minutes(10);
    let buckets = engine
        .throughput(since, until, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        buckets.len(),
        10,
        "every minute of the range, empty ones too"
    );
    assert_eq!(buckets[0].bucket_start, since);
    let total = |f: fn(&tasker::ThroughputBucket) -> i64| buckets.iter().map(f).sum::<i64>();
    assert_eq!(
        (
            total(|b| b.tasks_complete),
            total(|b| b.tasks_error),
            total(|b| b.tasks_cancelled),
            total(|b| b.steps)
        ),
        (4, 1, 0, 9)
    );

    let all = engine.step_analytics(None, since, until).await.unwrap();
    assert_eq!((all.tasks_sampled, all.truncated), (5, false));
    let rows: Vec<_> = all
        .steps
        .iter()
        .map(|s| {
            (
                format!("{}/{}/{}", s.namespace, s.template, s.step),
                s.runs,
                s.error_rate,
                s.retry_rate,
                s.p50_duration_ms,
                s.p95_wait_ms,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ops/sweep/scan".to_owned(), 1, 1.0, 0.0, Some(0), Some(0)),
            ("shop/order/pay".to_owned(), 4, 0.0, 1.0, Some(0), Some(0)),
            ("shop/order/ship".to_owned(), 4, 0.0, 0.0, Some(0), Some(0)),
        ]
    );
    let one = engine
        .step_analytics(Some(("shop", "order")), since, until)
        .await
        .unwrap();
    assert_eq!((one.tasks_sampled, one.steps.len()), (4, 2));
    let missing = engine
        .step_analytics(Some(("shop", "nothing")), since, until)
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, Error::TemplateNotFound(name) if name == "shop/nothing"),
        "{missing:?}"
    );

    let slowest = engine.slowest_tasks(since, until, 2).await.unwrap();
    assert_eq!((slowest.tasks_sampled, slowest.truncated), (5, false));
    // The clock stood still: every task took 0 ms, so the newest ids come first.
    assert_eq!(
        slowest
            .tasks
            .iter()
            .map(|t| (
                t.task_id,
                t.duration_ms,
                t.namespace.as_str(),
                t.version.as_str()
            ))
            .collect::<Vec<_>>(),
        [
            (sweeps[0], 0, "ops", "1.0.0"),
            (orders[3], 0, "shop", "1.0.0")
        ]
    );
    assert_eq!(slowest.tasks[0].state, State::Error);

    // Outside the range nothing counts.
    let later = engine
        .step_analytics(None, now + minutes(1), until)
        .await
        .unwrap();
    assert_eq!((later.tasks_sampled, later.steps.len()), (0, 0));
}

async fn analytics_refuse_ranges_past_their_bounds(db: TestDb) {
    let engine = db.engine();
    let now = on_the_minute(tasker::Clock::now(engine.clock().as_ref()));
    let day = chrono::Duration::days(1);
    let message = |result: Result<_, Error>| match result {
        Err(Error::InvalidRange(message)) => message,
        Err(other) => panic!("expected an invalid range, got {other:?}"),
        Ok(()) => panic!("expected an invalid range, got an answer"),
    };
    let throughput = |since: Timestamp, until: Timestamp, bucket: Duration| {
        let engine = engine.clone();
        async move { engine.throughput(since, until, bucket).await.map(|_| ()) }
    };
    let reversed = message(throughput(now, now - day, Duration::from_secs(60)).await);
    assert!(reversed.contains("must be before until"), "{reversed}");
    assert!(message(throughput(now, now, Duration::from_secs(60)).await).contains("before"));
    let too_many = message(throughput(now - day, now, Duration::from_secs(60)).await);
    assert!(
        too_many.contains("1440 buckets") && too_many.contains("at most 1000"),
        "{too_many}"
    );
    // 1,000 buckets exactly is allowed.
    throughput(now, now + minutes(1_000), Duration::from_secs(60))
        .await
        .unwrap();
    for bucket in [Duration::ZERO, Duration::from_millis(1_500)] {
        let bad = message(throughput(now - day, now, bucket).await);
        assert!(bad.contains("whole number of seconds"), "{bad}");
    }
    let reversed = engine
        .step_analytics(None, now, now - day)
        .await
        .map(|_| ());
    assert!(message(reversed).contains("before"));
    for limit in [0, 1_001] {
        let bad = engine
            .slowest_tasks(now - day, now, limit)
            .await
            .map(|_| ());
        assert!(message(bad).contains("between 1 and 1000"));
    }
    assert!(engine.slowest_tasks(now - day, now, 1_000).await.is_ok());
}

/// More finished tasks in the range than the step view samples: the newest are taken, and
/// the answer says the range was cut short. The seeded history's slowest tasks are the ones
/// the seeding made ten times slower.
async fn step_analytics_sample_the_newest_tasks_of_a_long_history(db: TestDb) {
    let engine = db.engine();
    engine.register_template_yaml(FLAKY).await.unwrap();
    let (stored, layout) = engine
        .template_layout(&"shop/order".parse().unwrap())
        .await
        .unwrap();
    let now = tasker::Clock::now(engine.clock().as_ref());
    let seeded = u64::from(tasker::STEP_ANALYTICS_TASKS) + 1;
    engine
        .store()
        .seed_completed_tasks(stored.id, &layout, seeded, now)
        .await
        .unwrap();
    let (since, until) = (now - chrono::Duration::days(1), now + minutes(1));
    let sampled = engine.step_analytics(None, since, until).await.unwrap();
    assert_eq!(
        (sampled.tasks_sampled, sampled.truncated),
        (tasker::STEP_ANALYTICS_TASKS as usize, true)
    );
    assert_eq!(
        sampled
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.runs))
            .collect::<Vec<_>>(),
        [("pay", 10_000), ("ship", 10_000)]
    );
    assert!(
        sampled
            .steps
            .iter()
            .all(|s| s.p95_duration_ms > s.p50_duration_ms)
    );
    let slowest = engine.slowest_tasks(since, until, 3).await.unwrap();
    assert_eq!((slowest.tasks_sampled, slowest.truncated), (10_001, false));
    // Every 97th seeded task is ten times slower: the slowest three are among them.
    assert!(
        slowest.tasks.iter().all(|t| t.duration_ms >= 1_000),
        "{slowest:?}"
    );
}

on_every_backend!(
    analytics_sum_up_finished_tasks,
    analytics_refuse_ranges_past_their_bounds,
    step_analytics_sample_the_newest_tasks_of_a_long_history,
);
