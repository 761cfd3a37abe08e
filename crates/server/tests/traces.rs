//! Traces reach an OTLP/HTTP collector: a task created with a known `traceparent` is one trace
//! whose step spans are children of that context, and a `command` step sees its own attempt's
//! span as `TRACEPARENT`; a task created without one starts its trace at its creation span.
//! A `POST /v1/tasks` through the router is a span of its own, and the task it creates from the
//! request's `traceparent` header continues that trace.
//!
//! The collector is a small axum receiver in this test (OTLP/HTTP with the JSON encoding).
//! One test per binary: it installs the process's global `tracing` subscriber.

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tasker::{
    CreateTask, Engine, EngineConfig, HandlerRegistry, OrchestratorConfig, State, TaskId,
    connect_isolated,
};
use tasker_server::telemetry::traces::{Encoding, OtelTraceContext, TraceExport};
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
/// The trace of the task created over HTTP.
const HTTP_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const HTTP_PARENT_ID: &str = "b7ad6b7169203331";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_spans_continue_the_trace_a_task_was_created_with() {
    let (endpoint, received) = collector().await;
    let export =
        TraceExport::to_endpoint("tasker-test", &endpoint, Encoding::Json).expect("an exporter");
    let subscriber = tracing_subscriber::registry().with(export.layer());
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let db = connect_isolated("sqlite://unused.db")
        .await
        .expect("a database");
    let config = EngineConfig {
        trace_context: Some(OtelTraceContext::shared()),
        ..EngineConfig::default()
    };
    let engine = Engine::new(db.store().clone(), HandlerRegistry::with_builtins(), config);
    engine
        .register_template_yaml(TEMPLATE)
        .await
        .expect("register");
    let traced = create(&engine, Some(format!("00-{TRACE_ID}-{PARENT_ID}-01"))).await;
    let untraced = create(&engine, None).await;
    let over_http =
        create_over_http(&engine, &format!("00-{HTTP_TRACE_ID}-{HTTP_PARENT_ID}-01")).await;
    let run = engine.orchestrator(OrchestratorConfig {
        poll_interval: Duration::from_millis(50),
        until_idle: true,
        ..OrchestratorConfig::default()
    });
    tokio::time::timeout(Duration::from_secs(60), run.run())
        .await
        .expect("the run ends within a minute")
        .expect("run");
    let echoed = step_result(&engine, traced, "echo").await;
    let untraced_record = engine.task(untraced).await.expect("the task");

    export.flush().expect("flush");
    // Four spans per task (its creation, two steps, its end), and the HTTP request's.
    let spans = wait_for_spans(&received, 13).await;

    // The task created with a traceparent: every span of it is a child of that context.
    let of_traced = |name: &str| find(&spans, name, traced);
    for name in ["task.create", "task.finish"] {
        let span = of_traced(name);
        assert_eq!(span.len(), 1, "{name}: {spans:#?}");
        assert_eq!(span[0].trace_id, TRACE_ID, "{name}");
        assert_eq!(span[0].parent_id, PARENT_ID);
    }
    assert_eq!(
        of_traced("task.finish")[0].attributes["state"],
        json!("complete")
    );
    let steps = of_traced("step");
    assert_eq!(steps.len(), 2, "{spans:#?}");
    for step in &steps {
        assert_eq!(step.trace_id, TRACE_ID);
        assert_eq!(step.parent_id, PARENT_ID, "{step:#?}");
        assert_eq!(step.attributes["outcome"], json!("success"));
        assert_eq!(step.attributes["attempt"], json!(1));
    }
    let echo = steps
        .iter()
        .find(|s| s.attributes["step"] == json!("echo"))
        .expect("the echo step's span");
    assert_eq!(echo.attributes["handler"], json!("command"));
    // The program ran under its own attempt's span.
    assert_eq!(
        echoed["traceparent"],
        json!(format!("00-{TRACE_ID}-{}-01", echo.span_id))
    );

    // The task created without one: its trace starts at its creation span, stored with it.
    let created = find(&spans, "task.create", untraced);
    assert_eq!(created.len(), 1);
    let root = &created[0];
    assert_ne!(root.trace_id, TRACE_ID);
    assert_eq!(root.parent_id, "", "a root span");
    assert_eq!(
        untraced_record.traceparent,
        Some(format!("00-{}-{}-01", root.trace_id, root.span_id))
    );
    for name in ["step", "task.finish"] {
        for span in find(&spans, name, untraced) {
            assert_eq!(
                (span.trace_id.as_str(), span.parent_id.as_str()),
                (root.trace_id.as_str(), root.span_id.as_str()),
                "{name}"
            );
        }
    }
    assert_eq!(find(&spans, "step", untraced).len(), 2);

    // The task created over HTTP: the request is a span, and the task's spans continue the
    // trace its `traceparent` header gave.
    let requests: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "POST /v1/tasks")
        .collect();
    assert_eq!(requests.len(), 1, "{spans:#?}");
    assert_eq!(requests[0].attributes["http.route"], json!("/v1/tasks"));
    // (Recorded after the span opened; the exporter may write it as a string.)
    let status = &requests[0].attributes["http.response.status_code"];
    assert!(status == &json!(201) || status == &json!("201"), "{status}");
    let steps = find(&spans, "step", over_http);
    assert_eq!(steps.len(), 2, "{spans:#?}");
    for span in steps
        .iter()
        .chain(&find(&spans, "task.create", over_http))
        .chain(&find(&spans, "task.finish", over_http))
    {
        assert_eq!(span.trace_id, HTTP_TRACE_ID, "{span:#?}");
        assert_eq!(span.parent_id, HTTP_PARENT_ID, "{span:#?}");
    }
    assert_eq!(
        engine
            .task(over_http)
            .await
            .expect("the task")
            .traceparent
            .as_deref(),
        Some(format!("00-{HTTP_TRACE_ID}-{HTTP_PARENT_ID}-01").as_str())
    );

    drop(engine);
    db.cleanup().await.expect("cleanup");
}

