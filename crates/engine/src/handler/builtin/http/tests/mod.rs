//! The handler against a real server on 127.0.0.1: what it sends, and what each answer means.

mod config;
mod server;

use super::*;
use serde_json::{Value, json};
use server::TestServer;
use std::collections::BTreeMap;
use std::time::Duration;

const TRACEPARENT_SAMPLE: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn ctx(config: Value) -> StepContext {
    StepContext {
        task_id: 7,
        step_id: 42,
        step_name: "call".into(),
        attempt: 3,
        context: json!({"order": 1}).into(),
        config,
        parent_results: BTreeMap::from([("a".to_owned(), json!({"x": 1}))]),
        cancellation: Default::default(),
        traceparent: None,
    }
}

/// Calls `path` on the server with `extra` merged into the config, failing the test if the
/// call does not end (every path that can hang has a short `timeout_ms`).
async fn call(server: &TestServer, path: &str, extra: Value) -> StepResult {
    let mut config = json!({ "url": server.url(path) });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        config[k] = v;
    }
    call_with(ctx(config)).await
}

async fn call_with(ctx: StepContext) -> StepResult {
    tokio::time::timeout(Duration::from_secs(30), Http::new().call(ctx))
        .await
        .expect("the call did not end")
}

fn retryable(result: &StepResult) -> (&str, Option<Duration>) {
    match result {
        Err(StepError::Retryable {
            message,
            retry_after,
        }) => (message, *retry_after),
        other => panic!("expected a retryable failure, got {other:?}"),
    }
}

fn permanent(result: &StepResult) -> &str {
    match result {
        Err(StepError::Permanent { message }) => message,
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_json_answer_is_the_result() {
    let server = TestServer::start().await;
    let result = call(&server, "/json", json!({})).await;
    assert_eq!(result, Ok(json!({"ok": true, "items": [1, 2]})));
}

#[tokio::test]
async fn an_empty_or_text_answer_gives_its_status() {
    let server = TestServer::start().await;
    assert_eq!(
        call(&server, "/empty", json!({})).await,
        Ok(json!({"status": 204}))
    );
    assert_eq!(
        call(&server, "/text", json!({})).await,
        Ok(json!({"status": 200, "text": "plain words"}))
    );
}

#[tokio::test]
async fn the_default_body_is_the_step_input() {
    let server = TestServer::start().await;
    let config = json!({
        "url": server.url("/json"),
        "headers": {"authorization": "Bearer secret"},
        "note": "kept",
    });
    call_with(ctx(config)).await.unwrap();
    let seen = server.only();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/json")
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("authorization"), Some("Bearer secret"));
    assert_eq!(
        seen.json(),
        json!({
            "context": {"order": 1},
            // Without its headers: credentials stay out of the body.
            "config": {"url": server.url("/json"), "note": "kept"},
            "parent_results": {"a": {"x": 1}},
            "task_id": 7,
            "step_id": 42,
            "step": "call",
            "attempt": 3,
        })
    );
}

#[tokio::test]
async fn a_configured_body_method_and_headers_are_sent_as_they_are() {
    let server = TestServer::start().await;
    let extra = json!({
        "method": "put",
        "body": ["any", {"json": null}],
        "headers": {"Content-Type": "application/vnd.shop+json", "X-Shop": "eu"},
    });
    call(&server, "/json", extra).await.unwrap();
    let seen = server.only();
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.json(), json!(["any", {"json": null}]));
    assert_eq!(
        seen.header("content-type"),
        Some("application/vnd.shop+json")
    );
    assert_eq!(seen.header("x-shop"), Some("eu"));
}

#[tokio::test]
async fn a_get_sends_no_body() {
    let server = TestServer::start().await;
    call(&server, "/json", json!({"method": "GET"}))
        .await
        .unwrap();
    let seen = server.only();
    assert_eq!(seen.method, "GET");
    assert!(seen.body.is_empty(), "{seen:?}");
    assert_eq!(seen.header("content-type"), None);
}

#[tokio::test]
async fn traceparent_and_the_idempotency_key_reach_the_server() {
    let server = TestServer::start().await;
    let mut with = ctx(json!({"url": server.url("/json")}));
    with.traceparent = Some(TRACEPARENT_SAMPLE.to_owned());
    call_with(with).await.unwrap();
    let seen = server.only();
    assert_eq!(seen.header("traceparent"), Some(TRACEPARENT_SAMPLE));
    assert_eq!(seen.header("idempotency-key"), Some("tasker-step-42-3"));
    // Without a trace, no traceparent at all; the key still names the step and attempt.
    let mut without = ctx(json!({"url": server.url("/json")}));
    without.attempt = 4;
    call_with(without).await.unwrap();
    let seen = server.seen().pop().unwrap();
    assert_eq!(seen.header("traceparent"), None);
    assert_eq!(seen.header("idempotency-key"), Some("tasker-step-42-4"));
}

#[tokio::test]
async fn other_4xx_answers_fail_permanently() {
    let server = TestServer::start().await;
    for code in [400, 404, 422] {
        let result = call(&server, &format!("/status/{code}"), json!({})).await;
        let message = permanent(&result);
        assert!(message.contains(&format!("answered {code}")), "{message}");
        assert!(
            message.ends_with(&format!("answered {code} on purpose")),
            "the body is quoted: {message}"
        );
    }
    let result = call(&server, "/redirect", json!({})).await;
    assert!(
        permanent(&result).contains("does not follow redirects"),
        "{result:?}"
    );
    assert_eq!(server.seen().len(), 4, "the redirect was not followed");
}

