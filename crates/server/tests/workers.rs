//! `/v1/worker/*`: workers in any language claim queue steps (a long poll), renew their leases
//! and report outcomes with the in-process retry rules; in-process orchestrators run only the
//! steps whose handler they have, and never a queue step. On a manual clock, so that leases
//! expire and retries come due when the test says.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use common::{Api, Backend, Reply, run_until_idle};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tasker::{
    Engine, EngineConfig, HandlerRegistry, ManualClock, OrchestratorConfig, StepContext, StepResult,
};

/// An in-process step, then a queue step (with a deterministic backoff), then an in-process
/// step.
const PAYMENT: &str = r#"
namespace: shop
name: payment
version: 1.0.0
steps:
  - name: prepare
    handler: noop
  - name: charge
    handler: charge_card
    queue: shop.payments
    config: { amount: 5 }
    depends_on: [prepare]
    retry: { max_attempts: 3, backoff: exponential, base_ms: 1000, multiplier: 2, max_ms: 60000, jitter: false }
  - name: receipt
    handler: noop
    depends_on: [charge]
"#;

/// One queue step, whose handler name is also a built-in one.
const QUEUED: &str = r#"
namespace: shop
name: queued
version: 1.0.0
steps:
  - name: only
    handler: noop
    queue: shop
    retry: { max_attempts: 3, backoff: exponential, base_ms: 1000, multiplier: 2, max_ms: 60000, jitter: false }
"#;

/// One queue step of namespace `other`.
const OTHER_QUEUED: &str = r#"
namespace: other
name: queued
version: 1.0.0
steps:
  - name: only
    handler: work
    queue: other.jobs
"#;

/// The API on an engine whose clock moves only when the test says.
struct World {
    api: Api,
    clock: ManualClock,
}

impl World {
    async fn new(backend: Backend, test: &str) -> Option<World> {
        let start = Utc
            .timestamp_millis_opt(Utc::now().timestamp_millis())
            .single()
            .expect("a time");
        let clock = ManualClock::new(start);
        let config = EngineConfig {
            clock: Arc::new(clock.clone()),
            ..EngineConfig::default()
        };
        let api = Api::with_engine(backend, test, config, |state| state).await?;
        Some(World { api, clock })
    }

    fn now(&self) -> DateTime<Utc> {
        use tasker::Clock;
        self.clock.now()
    }

    async fn claim(&self, body: Value) -> Reply {
        self.api.post("/v1/worker/claim", body).await
    }

