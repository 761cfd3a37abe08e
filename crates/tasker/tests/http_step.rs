//! The `http` built-in handler through an orchestrator: a template whose steps call a local
//! service, one answer retried after its `Retry-After`, and a result reaching a child step.

mod common;

use axum::Json;
use axum::extract::State as Shared;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use common::{TestDb, run_until_idle, step};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tasker::{CreateTask, State, TemplateRef};

/// What the service received: (path, Idempotency-Key, X-Shop header, body).
type Received = Arc<Mutex<Vec<(String, String, Option<String>, Value)>>>;

fn record(received: &Received, path: &str, headers: &HeaderMap, body: &Value) {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().expect("an ASCII header").to_owned())
    };
    received.lock().unwrap().push((
        path.to_owned(),
        header("idempotency-key").expect("an Idempotency-Key"),
        header("x-shop"),
        body.clone(),
    ));
}

/// Quotes 10 per item, but only from the second call on: the first is a 503 that asks to be
/// called again at once.
async fn quote(
    Shared(received): Shared<Received>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    record(&received, "/quote", &headers, &body);
    let calls = received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.0 == "/quote")
        .count();
    if calls == 1 {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(RETRY_AFTER, "0")],
            "warming up",
        )
            .into_response();
    }
    let qty = body["context"]["qty"].as_i64().unwrap_or(0);
    Json(json!({ "price": qty * 10 })).into_response()
}

async fn ship(
    Shared(received): Shared<Received>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    record(&received, "/ship", &headers, &body);
    let price = &body["parent_results"]["quote"]["price"];
    Json(json!({ "shipped": true, "charged": price })).into_response()
}

async fn serve() -> (String, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route("/quote", post(quote))
        .route("/ship", put(ship))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

async fn an_http_steps_result_reaches_its_child(db: TestDb) {
    let (base, received) = serve().await;
    let engine = db.engine();
    let yaml = format!(
        r#"
namespace: shop
name: order
version: 1.0.0
steps:
  - name: quote
    handler: http
    config: {{ url: "{base}/quote", timeout_ms: 10000 }}
    retry: {{ max_attempts: 3 }}
  - name: ship
    handler: http
    depends_on: [quote]
    config: {{ url: "{base}/ship", method: PUT, headers: {{ X-Shop: eu }} }}
"#
    );
    engine.register_template_yaml(&yaml).await.unwrap();
    let task = engine
        .create_task(CreateTask::new(
            TemplateRef::new("shop", "order"),
            json!({"qty": 3}),
        ))
        .await
        .unwrap()
        .id;
    run_until_idle(&engine, "http").await;
    assert_eq!(common::state_of(&engine, task).await, State::Complete);

    let quote = step(&engine, task, "quote").await;
    assert_eq!(quote.attempts, 2, "the 503 was retried");
    assert_eq!(quote.results, Some(json!({"price": 30})));
    let ship = step(&engine, task, "ship").await;
    assert_eq!(ship.results, Some(json!({"shipped": true, "charged": 30})));

    let received = received.lock().unwrap().clone();
    let keys: Vec<(&str, &str)> = received
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str()))
        .collect();
    let (q, s) = (quote.id, ship.id);
    assert_eq!(
        keys,
        [
            ("/quote", format!("tasker-step-{q}-1").as_str()),
            ("/quote", format!("tasker-step-{q}-2").as_str()),
            ("/ship", format!("tasker-step-{s}-1").as_str()),
        ]
    );
    let (_, _, shop, body) = &received[2];
    assert_eq!(shop.as_deref(), Some("eu"));
    assert_eq!(body["parent_results"], json!({"quote": {"price": 30}}));
    assert_eq!(body["context"], json!({"qty": 3}));
    assert_eq!(
        (&body["task_id"], &body["step"]),
        (&json!(task), &json!("ship"))
    );
}

/// A template whose `http` step cannot run is refused when it is registered, at its field.
async fn an_https_url_is_refused_at_registration(db: TestDb) {
    let engine = db.engine();
    let err = engine
        .register_template_yaml(
            "namespace: shop\nname: tls\nversion: 1.0.0\nsteps:\n  - name: pay\n    handler: http\n    config: { url: \"https://pay.example/charge\" }\n",
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("steps[0].config.url: https is not supported: this build has no TLS"),
        "{text}"
    );
    assert!(
        engine
            .template(&TemplateRef::new("shop", "tls"))
            .await
            .is_err(),
        "nothing was stored"
    );
}

on_every_backend!(
    an_http_steps_result_reaches_its_child,
    an_https_url_is_refused_at_registration,
);
