//! The auth matrix: every route of the OpenAPI document answers 401 without a token, 403 with a
//! token of the wrong scope, and 403 with the right scope in the wrong namespace where a
//! namespace applies; plus the token's life (revoked, malformed) and the open mode.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::templates::{CHECKOUT, OTHER, SHOP_QUEUE};
use common::{Api, Backend, Reply};
use serde_json::{Value, json};
use tasker_server::AuthMode;

/// Ids the concrete requests point at.
struct Fixture {
    task: i64,
    step: i64,
    /// A step of queue `shop` claimed for a worker, and its lease token.
    queued_step: i64,
    lease_token: String,
}

/// A concrete request for a route of the document: its path, and its body if it takes one.
fn recipe(method: &str, route: &str, f: &Fixture) -> (String, Option<(&'static str, String)>) {
    let task_body = json!({"template": "shop/checkout", "context": {"order_id": 1}}).to_string();
    match (method, route) {
        ("post", "/v1/templates") => (route.into(), Some(("application/yaml", CHECKOUT.into()))),
        ("get", "/v1/templates") => (route.into(), None),
        ("get", "/v1/templates/{namespace}/{name}") => ("/v1/templates/shop/checkout".into(), None),
        ("post", "/v1/tasks") => (route.into(), Some(("application/json", task_body))),
        ("post", "/v1/tasks/batch") => (
            route.into(),
            Some(("application/json", format!("{{\"tasks\": [{task_body}]}}"))),
        ),
        ("get", "/v1/tasks") => (route.into(), None),
        ("get", "/v1/tasks/{id}") => (format!("/v1/tasks/{}", f.task), None),
        ("get", "/v1/tasks/{id}/wait") => (format!("/v1/tasks/{}/wait?timeout_ms=0", f.task), None),
        ("get", "/v1/tasks/{id}/history") => (format!("/v1/tasks/{}/history", f.task), None),
        ("post", "/v1/tasks/{id}/cancel") => (format!("/v1/tasks/{}/cancel", f.task), None),
        ("post", "/v1/tasks/{id}/retry") => (format!("/v1/tasks/{}/retry", f.task), None),
        ("get", "/v1/steps/{id}") => (format!("/v1/steps/{}", f.step), None),
        ("post", "/v1/steps/{id}/resolve") => (format!("/v1/steps/{}/resolve", f.step), None),
        ("post", "/v1/worker/claim") => (
            route.into(),
            Some((
                "application/json",
                json!({"queue": "shop", "worker": "matrix"}).to_string(),
            )),
        ),
        ("post", "/v1/worker/steps/{id}/heartbeat")
        | ("post", "/v1/worker/steps/{id}/complete") => (
            route.replace("{id}", &f.queued_step.to_string()),
            Some((
                "application/json",
                json!({"lease_token": f.lease_token}).to_string(),
            )),
        ),
        ("post", "/v1/worker/steps/{id}/fail") => (
            route.replace("{id}", &f.queued_step.to_string()),
            Some((
                "application/json",
                json!({"lease_token": f.lease_token, "error": "matrix"}).to_string(),
            )),
        ),
        ("get", "/v1/analytics/throughput") => (
            "/v1/analytics/throughput?since=2026-01-01T00:00:00Z&bucket=1h".into(),
            None,
        ),
        ("get", "/v1/analytics/steps") => (
            "/v1/analytics/steps?template=shop/checkout&since=2026-01-01T00:00:00Z".into(),
            None,
        ),
        ("get", "/v1/analytics/slowest-tasks") => (
            "/v1/analytics/slowest-tasks?since=2026-01-01T00:00:00Z".into(),
            None,
        ),
        _ => panic!("no request for {method} {route} in the auth matrix: add one to `recipe`"),
    }
}

/// Routes that list what the token may see instead of refusing a namespace-limited token.
const LISTS: [(&str, &str); 2] = [("get", "/v1/templates"), ("get", "/v1/tasks")];

/// Routes about every namespace at once: a namespace-limited token is refused whatever it names.
const EVERY_NAMESPACE: [(&str, &str); 2] = [
    ("get", "/v1/analytics/throughput"),
    ("get", "/v1/analytics/slowest-tasks"),
];

fn build(
    method: &str,
    path: &str,
    body: &Option<(&'static str, String)>,
    token: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method"))
        .uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some((content_type, text)) => builder
            .header(header::CONTENT_TYPE, *content_type)
            .body(Body::from(text.clone())),
        None => builder.body(Body::empty()),
    }
    .expect("a request")
}

/// Every permission but `scope` (and `admin`, which holds them all).
fn all_but(scope: &str) -> Vec<&'static str> {
    [
        "templates:read",
        "templates:write",
        "tasks:read",
        "tasks:write",
        "analytics:read",
        "workers",
    ]
    .into_iter()
    .filter(|s| *s != scope)
    .collect()
}

