//! What `/metrics` shows after a run: successes, a retry, permanent failures, a rescued lease,
//! a cancel and a store outage, counted exactly under bounded labels (never an id).
//!
//! One test runs the scenario on SQLite, then on PostgreSQL when `TASKER_TEST_DATABASE_URL` is
//! set, one after the other: the recorder is global to the process, and the gauges (steps in
//! flight, leases held) are only exact while nothing else runs. Counters are told apart by
//! backend through their labels (namespace and handler names end with the backend's name).

use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tasker::store::{ClaimFilter, ClaimRequest};
use tasker::{
    CreateTask, Engine, EngineConfig, HandlerRegistry, IsolatedDatabase, OrchestratorConfig, State,
    StepContext, StepError, StepResult, connect_isolated,
};
use tasker_server::telemetry::metrics::prometheus;

const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_counted_under_bounded_labels() {
    scenario("sqlite", "sqlite://unused.db").await;
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => scenario("postgres", &url).await,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped"
            );
            eprintln!(
                "SKIPPED postgres::a_run_is_counted_under_bounded_labels: {URL_VAR} is not set"
            );
        }
    }
}

async fn scenario(backend: &str, url: &str) {
    let handle = prometheus();
    let db = connect_isolated(url).await.expect("a database of its own");
    let engine = engine(&db, backend);
    let ns = format!("metrics_{backend}");
    for yaml in templates(&ns, backend) {
        engine
            .register_template_yaml(&yaml)
            .await
            .expect("register");
    }
    let create = |name: &str| {
        let engine = engine.clone();
        let template = format!("{ns}/{name}");
        async move {
            let request = CreateTask::new(template.parse().expect("a reference"), json!({}));
            engine.create_task(request).await.expect("create").id
        }
    };
    for _ in 0..2 {
        create("mixed").await;
    }
    let mut simple = Vec::new();
    for _ in 0..3 {
        simple.push(create("simple").await);
    }
    engine.cancel_task(simple[0]).await.expect("cancel");
    // A process that claimed the orphan's step and died: its lease has already run out, so the
    // rescuer records the attempt as `lease_expired` and the step runs again.
    let orphan = create("orphan").await;
    let now = engine.clock().now();
    let claimed = db
        .store()
        .claim_steps(&ClaimRequest {
            owner: "a-process-that-died".into(),
            limit: 1,
            now,
            lease_expires_at: now,
            only_task: Some(orphan),
            filter: ClaimFilter::any_in_process(),
        })
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);

    let stats = tokio::time::timeout(
        Duration::from_secs(60),
        engine.orchestrator(settings(backend, true)).run(),
    )
    .await
    .expect("the run ends within a minute")
    .expect("run");
    assert_eq!(stats.leases_recovered, 1, "{stats:?}");

    // An outage: the table of steps is away, so the orchestrator's reads and claims fail until
    // it is back; then a new task runs as usual.
    let before = database_errors(&handle.render());
    let running = engine.orchestrator(settings(backend, false)).spawn();
    hide_steps_table(&db, true).await;
    let counted = wait_for(|| database_errors(&handle.render()) > before).await;
    assert!(counted, "no database error was counted during the outage");
    hide_steps_table(&db, false).await;
    let after = create("simple").await;
    let task = engine
        .wait_for_task(after, Some(Duration::from_secs(60)))
        .await
        .expect("the task after the outage runs");
    assert_eq!(task.state, State::Complete);
    running.shutdown().await.expect("shutdown");
    drop(engine);
    db.cleanup().await.expect("cleanup");

    check(&handle.render(), backend);
}