const TEMPLATE: &str = r#"namespace: traces
name: traced
version: 1.0.0
steps:
  - name: echo
    handler: command
    config:
      program: sh
      args: ["-c", "printf '{\"traceparent\": \"%s\"}' \"$TRACEPARENT\""]
  - name: after
    handler: noop
    depends_on: [echo]
"#;

async fn create(engine: &Engine, traceparent: Option<String>) -> TaskId {
    let mut request = CreateTask::new("traces/traced".parse().expect("a reference"), json!({}));
    request.traceparent = traceparent;
    engine.create_task(request).await.expect("create").id
}

/// `POST /v1/tasks` with a `traceparent` header, through the router (no token needed).
async fn create_over_http(engine: &Engine, traceparent: &str) -> TaskId {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let router = tasker_server::router(
        tasker_server::AppState::new(engine.clone()).with_auth(tasker_server::AuthMode::Open),
    );
    let request = axum::http::Request::post("/v1/tasks")
        .header("content-type", "application/json")
        .header("traceparent", traceparent)
        .body(axum::body::Body::from(
            json!({"template": "traces/traced"}).to_string(),
        ))
        .expect("a request");
    let response = router.oneshot(request).await.expect("an answer");
    assert_eq!(response.status(), axum::http::StatusCode::CREATED);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    answer["task"]["id"].as_i64().expect("the task's id")
}

async fn step_result(engine: &Engine, task: TaskId, step: &str) -> Value {
    let details = engine.task_details(task).await.expect("details");
    assert_eq!(details.task.state, State::Complete);
    details
        .steps
        .iter()
        .find(|s| s.name == step)
        .and_then(|s| s.results.clone())
        .expect("the step's result")
}

#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent_id: String,
    /// Attribute values as plain JSON (`{"intValue": "1"}` becomes `1`).
    attributes: serde_json::Map<String, Value>,
}

fn find(spans: &[Span], name: &str, task: TaskId) -> Vec<Span> {
    spans
        .iter()
        .filter(|s| s.name == name && s.attributes.get("task_id") == Some(&json!(task)))
        .cloned()
        .collect()
}

/// A receiver of OTLP/HTTP JSON exports on a free local port: its base URL and what it got.
async fn collector() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request: Value = serde_json::from_slice(&body).expect("an OTLP JSON export");
                sink.lock().expect("lock").push(request);
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), received)
}

/// The spans received, once there are at least `wanted` (within 30 s).
async fn wait_for_spans(received: &Mutex<Vec<Value>>, wanted: usize) -> Vec<Span> {
    for _ in 0..600 {
        let spans = spans_of(&received.lock().expect("lock"));
        if spans.len() >= wanted {
            assert!(
                received
                    .lock()
                    .expect("lock")
                    .iter()
                    .all(|r| service_name(r) == Some("tasker-test")),
                "every export names the service"
            );
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the collector got {} spans, not {wanted}",
        spans_of(&received.lock().expect("lock")).len()
    );
}

fn spans_of(requests: &[Value]) -> Vec<Span> {
    let mut spans = Vec::new();
    for request in requests {
        for resource in request["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push(Span {
                        name: text(&span["name"]),
                        trace_id: text(&span["traceId"]),
                        span_id: text(&span["spanId"]),
                        parent_id: text(&span["parentSpanId"]),
                        attributes: attributes(&span["attributes"]),
                    });
                }
            }
        }
    }
    spans
}

fn service_name(request: &Value) -> Option<&str> {
    request["resourceSpans"][0]["resource"]["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == "service.name")?["value"]["stringValue"]
        .as_str()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn attributes(list: &Value) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for attribute in list.as_array().into_iter().flatten() {
        let value = &attribute["value"];
        let plain = if let Some(s) = value.get("stringValue") {
            s.clone()
        } else if let Some(i) = value.get("intValue") {
            // OTLP JSON writes 64-bit integers as strings.
            match i {
                Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
                other => other.clone(),
            }
        } else if let Some(b) = value.get("boolValue") {
            b.clone()
        } else {
            value.clone()
        };
        map.insert(text(&attribute["key"]), plain);
    }
    map
}