async fn every_route_refuses_missing_and_wrong_tokens(api: Api) {
    api.register(CHECKOUT).await;
    api.register(OTHER).await;
    let task = api.create("shop/checkout", json!({"order_id": 1})).await;
    api.create("other/job", json!({})).await;
    let step = api.get(&format!("/v1/tasks/{task}")).await.json["steps"][0]["id"]
        .as_i64()
        .expect("a step");
    api.register(SHOP_QUEUE).await;
    api.create("shop/queued", json!({})).await;
    let claimed = api
        .post(
            "/v1/worker/claim",
            json!({"queue": "shop", "worker": "matrix"}),
        )
        .await;
    let queued = &claimed.json["steps"][0];
    let fixture = Fixture {
        task,
        step,
        queued_step: queued["step_id"].as_i64().expect("a claimed step"),
        lease_token: queued["lease_token"]
            .as_str()
            .expect("a lease token")
            .to_owned(),
    };

    let document: Value =
        serde_json::from_str(&tasker_server::openapi::json()).expect("the document is JSON");
    let mut checked = 0;
    for (route, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let what = format!("{method} {route}");
            let scopes: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let (path, body) = if route.starts_with("/v1/") {
                recipe(method, route, &fixture)
            } else {
                (route.clone(), None)
            };
            if !route.starts_with("/v1/") {
                assert!(scopes.is_empty(), "{what} needs no token");
                let reply = api.send(build(method, &path, &body, None)).await;
                assert!(
                    !matches!(reply.status.as_u16(), 401 | 403),
                    "{what}: {reply:?}"
                );
                continue;
            }
            assert_eq!(scopes.len(), 1, "{what} names the one scope it needs");
            let scope = scopes[0];

            let reply = api.send(build(method, &path, &body, None)).await;
            reply.problem(401, "unauthenticated");
            assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer", "{what}");

            let wrong_scope = api.token(&all_but(scope)).await;
            let reply = api
                .send(build(method, &path, &body, Some(&wrong_scope)))
                .await;
            reply.problem(403, "forbidden");

            let other_namespace = api.token(&[&format!("{scope}@other")]).await;
            let reply = api
                .send(build(method, &path, &body, Some(&other_namespace)))
                .await;
            if LISTS.contains(&(method.as_str(), route.as_str())) {
                assert_eq!(reply.status, StatusCode::OK, "{what}: {reply:?}");
                assert!(
                    !reply.text.contains("\"shop\""),
                    "{what} shows only namespace other: {reply:?}"
                );
            } else {
                reply.problem(403, "forbidden");
            }

            let right = if EVERY_NAMESPACE.contains(&(method.as_str(), route.as_str())) {
                api.token(&[scope]).await
            } else {
                api.token(&[&format!("{scope}@shop")]).await
            };
            let reply = api.send(build(method, &path, &body, Some(&right))).await;
            assert!(
                !matches!(reply.status.as_u16(), 401 | 403) && reply.status.as_u16() < 500,
                "{what} with {scope}@shop: {reply:?}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 17,
        "only {checked} secured routes in the document"
    );
}

async fn tokens_that_do_not_authenticate(api: Api) {
    let (token, record) =
        tasker_server::auth::issue_token(&api.engine, "soon-gone", &["tasks:read".to_owned()])
            .await
            .expect("token");
    let ok = api
        .call_as(Some(&token), Method::GET, "/v1/tasks", None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    tasker_server::auth::revoke_token(&api.engine, record.id)
        .await
        .expect("revoke");
    // A found token is trusted for a second without reading it again; then it is read, and
    // its revocation seen.
    tokio::time::sleep(
        tasker_server::auth::cache::TOKEN_TTL + std::time::Duration::from_millis(100),
    )
    .await;
    let revoked = api
        .call_as(Some(&token), Method::GET, "/v1/tasks", None)
        .await;
    revoked.problem(401, "unauthenticated");

    let forged = format!("{}x", &token[..token.len() - 1]);
    let reply = api
        .call_as(Some(&forged), Method::GET, "/v1/tasks", None)
        .await;
    reply.problem(401, "unauthenticated");
    for header_value in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        &api.admin,
        "Token abc",
    ] {
        let request = Request::get("/v1/tasks")
            .header(header::AUTHORIZATION, header_value)
            .body(Body::empty())
            .expect("a request");
        let reply = api.send(request).await;
        assert_eq!(
            reply.problem(401, "unauthenticated")["parameter"],
            "Authorization",
            "{header_value:?}"
        );
    }
    let request = Request::get("/v1/tasks")
        .header(header::AUTHORIZATION, format!("bearer {}", api.admin))
        .body(Body::empty())
        .expect("a request");
    assert_eq!(api.send(request).await.status, StatusCode::OK);
}

async fn namespace_limited_lists(api: Api) {
    api.register(CHECKOUT).await;
    api.register(OTHER).await;
    let shop = api.create("shop/checkout", json!({"order_id": 1})).await;
    let other = api.create("other/job", json!({})).await;
    let ids = |reply: &Reply| -> Vec<i64> {
        reply.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["id"].as_i64())
            .collect()
    };
    let one = api.token(&["tasks:read@shop"]).await;
    let reply = api
        .call_as(Some(&one), Method::GET, "/v1/tasks", None)
        .await;
    assert_eq!(ids(&reply), vec![shop]);
    let reply = api
        .call_as(Some(&one), Method::GET, "/v1/tasks?namespace=other", None)
        .await;
    reply.problem(403, "forbidden");

    let two = api.token(&["tasks:read@shop", "tasks:read@other"]).await;
    let reply = api
        .call_as(Some(&two), Method::GET, "/v1/tasks", None)
        .await;
    reply.problem(403, "forbidden");
    let reply = api
        .call_as(Some(&two), Method::GET, "/v1/tasks?namespace=other", None)
        .await;
    assert_eq!(ids(&reply), vec![other]);

    let templates = api.token(&["templates:read@other"]).await;
    let reply = api
        .call_as(Some(&templates), Method::GET, "/v1/templates", None)
        .await;
    let names: Vec<&str> = reply.json["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .filter_map(|t| t["namespace"].as_str())
        .collect();
    assert_eq!(names, ["other"]);

    // The 403 for a task elsewhere does not say where it is.
    let reply = api
        .call_as(Some(&one), Method::GET, &format!("/v1/tasks/{other}"), None)
        .await;
    let detail = reply.problem(403, "forbidden")["detail"]
        .as_str()
        .unwrap_or_default();
    assert!(!detail.contains("other"), "{detail}");
}

on_every_backend!(
    every_route_refuses_missing_and_wrong_tokens,
    tokens_that_do_not_authenticate,
    namespace_limited_lists,
);

async fn open_mode_needs_no_token(backend: Backend) {
    let Some(api) = Api::with(backend, "open_mode_needs_no_token", |state| {
        state.with_auth(AuthMode::Open)
    })
    .await
    else {
        return;
    };
    api.register(CHECKOUT).await;
    let id = api.create("shop/checkout", json!({"order_id": 5})).await;
    for (method, path) in [
        (Method::GET, "/v1/tasks".to_owned()),
        (Method::GET, format!("/v1/tasks/{id}")),
        (Method::POST, format!("/v1/tasks/{id}/cancel")),
    ] {
        let reply = api.call_as(None, method, &path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
    }
    // No token, no actor.
    let history = api.get(&format!("/v1/tasks/{id}/history")).await;
    let cancelled = history.json["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|r| r["subject"] == "task" && r["to"] == "cancelled")
        .cloned()
        .expect("the task's cancellation");
    assert_eq!(cancelled["metadata"].get("actor"), None, "{cancelled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_open_mode_needs_no_token() {
    open_mode_needs_no_token(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_open_mode_needs_no_token() {
    open_mode_needs_no_token(Backend::Postgres).await;
}