/// Every family, with the counts the scenario implies.
fn check(text: &str, backend: &str) {
    let all = samples(text);
    let ns = format!("metrics_{backend}");
    let get = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.iter()
            .find(|s| s.name == name && s.labels == wanted)
            .unwrap_or_else(|| panic!("no {name} {wanted:?} in\n{text}"))
            .value
    };
    let template = |name: &'static str| [("namespace", ns.as_str()), ("template", name)];
    let finished = |name: &'static str, state: &'static str| {
        get(
            "tasker_tasks_finished_total",
            &[("namespace", &ns), ("template", name), ("state", state)],
        )
    };
    let (ok, flaky, boom, rescued) = (
        format!("ok_{backend}"),
        format!("flaky_{backend}"),
        format!("boom_{backend}"),
        format!("rescued_{backend}"),
    );
    let attempts = |handler: &str, outcome: &str| {
        get(
            "tasker_step_attempts_total",
            &[("handler", handler), ("outcome", outcome)],
        )
    };

    assert_eq!(get("tasker_tasks_created_total", &template("mixed")), 2.0);
    assert_eq!(get("tasker_tasks_created_total", &template("simple")), 4.0);
    assert_eq!(get("tasker_tasks_created_total", &template("orphan")), 1.0);
    assert_eq!(finished("mixed", "error"), 2.0);
    assert_eq!(finished("simple", "complete"), 3.0);
    assert_eq!(finished("simple", "cancelled"), 1.0);
    assert_eq!(finished("orphan", "complete"), 1.0);

    // ok: the first step of each mixed task, and the simple tasks that were not cancelled.
    assert_eq!(attempts(&ok, "success"), 5.0);
    assert_eq!(attempts(&flaky, "retryable"), 2.0);
    assert_eq!(attempts(&flaky, "success"), 2.0);
    assert_eq!(attempts(&boom, "permanent"), 2.0);
    assert_eq!(attempts(&rescued, "lease_expired"), 1.0);
    assert_eq!(attempts(&rescued, "success"), 1.0);
    assert_eq!(
        get("tasker_step_retries_total", &[("handler", &flaky)]),
        2.0
    );
    assert_eq!(
        get("tasker_step_retries_total", &[("handler", &rescued)]),
        1.0
    );

    // Histograms: one observation per handler run, per task end, per claimed step.
    let count = |name: &str, labels: &[(&str, &str)]| get(&format!("{name}_count"), labels);
    let sum = |name: &str, labels: &[(&str, &str)]| get(&format!("{name}_sum"), labels);
    assert_eq!(
        count("tasker_step_duration_seconds", &[("handler", &ok)]),
        5.0
    );
    assert_eq!(
        count("tasker_step_duration_seconds", &[("handler", &flaky)]),
        4.0
    );
    assert!(sum("tasker_step_duration_seconds", &[("handler", &ok)]) >= 0.0);
    assert_eq!(
        count("tasker_task_duration_seconds", &template("mixed")),
        2.0
    );
    // Three complete, one cancelled.
    assert_eq!(
        count("tasker_task_duration_seconds", &template("simple")),
        4.0
    );
    assert!(sum("tasker_task_duration_seconds", &template("simple")) > 0.0);
    // Process-wide: every step claimed so far, this backend's 12 among them (four per mixed
    // task, three simple tasks, the orphan's second claim; its first was the test's own).
    assert!(count("tasker_step_wait_seconds", &[]) >= 12.0);
    assert!(sum("tasker_step_wait_seconds", &[]) >= 0.0);
    assert!(count("tasker_claim_batch_size", &[]) >= 1.0);
    assert!(count("tasker_completion_batch_size", &[]) >= 1.0);
    let batch_sum = sum("tasker_completion_batch_size", &[]);
    // The same 12 outcomes (the rescue writes its own).
    assert!(batch_sum >= 12.0, "outcomes written: {batch_sum}");
    // Buckets are set (a histogram, not a summary), for seconds and for sizes.
    assert!(text.contains("tasker_step_duration_seconds_bucket{"));
    assert!(text.contains("tasker_claim_batch_size_bucket{"));

    // Gauges: everything was written and every lease given back.
    assert_eq!(get("tasker_steps_in_flight", &[]), 0.0);
    assert_eq!(get("tasker_leases_held", &[]), 0.0);
    let runnable = get("tasker_steps_runnable", &[]);
    assert!((0.0..=100_000.0).contains(&runnable), "{runnable}");

    let kinds: Vec<&str> = all
        .iter()
        .filter(|s| s.name == "tasker_database_errors_total")
        .filter_map(|s| s.labels.get("kind").map(String::as_str))
        .collect();
    assert!(!kinds.is_empty(), "{text}");

    // Help text for the families.
    for family in [
        "tasker_tasks_created_total",
        "tasker_step_attempts_total",
        "tasker_step_wait_seconds",
        "tasker_steps_runnable",
        "tasker_database_errors_total",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no help for {family}"
        );
    }
    no_label_is_an_id(&all);
}