#[tokio::test]
async fn a_408_and_5xx_answers_are_retryable() {
    let server = TestServer::start().await;
    for code in [408, 500, 502, 504] {
        let result = call(&server, &format!("/status/{code}"), json!({})).await;
        let (message, after) = retryable(&result);
        assert!(message.contains(&format!("answered {code}")), "{message}");
        assert_eq!(after, None);
    }
}

#[tokio::test]
async fn a_429_waits_the_seconds_it_asks_for() {
    let server = TestServer::start().await;
    let result = call(&server, "/retry-in-seconds", json!({})).await;
    let (message, after) = retryable(&result);
    assert_eq!(after, Some(Duration::from_secs(2)));
    assert!(
        message.contains("429 Too Many Requests: slow down"),
        "{message}"
    );
}

#[tokio::test]
async fn a_429_waits_until_the_date_it_asks_for() {
    let server = TestServer::start().await;
    let result = call(&server, "/retry-at-a-date", json!({})).await;
    // Counted from the answer's own Date, 90 s before the date asked for.
    assert_eq!(retryable(&result).1, Some(Duration::from_secs(90)));
}

#[tokio::test]
async fn a_503_is_retryable_after_its_retry_after_or_the_backoff() {
    let server = TestServer::start().await;
    let result = call(&server, "/unavailable", json!({})).await;
    assert_eq!(retryable(&result).1, Some(Duration::from_secs(30)));
    let result = call(&server, "/unavailable-without-retry-after", json!({})).await;
    assert_eq!(retryable(&result).1, None);
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_retryable_failure() {
    let server = TestServer::start().await;
    let result = call(&server, "/slow", json!({"timeout_ms": 200})).await;
    let (message, _) = retryable(&result);
    assert!(
        message.contains("within its timeout of 200 ms"),
        "{message}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    // A port that was free a moment ago, and that nothing listens on now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = call_with(ctx(json!({
        "url": format!("http://127.0.0.1:{port}/x?key=secret"),
    })))
    .await;
    let (message, _) = retryable(&result);
    assert!(
        message.starts_with(&format!("POST http://127.0.0.1:{port}/x failed")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(
        !message.contains("secret"),
        "the query string stays out: {message}"
    );
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit() {
    let server = TestServer::start().await;
    let result = call(&server, "/endless", json!({})).await;
    let message = permanent(&result);
    assert!(
        message.contains(&format!(
            "a body of more than {} bytes (config.max_response_bytes)",
            tasker_model::limits::DEFAULT_MAX_OUTPUT_BYTES
        )),
        "{message}"
    );
    let result = call(&server, "/endless", json!({"max_response_bytes": 10_000})).await;
    assert!(
        permanent(&result).contains("more than 10000 bytes"),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_body_announced_past_the_limit_is_refused() {
    let server = TestServer::start().await;
    let result = call(&server, "/big", json!({"max_response_bytes": 1000})).await;
    assert!(
        permanent(&result).contains("more than 1000 bytes"),
        "{result:?}"
    );
    // Within the limit, the same body is read (it is not JSON: it becomes text).
    let result = call(&server, "/big", json!({"max_response_bytes": 100_000})).await;
    assert_eq!(result.unwrap()["truncated"], json!(true));
}

#[tokio::test]
async fn an_error_with_an_endless_body_is_quoted_not_read() {
    let server = TestServer::start().await;
    let result = call(&server, "/endless-error", json!({})).await;
    let (message, _) = retryable(&result);
    assert!(
        message.contains("answered 500 Internal Server Error: xxx"),
        "{message}"
    );
    assert!(
        message.len() < MAX_ERROR_EXCERPT_BYTES + 200,
        "{}",
        message.len()
    );
}

/// A server made of a bare socket, to see the connection itself: it reports when a request
/// has arrived, never answers, and reports when the client closes the connection.
#[tokio::test]
async fn cancelling_the_attempt_abandons_the_request_and_its_connection() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hang", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = tokio::sync::oneshot::channel();
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0; 64 * 1024];
        let mut received = Vec::new();
        let mut arrived_tx = Some(arrived_tx);
        loop {
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                let _ = closed_tx.send(());
                return;
            }
            received.extend_from_slice(&buffer[..n]);
            if received.windows(4).any(|w| w == b"\r\n\r\n")
                && let Some(tx) = arrived_tx.take()
            {
                let _ = tx.send(());
            }
        }
    });
    let context = ctx(json!({"url": url}));
    let token = context.cancellation.clone();
    let call = tokio::spawn(async move { Http::new().call(context).await });
    tokio::time::timeout(Duration::from_secs(30), arrived)
        .await
        .expect("the request never arrived")
        .unwrap();
    token.cancel();
    let result = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the call ignored the cancellation")
        .unwrap();
    let (message, _) = retryable(&result);
    assert!(message.contains("the attempt was cancelled"), "{message}");
    tokio::time::timeout(Duration::from_secs(30), closed)
        .await
        .expect("the connection stayed open after the cancellation")
        .unwrap();
}

#[tokio::test]
async fn the_registry_runs_http_with_its_check() {
    let registry = crate::HandlerRegistry::with_builtins();
    let handler = registry.get("http").expect("http is a built-in");
    assert!(handler.check_config(&json!({"url": "https://x"})).is_err());
    let server = TestServer::start().await;
    let result = handler.call(ctx(json!({"url": server.url("/json")}))).await;
    assert_eq!(result.unwrap()["ok"], json!(true));
}
