//! The binary exports its spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, flushing them
//! before it exits: a task created by one process and run by another is one trace.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use common::{Sandbox, parse, text};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TEMPLATE: &str = "namespace: otel\nname: pair\nversion: 1.0.0\nsteps:\n  - name: first\n    handler: noop\n  - name: second\n    handler: noop\n    depends_on: [first]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_and_run_by_two_processes_is_one_exported_trace() {
    let (endpoint, received) = collector().await;
    let sandbox = Sandbox::migrated();
    let file = sandbox.write("pair.yaml", TEMPLATE);
    sandbox.ok(&["template", "register", &file]);
    let traced = |args: &'static [&'static str]| {
        let mut command = sandbox.bare_command();
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
            .env("OTEL_SERVICE_NAME", "tasker-cli-test")
            .arg("--database-url")
            .arg(sandbox.url())
            .args(args);
        command
    };
    let mut create = traced(&["--json", "task", "create", "otel/pair"]);
    let created = tokio::task::spawn_blocking(move || create.output())
        .await
        .expect("join")
        .expect("run");
    assert!(created.status.success(), "{}", text(&created.stderr));
    let task = parse(&text(&created.stdout));
    let traceparent = task["task"]["traceparent"]
        .as_str()
        .expect("a traceparent of its own")
        .to_owned();
    let mut run = traced(&["run", "--until-idle"]);
    let ran = tokio::task::spawn_blocking(move || run.output())
        .await
        .expect("join")
        .expect("run");
    assert!(ran.status.success(), "{}", text(&ran.stderr));

    // Both processes flushed before exiting; the receiver may still be reading the last one.
    let spans = wait_for_spans(&received, 4).await;
    let (trace_id, root) = {
        let parts: Vec<&str> = traceparent.split('-').collect();
        (parts[1].to_owned(), parts[2].to_owned())
    };
    let names: Vec<&str> = spans
        .iter()
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    for name in ["task.create", "step", "task.finish"] {
        assert!(names.contains(&name), "{names:?}");
    }
    for span in &spans {
        assert_eq!(span["traceId"], json!(trace_id), "{span}");
        if span["name"] == "task.create" {
            assert_eq!(span["spanId"], json!(root));
        } else {
            assert_eq!(span["parentSpanId"], json!(root), "{span}");
        }
    }
}

#[test]
fn an_endpoint_it_cannot_reach_is_refused_at_start() {
    let sandbox = Sandbox::migrated();
    let out = sandbox
        .bare_command()
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector.example.com",
        )
        .arg("--database-url")
        .arg(sandbox.url())
        .args(["task", "list"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: OTEL_EXPORTER_OTLP_ENDPOINT: https is not supported"),
        "{stderr}"
    );
}

/// An OTLP/HTTP JSON receiver on a free local port: its base URL and the requests it got.
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

/// The spans received from the test's service, once there are at least `wanted` (within 30 s).
async fn wait_for_spans(received: &Mutex<Vec<Value>>, wanted: usize) -> Vec<Value> {
    let spans = || {
        let mut spans = Vec::new();
        for request in received.lock().expect("lock").iter() {
            for resource in request["resourceSpans"].as_array().into_iter().flatten() {
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    spans.extend(scope["spans"].as_array().into_iter().flatten().cloned());
                }
            }
        }
        spans
    };
    for _ in 0..600 {
        let found = spans();
        if found.len() >= wanted {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the collector got {} spans, not {wanted}", spans().len());
}