/// Label names come from a fixed set, and no value is a number (an id would be).
fn no_label_is_an_id(all: &[Sample]) {
    const NAMES: [&str; 7] = [
        "namespace",
        "template",
        "state",
        "handler",
        "outcome",
        "kind",
        "le",
    ];
    for sample in all.iter().filter(|s| s.name.starts_with("tasker_")) {
        for (name, value) in &sample.labels {
            assert!(NAMES.contains(&name.as_str()), "label {name} on {sample:?}");
            if name != "le" {
                assert!(
                    value.parse::<f64>().is_err(),
                    "a number as a label value: {sample:?}"
                );
            }
        }
    }
}

/// Store errors counted so far, of every kind.
fn database_errors(text: &str) -> f64 {
    samples(text)
        .iter()
        .filter(|s| s.name == "tasker_database_errors_total")
        .map(|s| s.value)
        .sum()
}

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of the Prometheus text format (`name{k="v",...} value`); label values here
/// hold no quotes or commas.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("a label");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

fn engine(db: &IsolatedDatabase, backend: &str) -> Engine {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register(&format!("ok_{backend}"), |_: StepContext| async {
        StepResult::Ok(json!({}))
    });
    handlers.register(&format!("rescued_{backend}"), |_: StepContext| async {
        StepResult::Ok(json!({}))
    });
    handlers.register(&format!("flaky_{backend}"), |ctx: StepContext| async move {
        if ctx.attempt == 1 {
            return Err(StepError::retryable("the first attempt fails"));
        }
        Ok(json!({}))
    });
    handlers.register(&format!("boom_{backend}"), |_: StepContext| async {
        StepResult::Err(StepError::permanent("never works"))
    });
    let config = EngineConfig {
        retry_backoff_disabled: true,
        ..EngineConfig::default()
    };
    Engine::new(db.store().clone(), handlers, config)
}

fn templates(ns: &str, backend: &str) -> [String; 3] {
    [
        format!(
            "namespace: {ns}\nname: mixed\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: ok_{backend}\n  - name: b\n    handler: flaky_{backend}\n    depends_on: [a]\n    retry: {{ max_attempts: 3 }}\n  - name: c\n    handler: boom_{backend}\n    depends_on: [b]\n"
        ),
        format!(
            "namespace: {ns}\nname: simple\nversion: 1.0.0\nsteps:\n  - name: only\n    handler: ok_{backend}\n"
        ),
        format!(
            "namespace: {ns}\nname: orphan\nversion: 1.0.0\nsteps:\n  - name: only\n    handler: rescued_{backend}\n    retry: {{ max_attempts: 2 }}\n"
        ),
    ]
}

fn settings(backend: &str, until_idle: bool) -> OrchestratorConfig {
    OrchestratorConfig {
        owner: format!("metrics-{backend}-{until_idle}"),
        poll_interval: Duration::from_millis(50),
        rescue_interval: Duration::from_millis(50),
        until_idle,
        ..OrchestratorConfig::default()
    }
}

/// Renames the steps table away (or back) behind the store's back.
async fn hide_steps_table(db: &IsolatedDatabase, hide: bool) {
    let (from, to) = if hide {
        ("workflow_steps", "workflow_steps_away")
    } else {
        ("workflow_steps_away", "workflow_steps")
    };
    let sql = format!("ALTER TABLE {from} RENAME TO {to}");
    if let Some(path) = db.url().strip_prefix("sqlite://") {
        let connection = rusqlite::Connection::open(path).expect("open sqlite");
        connection
            .busy_timeout(Duration::from_secs(30))
            .expect("busy timeout");
        connection.execute_batch(&sql).expect("rename");
    } else {
        let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
            .await
            .expect("connect");
        let driver = tokio::spawn(connection);
        client.batch_execute(&sql).await.expect("rename");
        drop(client);
        let _ = driver.await;
    }
}

/// Polls `done` every 50 ms for up to 60 s.
async fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..1_200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
