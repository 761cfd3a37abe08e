//! Bad input of every kind gets a problem document naming what is wrong, never a 5xx, and
//! nothing is written.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use common::templates::{CHECKOUT, OTHER};
use common::{Api, Backend, all_task_ids};
use serde_json::json;
use tasker_server::Limits;

fn raw(
    api: &Api,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", api.admin));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).expect("a request")
}

async fn malformed_bodies(api: Api) {
    api.register(CHECKOUT).await;
    let json = Some("application/json");
    let cases: [(&str, &str, Option<&str>); 7] = [
        ("not JSON", "{\"template\": ", None),
        (
            "trailing garbage",
            "{\"template\": \"shop/checkout\"} }",
            None,
        ),
        ("a wrong type", "{\"template\": 42}", Some("/template")),
        ("a missing field", "{\"context\": {}}", None),
        (
            "an unknown field",
            "{\"template\": \"shop/checkout\", \"priority\": 1}",
            Some("/priority"),
        ),
        ("an array", "[]", None),
        ("nothing", "", None),
    ];
    for (what, body, pointer) in cases {
        let reply = api
            .send(raw(&api, Method::POST, "/v1/tasks", json, body))
            .await;
        let problem = reply.problem(400, "validation");
        if let Some(pointer) = pointer {
            assert_eq!(problem["pointer"], pointer, "{what}: {reply:?}");
        }
    }
    let reply = api
        .send(raw(
            &api,
            Method::POST,
            "/v1/tasks",
            json,
            vec![0xff, 0xfe, b'{'],
        ))
        .await;
    reply.problem(400, "validation");

    for content_type in [Some("text/plain"), Some("application/yaml"), None] {
        let reply = api
            .send(raw(
                &api,
                Method::POST,
                "/v1/tasks",
                content_type,
                "{\"template\": \"shop/checkout\"}",
            ))
            .await;
        assert_eq!(
            reply.problem(415, "unsupported-media-type")["parameter"],
            "Content-Type",
            "{content_type:?}"
        );
    }
    // A JSON flavour is JSON.
    let reply = api
        .send(raw(
            &api,
            Method::POST,
            "/v1/tasks",
            Some("application/merge-patch+json; charset=utf-8"),
            "{\"template\": \"shop/checkout\", \"context\": {\"order_id\": 1}}",
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{reply:?}");
}

async fn huge_bodies_are_refused(api: Api) {
    api.register(CHECKOUT).await;
    let before = all_task_ids(&api.engine).await;
    let big = format!(
        "{{\"template\": \"shop/checkout\", \"context\": {{\"order_id\": 1, \"pad\": \"{}\"}}}}",
        "x".repeat(1024 * 1024 + 1)
    );
    let reply = api
        .send(raw(
            &api,
            Method::POST,
            "/v1/tasks",
            Some("application/json"),
            big.clone(),
        ))
        .await;
    reply.problem(413, "too-large");
    let reply = api
        .send(raw(
            &api,
            Method::POST,
            "/v1/tasks/batch",
            Some("application/json"),
            big,
        ))
        .await;
    reply.problem(413, "too-large");
    let yaml = format!("{CHECKOUT}\n# {}\n", "x".repeat(1024 * 1024));
    let reply = api
        .send(raw(
            &api,
            Method::POST,
            "/v1/templates",
            Some("application/yaml"),
            yaml,
        ))
        .await;
    reply.problem(413, "too-large");
    assert_eq!(all_task_ids(&api.engine).await, before);
}

/// With a body limit above the context limit, a context that is too large to store is a 413
/// naming the context.
async fn contexts_larger_than_the_engine_stores(backend: Backend) {
    let Some(api) = Api::with(backend, "contexts_larger_than_the_engine_stores", |state| {
        state.with_limits(Limits {
            max_body: 4 * 1024 * 1024,
        })
    })
    .await
    else {
        return;
    };
    api.register(CHECKOUT).await;
    let big = json!({"template": "shop/checkout", "context": {"order_id": 1, "pad": "x".repeat(1024 * 1024 + 1)}});
    let reply = api.post("/v1/tasks", big).await;
    assert_eq!(reply.problem(413, "too-large")["pointer"], "/context");
    assert!(all_task_ids(&api.engine).await.is_empty());
}

async fn unknown_ids_and_paths(api: Api) {
    for (method, path) in [
        (Method::GET, "/v1/tasks/424242"),
        (Method::GET, "/v1/tasks/424242/wait?timeout_ms=0"),
        (Method::GET, "/v1/tasks/424242/history"),
        (Method::POST, "/v1/tasks/424242/cancel"),
        (Method::POST, "/v1/tasks/424242/retry"),
        (Method::GET, "/v1/steps/424242"),
        (Method::POST, "/v1/steps/424242/resolve"),
        (Method::GET, "/v1/tasks/-1"),
        (Method::GET, "/v1/templates/nope/nothing"),
        (Method::GET, "/v1/nothing"),
        (Method::GET, "/"),
    ] {
        let reply = api.call(method.clone(), path, None).await;
        reply.problem(404, "not-found");
    }
    for (path, parameter) in [
        ("/v1/tasks/abc", "id"),
        ("/v1/tasks/99999999999999999999", "id"),
        ("/v1/steps/1.5", "id"),
        ("/v1/tasks/x/history", "id"),
    ] {
        let reply = api.get(path).await;
        assert_eq!(
            reply.problem(400, "validation")["parameter"],
            parameter,
            "{path}"
        );
    }
    for (method, path) in [
        (Method::DELETE, "/v1/tasks"),
        (Method::GET, "/v1/tasks/batch"),
        (Method::PUT, "/v1/templates"),
        (Method::GET, "/v1/tasks/1/cancel"),
    ] {
        let reply = api.call(method, path, None).await;
        reply.problem(405, "method-not-allowed");
    }
}

async fn list_parameters_are_checked(api: Api) {
    api.register(OTHER).await;
    api.create("other/job", json!({})).await;
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=1001", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("limit=ten", "limit"),
        ("cursor=%21%21", "cursor"),
        ("cursor=AAAAAAAAAAB", "cursor"),
        ("cursor=", "cursor"),
        ("state=sleeping", "state"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-13-01T00:00:00Z", "created_before"),
        ("template=a/b/c", "template"),
        ("template=", "template"),
        ("namespace=a%00b", "namespace"),
        ("template=a%00b", "template"),
        ("sort=id", "sort"),
    ] {
        let reply = api.get(&format!("/v1/tasks?{query}")).await;
        assert_eq!(
            reply.problem(400, "validation")["parameter"],
            parameter,
            "{query}: {reply:?}"
        );
    }
    // PostgreSQL takes no NUL character in text: refused as bad input on both backends.
    let reply = api
        .post("/v1/tasks", json!({"template": "other\u{0}/job"}))
        .await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/template");
    let reply = api
        .post(
            "/v1/tasks/batch",
            json!({"tasks": [{"template": "other/job\u{0}"}]}),
        )
        .await;
    assert_eq!(
        reply.problem(400, "validation")["pointer"],
        "/tasks/0/template"
    );
    for (path, parameter) in [
        ("/v1/templates/a%00b/job", "namespace"),
        ("/v1/templates/other/j%00b", "name"),
        ("/v1/templates/other/job?version=1%00", "version"),
    ] {
        let reply = api.get(path).await;
        assert_eq!(
            reply.problem(400, "validation")["parameter"],
            parameter,
            "{path}"
        );
    }
    let page = api.get("/v1/tasks?limit=1000").await;
    assert_eq!(page.status.as_u16(), 200, "{page:?}");
    assert_eq!(page.json["tasks"].as_array().map(Vec::len), Some(1));
}

on_every_backend!(
    malformed_bodies,
    huge_bodies_are_refused,
    unknown_ids_and_paths,
    list_parameters_are_checked,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_contexts_larger_than_the_engine_stores() {
    contexts_larger_than_the_engine_stores(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_contexts_larger_than_the_engine_stores() {
    contexts_larger_than_the_engine_stores(Backend::Postgres).await;
}