    /// Claims exactly one step of `queue` at once; its JSON.
    async fn claim_one(&self, queue: &str, lease_ms: u64) -> Value {
        let reply = self
            .claim(json!({"queue": queue, "worker": "w1", "lease_ms": lease_ms}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let steps = reply.json["steps"].as_array().expect("steps").clone();
        assert_eq!(steps.len(), 1, "{reply:?}");
        steps[0].clone()
    }

    async fn step_call(&self, step: &Value, what: &str, body: Value) -> Reply {
        self.api
            .post(
                &format!("/v1/worker/steps/{}/{what}", step["step_id"]),
                body,
            )
            .await
    }

    async fn task(&self, id: i64) -> Value {
        let reply = self.api.get(&format!("/v1/tasks/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        reply.json
    }
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

fn step_named<'a>(task: &'a Value, name: &str) -> &'a Value {
    task["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {task}"))
}

async fn claim_returns_the_contract_fields(w: World) {
    w.api.register(PAYMENT).await;
    let task = w.api.create("shop/payment", json!({"order_id": 7})).await;
    run_until_idle(&w.api.engine).await;
    let document = w.task(task).await;
    let charge = step_named(&document, "charge");
    assert_eq!(charge["state"], "pending", "{document}");
    assert_eq!(charge["attempts"], 0, "never run in-process: {document}");
    assert_eq!(charge["queue"], "shop.payments");
    assert_eq!(charge["handler"], "charge_card");
    assert!(
        charge["explanation"].as_str().is_some_and(
            |e| e.contains(r#"no worker has handler "charge_card" on queue "shop.payments""#)
        ),
        "{document}"
    );

    let reply = w
        .claim(json!({
            "queue": "shop.payments",
            "handlers": ["charge_card"],
            "max": 10,
            "wait_ms": 0,
            "lease_ms": 30000,
            "worker": "billing-1",
        }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let steps = reply.json["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "{reply:?}");
    let step = &steps[0];
    let keys: BTreeSet<&str> = step
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "step_id",
            "task_id",
            "attempt",
            "lease_token",
            "handler",
            "name",
            "context",
            "config",
            "parent_results",
            "lease_expires_at",
        ])
    );
    assert_eq!(step["step_id"], charge["id"]);
    assert_eq!(step["task_id"], task);
    assert_eq!(step["attempt"], 1);
    assert!(step["lease_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(step["handler"], "charge_card");
    assert_eq!(step["name"], "charge");
    assert_eq!(step["context"], json!({"order_id": 7}));
    assert_eq!(step["config"], json!({"amount": 5}));
    assert_eq!(step["parent_results"], json!({"prepare": {}}));
    assert_eq!(
        time(&step["lease_expires_at"]),
        w.now() + chrono::Duration::seconds(30)
    );

    let document = w.task(task).await;
    let explanation = step_named(&document, "charge")["explanation"]
        .as_str()
        .expect("text")
        .to_owned();
    assert!(
        explanation.starts_with("running (attempt 1 of 3")
            && explanation.contains("worker:billing-1:"),
        "{explanation}"
    );
    let reply = w
        .step_call(
            step,
            "complete",
            json!({"lease_token": step["lease_token"], "result": {"charged": 5}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    // The claim advertised the worker's handler: another task's step is merely ready.
    let second = w.api.create("shop/payment", json!({"order_id": 8})).await;
    run_until_idle(&w.api.engine).await;
    let document = w.task(second).await;
    assert_eq!(
        step_named(&document, "charge")["explanation"],
        "ready",
        "{document}"
    );
    let document = w.task(task).await;
    assert_eq!(document["task"]["state"], "complete", "{document}");
    assert_eq!(
        step_named(&document, "receipt")["state"],
        "complete",
        "{document}"
    );
}

async fn a_long_poll_answers_when_work_appears_and_is_empty_on_time_out(w: World) {
    w.api.register(QUEUED).await;
    let reply = w
        .claim(json!({"queue": "shop", "worker": "w1", "wait_ms": 50}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json, json!({"steps": []}));

    let api = Arc::new(w.api);
    let waiting = {
        let api = api.clone();
        tokio::spawn(async move {
            api.post(
                "/v1/worker/claim",
                json!({"queue": "shop", "worker": "w1", "wait_ms": 30000, "max": 5}),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let task = api.create("shop/queued", json!({})).await;
    let reply = waiting.await.expect("the claim answered");
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let steps = reply.json["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "{reply:?}");
    assert_eq!(steps[0]["task_id"], task);

    // A filter admits only its handlers.
    api.create("shop/queued", json!({})).await;
    let reply = api
        .post(
            "/v1/worker/claim",
            json!({"queue": "shop", "worker": "w1", "handlers": ["other"], "wait_ms": 50}),
        )
        .await;
    assert_eq!(reply.json, json!({"steps": []}), "{reply:?}");
    let reply = api
        .post(
            "/v1/worker/claim",
            json!({"queue": "shop", "worker": "w1", "handlers": ["noop"]}),
        )
        .await;
    assert_eq!(reply.json["steps"].as_array().map(Vec::len), Some(1));
}

async fn heartbeats_renew_the_lease_until_it_is_lost(w: World) {
    w.api.register(QUEUED).await;
    w.api.create("shop/queued", json!({})).await;
    let step = w.claim_one("shop", 10_000).await;
    let token = step["lease_token"].clone();
    w.clock.advance(Duration::from_secs(5));
    let reply = w
        .step_call(
            &step,
            "heartbeat",
            json!({"lease_token": token, "lease_ms": 10000}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let expires = w.now() + chrono::Duration::seconds(10);
    assert_eq!(time(&reply.json["lease_expires_at"]), expires);
    assert_eq!(reply.json["step_id"], step["step_id"]);
    let stored = w
        .api
        .get(&format!("/v1/steps/{}", step["step_id"]))
        .await
        .json;
    assert_eq!(time(&stored["lease_expires_at"]), expires, "{stored}");

    w.clock.advance(Duration::from_secs(11));
    let reply = w
        .step_call(&step, "heartbeat", json!({"lease_token": token}))
        .await;
    reply.problem(409, "lease-lost");
    let reply = w
        .step_call(
            &step,
            "complete",
            json!({"lease_token": token, "result": {}}),
        )
        .await;
    reply.problem(409, "lease-lost");
    let stored = w
        .api
        .get(&format!("/v1/steps/{}", step["step_id"]))
        .await
        .json;
    assert_eq!(stored["state"], "in_progress", "{stored}");
    assert_eq!(stored["results"], Value::Null, "{stored}");

    let reply = w
        .api
        .post(
            "/v1/worker/steps/999999/heartbeat",
            json!({"lease_token": token}),
        )
        .await;
    reply.problem(404, "not-found");
}

async fn completions_are_idempotent_and_stale_tokens_change_nothing(w: World) {
    w.api.register(QUEUED).await;
    let task = w.api.create("shop/queued", json!({})).await;
    let step = w.claim_one("shop", 30_000).await;
    let token = step["lease_token"].as_str().expect("a token").to_owned();

    // Someone else's token for the same attempt: fenced out, nothing written.
    let (prefix, _) = token.rsplit_once(':').expect("owner suffix");
    let forged = format!("{prefix}:0000000000000000");
    let reply = w
        .step_call(
            &step,
            "complete",
            json!({"lease_token": forged, "result": {"x": 1}}),
        )
        .await;
    reply.problem(409, "lease-lost");
    let document = w.task(task).await;
    assert_eq!(step_named(&document, "only")["state"], "in_progress");

    let reply = w
        .step_call(
            &step,
            "complete",
            json!({"lease_token": token, "result": {"charged": true}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        reply.json,
        json!({"step_id": step["step_id"], "repeated": false, "retry_at": null})
    );
    let document = w.task(task).await;
    assert_eq!(document["task"]["state"], "complete", "{document}");
    assert_eq!(
        step_named(&document, "only")["results"],
        json!({"charged": true})
    );

    for result in [json!({"charged": true}), json!({"charged": "twice?"})] {
        let reply = w
            .step_call(
                &step,
                "complete",
                json!({"lease_token": token, "result": result}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.json["repeated"], true, "{reply:?}");
    }
    // The attempt ended in a success: a failure of it is not a repetition.
    let reply = w
        .step_call(
            &step,
            "fail",
            json!({"lease_token": token, "error": "late"}),
        )
        .await;
    reply.problem(409, "lease-lost");
    let document = w.task(task).await;
    assert_eq!(
        step_named(&document, "only")["results"],
        json!({"charged": true})
    );
    let history = w.api.get(&format!("/v1/tasks/{task}/history")).await.json;
    let completions = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["subject"] == "step" && h["to"] == "complete")
        .count();
    assert_eq!(completions, 1, "{history}");
}

async fn concurrent_completions_each_get_their_answer(w: World) {
    w.api.register(QUEUED).await;
    for _ in 0..20 {
        w.api.create("shop/queued", json!({})).await;
    }
    let reply = w
        .claim(json!({"queue": "shop", "worker": "w1", "max": 100}))
        .await;
    let steps = reply.json["steps"].as_array().expect("steps").clone();
    assert_eq!(steps.len(), 20, "{reply:?}");
    let api = Arc::new(w.api);
    let mut calls = Vec::new();
    // Each completion sent twice at once: one records it, the other is told it was repeated.
    for step in steps.iter().chain(steps.iter()) {
        let api = api.clone();
        let step = step.clone();
        calls.push(tokio::spawn(async move {
            let body =
                json!({"lease_token": step["lease_token"], "result": {"id": step["step_id"]}});
            let path = format!("/v1/worker/steps/{}/complete", step["step_id"]);
            (step["step_id"].as_i64(), api.post(&path, body).await)
        }));
    }
    let mut recorded = BTreeSet::new();
    let mut repeated = BTreeSet::new();
    for call in calls {
        let (id, reply) = call.await.expect("answered");
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let set = if reply.json["repeated"] == true {
            &mut repeated
        } else {
            &mut recorded
        };
        assert!(set.insert(id), "step {id:?} answered the same twice");
    }
    assert_eq!(recorded.len(), 20);
    assert_eq!(repeated.len(), 20);
    for id in common::all_task_ids(&api.engine).await {
        let document = api.get(&format!("/v1/tasks/{id}")).await.json;
        assert_eq!(document["task"]["state"], "complete", "{document}");
        let only = step_named(&document, "only");
        assert_eq!(only["results"], json!({"id": only["id"]}));
    }
}

async fn failures_follow_the_in_process_retry_rules(w: World) {
    w.api.register(QUEUED).await;
    let task = w.api.create("shop/queued", json!({})).await;
    let step = w.claim_one("shop", 30_000).await;
    let reply = w
        .step_call(
            &step,
            "fail",
            json!({"lease_token": step["lease_token"], "error": "card declined", "retryable": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    // The step's backoff: 1 s after the first failure.
    assert_eq!(
        time(&reply.json["retry_at"]),
        w.now() + chrono::Duration::seconds(1)
    );
    let empty = w.claim(json!({"queue": "shop", "worker": "w1"})).await;
    assert_eq!(empty.json, json!({"steps": []}), "not due yet");
    w.clock.advance(Duration::from_secs(1));
    let second = w.claim_one("shop", 30_000).await;
    assert_eq!(second["attempt"], 2);

    // A retry-after wins over the backoff (2 s now).
    let body = json!({"lease_token": second["lease_token"], "error": "rate limited", "retry_after_ms": 5000});
    let reply = w.step_call(&second, "fail", body.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let retry_at = w.now() + chrono::Duration::seconds(5);
    assert_eq!(time(&reply.json["retry_at"]), retry_at);
    let again = w.step_call(&second, "fail", body).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.json["repeated"], true);
    assert_eq!(time(&again.json["retry_at"]), retry_at);
    w.clock.advance(Duration::from_secs(5));
    let third = w.claim_one("shop", 30_000).await;
    assert_eq!(third["attempt"], 3);

    // Out of attempts: no retry, the task is blocked.
    let reply = w
        .step_call(
            &third,
            "fail",
            json!({"lease_token": third["lease_token"], "error": "still declined"}),
        )
        .await;
    assert_eq!(reply.json["retry_at"], Value::Null, "{reply:?}");
    let document = w.task(task).await;
    assert_eq!(document["task"]["state"], "error", "{document}");
    let history = w.api.get(&format!("/v1/tasks/{task}/history")).await.json;
    let errors: Vec<&Value> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["subject"] == "step" && h["to"] == "error")
        .collect();
    assert_eq!(errors.len(), 3, "{history}");
    assert_eq!(errors[0]["metadata"]["error"], "card declined", "{history}");
    let only = step_named(&document, "only");
    assert_eq!(
        only["last_error"]["message"], "still declined",
        "{document}"
    );
    assert_eq!(only["last_error"]["kind"], "handler", "{document}");
    assert_eq!(only["last_error"]["attempt"], 3, "{document}");
}

async fn a_permanent_failure_blocks_the_task(w: World) {
    w.api.register(PAYMENT).await;
    let task = w.api.create("shop/payment", json!({})).await;
    run_until_idle(&w.api.engine).await;
    let step = w.claim_one("shop.payments", 30_000).await;
    let reply = w
        .step_call(
            &step,
            "fail",
            json!({"lease_token": step["lease_token"], "error": "card stolen", "retryable": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["retry_at"], Value::Null);
    let document = w.task(task).await;
    assert_eq!(document["task"]["state"], "error", "{document}");
    let charge = step_named(&document, "charge");
    assert_eq!(charge["state"], "error");
    assert_eq!(
        charge["explanation"],
        "failed permanently after 1 attempt: card stolen"
    );
    assert_eq!(charge["last_error"]["message"], "card stolen", "{document}");
    assert_eq!(charge["last_error"]["kind"], "permanent", "{document}");
    assert_eq!(charge["last_error"]["attempt"], 1, "{document}");
    assert_eq!(
        step_named(&document, "receipt")["explanation"],
        "blocked: another step of the task failed"
    );
    w.clock.advance(Duration::from_secs(3600));
    let empty = w
        .claim(json!({"queue": "shop.payments", "worker": "w1"}))
        .await;
    assert_eq!(empty.json, json!({"steps": []}));
}

async fn a_vanished_worker_loses_its_lease_and_the_rescuer_counts_a_failed_attempt(w: World) {
    w.api.register(QUEUED).await;
    let task = w.api.create("shop/queued", json!({})).await;
    let step = w.claim_one("shop", 1_000).await;
    // The worker disappears: no heartbeat, no outcome.
    w.clock.advance(Duration::from_secs(2));
    run_until_idle(&w.api.engine).await;
    let document = w.task(task).await;
    let only = step_named(&document, "only");
    assert_eq!(only["state"], "error", "{document}");
    assert_eq!(only["attempts"], 1);
    let history = w.api.get(&format!("/v1/tasks/{task}/history")).await.json;
    let last = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .rfind(|h| h["subject"] == "step")
        .expect("a step transition")
        .clone();
    assert_eq!(last["to"], "error", "{history}");
    assert_eq!(last["metadata"]["failure"], "lease_expired", "{history}");
    // Its token is worth nothing now.
    let reply = w
        .step_call(
            &step,
            "complete",
            json!({"lease_token": step["lease_token"]}),
        )
        .await;
    reply.problem(409, "lease-lost");

    w.clock.advance(Duration::from_secs(1));
    let again = w.claim_one("shop", 30_000).await;
    assert_eq!(again["attempt"], 2);
    let reply = w
        .step_call(
            &again,
            "complete",
            json!({"lease_token": again["lease_token"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(w.task(task).await["task"]["state"], "complete");
}

async fn in_process_orchestrators_never_run_queue_steps(w: World) {
    // `noop` is built in, yet on a queue only a worker runs it.
    w.api.register(QUEUED).await;
    let task = w.api.create("shop/queued", json!({})).await;
    run_until_idle(&w.api.engine).await;
    let document = w.task(task).await;
    let only = step_named(&document, "only");
    assert_eq!(only["state"], "pending", "{document}");
    assert_eq!(only["attempts"], 0, "{document}");
    assert_eq!(
        only["explanation"],
        r#"ready, but no worker has handler "noop" on queue "shop""#
    );
    let step = w.claim_one("shop", 30_000).await;
    assert_eq!(step["task_id"], task);
}

/// Records which process ran each step.
#[derive(Clone)]
struct Recording {
    process: &'static str,
    ran: Arc<Mutex<Vec<(&'static str, String)>>>,
}

impl Recording {
    fn handler(&self) -> impl Fn(StepContext) -> std::future::Ready<StepResult> + use<> {
        let me = self.clone();
        move |ctx: StepContext| {
            me.ran
                .lock()
                .expect("the log")
                .push((me.process, ctx.step_name.clone()));
            std::future::ready(Ok(json!({"by": me.process})))
        }
    }
}

async fn heterogeneous_orchestrators_each_run_only_their_own_handlers(w: World) {
    const TEMPLATE: &str = "namespace: mixed\nname: flow\nversion: 1.0.0\nsteps:\n  - name: a1\n    handler: alpha\n  - name: b1\n    handler: beta\n    depends_on: [a1]\n  - name: a2\n    handler: alpha\n    depends_on: [b1]\n";
    w.api.register(TEMPLATE).await;
    let ran = Arc::new(Mutex::new(Vec::new()));
    let engine_for = |process: &'static str, handler: &str| {
        let mut registry = HandlerRegistry::with_builtins();
        let recording = Recording {
            process,
            ran: ran.clone(),
        };
        registry.register(handler, recording.handler());
        Engine::new(
            w.api.engine.store().clone(),
            registry,
            EngineConfig::default(),
        )
    };
    let alpha = engine_for("A", "alpha");
    let beta = engine_for("B", "beta");
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(w.api.create("mixed/flow", json!({})).await);
    }
    let settings = |owner: &str| OrchestratorConfig {
        owner: owner.to_owned(),
        poll_interval: Duration::from_millis(20),
        ..OrchestratorConfig::default()
    };
    let a = alpha.orchestrator(settings("process-a")).spawn();
    let b = beta.orchestrator(settings("process-b")).spawn();
    for task in &tasks {
        let finished = alpha
            .wait_for_task(*task, Some(Duration::from_secs(60)))
            .await
            .expect("the task finished");
        assert_eq!(finished.state, tasker::State::Complete);
    }
    let a = a.shutdown().await.expect("A stopped");
    let b = b.shutdown().await.expect("B stopped");
    assert_eq!(a.steps_released, 0, "A claimed a step it cannot run: {a:?}");
    assert_eq!(b.steps_released, 0, "B claimed a step it cannot run: {b:?}");
    let ran = ran.lock().expect("the log").clone();
    assert_eq!(ran.len(), 15, "{ran:?}");
    for (process, step) in &ran {
        let expected = if step.starts_with('a') { "A" } else { "B" };
        assert_eq!(process, &expected, "{ran:?}");
    }
}

async fn tokens_reach_only_their_namespaces_queues(w: World) {
    let shop = w.api.token(&["workers@shop"]).await;
    for (queue, allowed) in [
        ("shop", true),
        ("shop.payments", true),
        ("shopping", false),
        ("other", false),
        ("other.shop", false),
    ] {
        let reply = w
            .api
            .call_as(
                Some(&shop),
                Method::POST,
                "/v1/worker/claim",
                Some(json!({"queue": queue, "worker": "w1"})),
            )
            .await;
        if allowed {
            assert_eq!(reply.status, StatusCode::OK, "{queue}: {reply:?}");
        } else {
            reply.problem(403, "forbidden");
        }
    }
    let tasks = w.api.token(&["tasks:write"]).await;
    w.api
        .call_as(
            Some(&tasks),
            Method::POST,
            "/v1/worker/claim",
            Some(json!({"queue": "shop", "worker": "w1"})),
        )
        .await
        .problem(403, "forbidden");

    // A step of another namespace's queue, whatever token names it.
    w.api.register(OTHER_QUEUED).await;
    w.api.create("other/queued", json!({})).await;
    let step = w.claim_one("other.jobs", 30_000).await;
    let path = format!("/v1/worker/steps/{}/complete", step["step_id"]);
    let body = json!({"lease_token": step["lease_token"]});
    w.api
        .call_as(Some(&shop), Method::POST, &path, Some(body.clone()))
        .await
        .problem(403, "forbidden");
    let other = w.api.token(&["workers@other"]).await;
    let reply = w
        .api
        .call_as(Some(&other), Method::POST, &path, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

async fn bad_input_names_the_field(w: World) {
    for (body, pointer) in [
        (json!({"queue": "shop", "worker": "w", "max": 101}), "/max"),
        (json!({"queue": "shop", "worker": "w", "max": 0}), "/max"),
        (
            json!({"queue": "shop", "worker": "w", "lease_ms": 999}),
            "/lease_ms",
        ),
        (
            json!({"queue": "shop", "worker": "w", "wait_ms": 60001}),
            "/wait_ms",
        ),
        (
            json!({"queue": "shop", "worker": "w", "handlers": []}),
            "/handlers",
        ),
        (json!({"queue": "a queue", "worker": "w"}), "/queue"),
        (json!({"queue": "shop", "worker": ""}), "/worker"),
        (
            json!({"queue": "shop", "worker": "w", "colour": 1}),
            "/colour",
        ),
    ] {
        let reply = w.claim(body.clone()).await;
        assert_eq!(
            reply.problem(400, "validation")["pointer"],
            pointer,
            "{body}: {reply:?}"
        );
    }

    w.api.register(QUEUED).await;
    w.api.create("shop/queued", json!({})).await;
    let step = w.claim_one("shop", 30_000).await;
    let token = step["lease_token"].clone();
    for (what, body, pointer) in [
        (
            "heartbeat",
            json!({"lease_token": "garbage"}),
            "/lease_token",
        ),
        (
            "heartbeat",
            json!({"lease_token": token, "lease_ms": 10}),
            "/lease_ms",
        ),
        (
            "complete",
            json!({"lease_token": "1:someone"}),
            "/lease_token",
        ),
        (
            "complete",
            json!({"lease_token": token, "result": {"x": "a\u{0}b"}}),
            "/result/x",
        ),
        (
            "fail",
            json!({"lease_token": token, "error": "e", "retry_after_ms": -1}),
            "/retry_after_ms",
        ),
        ("fail", json!({"lease_token": token}), ""),
    ] {
        let reply = w.step_call(&step, what, body.clone()).await;
        let problem = reply.problem(400, "validation");
        if !pointer.is_empty() {
            assert_eq!(problem["pointer"], pointer, "{what} {body}: {reply:?}");
        }
    }
    // None of it changed the step.
    let stored = w
        .api
        .get(&format!("/v1/steps/{}", step["step_id"]))
        .await
        .json;
    assert_eq!(stored["state"], "in_progress", "{stored}");
    assert_eq!(stored["results"], Value::Null, "{stored}");
}

macro_rules! on_every_backend_with_a_manual_clock {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(w) = super::World::new(super::Backend::Sqlite, stringify!($case)).await {
                        super::$case(w).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(w) = super::World::new(super::Backend::Postgres, stringify!($case)).await {
                        super::$case(w).await;
                    }
                }
            )*
        }
    };
}

on_every_backend_with_a_manual_clock!(
    claim_returns_the_contract_fields,
    a_long_poll_answers_when_work_appears_and_is_empty_on_time_out,
    heartbeats_renew_the_lease_until_it_is_lost,
    completions_are_idempotent_and_stale_tokens_change_nothing,
    concurrent_completions_each_get_their_answer,
    failures_follow_the_in_process_retry_rules,
    a_permanent_failure_blocks_the_task,
    a_vanished_worker_loses_its_lease_and_the_rescuer_counts_a_failed_attempt,
    in_process_orchestrators_never_run_queue_steps,
    heterogeneous_orchestrators_each_run_only_their_own_handlers,
    tokens_reach_only_their_namespaces_queues,
    bad_input_names_the_field,
);
