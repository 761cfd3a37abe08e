//! `/v1/tasks` and `/v1/steps`: create (one and in batches), list, show, wait, history, and the
//! operator actions.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::templates::{BROKEN, CHECKOUT, OTHER, STRICT, sleeper};
use common::{Api, all_task_ids, run_until_idle};
use serde_json::{Value, json};
use std::time::Duration;

fn create_request(token: &str, body: Value, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::post("/v1/tasks")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Body::from(body.to_string()))
        .expect("a request")
}

async fn create_show_and_the_cli_document_agree(api: Api) {
    api.register(CHECKOUT).await;
    let reply = api
        .post(
            "/v1/tasks",
            json!({"template": "shop/checkout", "context": {"order_id": 7}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["created"], true);
    let task = &reply.json["task"];
    assert_eq!(task["state"], "pending");
    assert_eq!(task["context"], json!({"order_id": 7}));
    let id = task["id"].as_i64().expect("id");

    let show = api.get(&format!("/v1/tasks/{id}")).await;
    assert_eq!(show.status, StatusCode::OK, "{show:?}");
    let steps = show.json["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["name"], "charge");
    assert_eq!(steps[0]["readiness"]["ready_for_execution"], true);
    // No orchestrator runs beside this router, so nobody advertised `noop`.
    assert_eq!(
        steps[0]["explanation"],
        r#"ready, but no worker has handler "noop""#
    );
    assert_eq!(steps[1]["explanation"], "waiting for charge");
    assert_eq!(show.json["execution"]["total_steps"], 2);
    // Exactly what `tasker --json task show` prints (the same typed document).
    let document = api.engine.task_document(id).await.expect("document");
    assert_eq!(show.json, serde_json::to_value(&document).expect("json"));

    // Without a context, the context is {} (and this schema wants an order id).
    let reply = api
        .post("/v1/tasks", json!({"template": "shop/checkout"}))
        .await;
    assert_eq!(
        reply.problem(422, "context-invalid")["pointer"],
        "/context",
        "{reply:?}"
    );
}

async fn bad_contexts_and_templates_are_named(api: Api) {
    api.register(CHECKOUT).await;
    let reply = api
        .post(
            "/v1/tasks",
            json!({"template": "shop/checkout", "context": {"order_id": 0}}),
        )
        .await;
    let problem = reply.problem(422, "context-invalid");
    assert_eq!(problem["pointer"], "/context/order_id");
    assert_eq!(problem["errors"][0]["pointer"], "/context/order_id");

    let reply = api
        .post(
            "/v1/tasks",
            json!({"template": "shop/nothing", "context": {}}),
        )
        .await;
    assert_eq!(reply.problem(404, "not-found")["pointer"], "/template");
    let reply = api
        .post("/v1/tasks", json!({"template": "no-slash", "context": {}}))
        .await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/template");
    let reply = api
        .post(
            "/v1/tasks",
            json!({"template": "shop/checkout", "context": {"order_id": 1, "email": "a\u{0}b"}}),
        )
        .await;
    assert_eq!(
        reply.problem(422, "context-invalid")["pointer"],
        "/context/email"
    );
    assert!(all_task_ids(&api.engine).await.is_empty());
}

async fn idempotency_key_and_traceparent_headers(api: Api) {
    api.register(CHECKOUT).await;
    let body = json!({"template": "shop/checkout", "context": {"order_id": 1}});
    let first = api
        .send(create_request(
            &api.admin,
            body.clone(),
            &[("Idempotency-Key", "order-1")],
        ))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let again = api
        .send(create_request(
            &api.admin,
            body,
            &[("idempotency-key", "order-1")],
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.json["created"], false);
    assert_eq!(again.json["matched"], "idempotency_key");
    assert_eq!(again.json["task"]["id"], first.json["task"]["id"]);
    assert_eq!(first.json.get("matched"), None, "{first:?}");

    let other = json!({"template": "shop/checkout", "context": {"order_id": 2}});
    let conflict = api
        .send(create_request(
            &api.admin,
            other.clone(),
            &[("Idempotency-Key", "order-1")],
        ))
        .await;
    assert_eq!(
        conflict.problem(409, "conflict")["parameter"],
        "Idempotency-Key"
    );
    let too_long = "k".repeat(256);
    let reply = api
        .send(create_request(
            &api.admin,
            other.clone(),
            &[("Idempotency-Key", &too_long)],
        ))
        .await;
    assert_eq!(
        reply.problem(400, "validation")["parameter"],
        "Idempotency-Key"
    );

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = api
        .send(create_request(
            &api.admin,
            other.clone(),
            &[("traceparent", traceparent)],
        ))
        .await;
    assert_eq!(traced.status, StatusCode::CREATED, "{traced:?}");
    let id = traced.json["task"]["id"].as_i64().expect("id");
    let stored = api.engine.task(id).await.expect("task");
    assert_eq!(stored.traceparent.as_deref(), Some(traceparent));

    let before = all_task_ids(&api.engine).await;
    let reply = api
        .send(create_request(
            &api.admin,
            other,
            &[("traceparent", "00-nope-01")],
        ))
        .await;
    assert_eq!(reply.problem(400, "validation")["parameter"], "traceparent");
    assert_eq!(all_task_ids(&api.engine).await, before);
}

/// A template with a strict identity: the same context names the same task, without a key, and
/// the answer says the identity matched.
async fn identity_names_the_existing_task(api: Api) {
    api.register(STRICT).await;
    let body = json!({"template": "shop/refund", "context": {"order_id": 5}});
    let first = api
        .send(create_request(&api.admin, body.clone(), &[]))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.json["created"], true);
    assert_eq!(first.json.get("matched"), None, "{first:?}");
    let again = api.send(create_request(&api.admin, body, &[])).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.json["created"], false);
    assert_eq!(again.json["matched"], "identity");
    assert_eq!(again.json["task"]["id"], first.json["task"]["id"]);
    assert_eq!(again.json["task"]["context"], json!({"order_id": 5}));

    // Another context is another task.
    let other = api
        .send(create_request(
            &api.admin,
            json!({"template": "shop/refund", "context": {"order_id": 6}}),
            &[],
        ))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{other:?}");
    assert_ne!(other.json["task"]["id"], first.json["task"]["id"]);

    // A batch says the same for each item.
    let batch = json!({"tasks": [
        {"template": "shop/refund", "context": {"order_id": 5}},
        {"template": "shop/refund", "context": {"order_id": 7}},
    ]});
    let reply = api.post("/v1/tasks/batch", batch).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["tasks"][0]["id"], first.json["task"]["id"]);
    assert_eq!(reply.json["tasks"][0]["created"], false);
    assert_eq!(reply.json["tasks"][0]["matched"], "identity");
    assert_eq!(reply.json["tasks"][1]["created"], true);
    assert_eq!(reply.json["tasks"][1].get("matched"), None);
    assert_eq!(all_task_ids(&api.engine).await.len(), 3);
}

async fn lists_page_with_cursors_and_filters(api: Api) {
    api.register(CHECKOUT).await;
    api.register(OTHER).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(api.create("shop/checkout", json!({"order_id": n})).await);
    }
    let other = api.create("other/job", json!({})).await;
    ids.push(other);
    ids.reverse();

    let mut seen = Vec::new();
    let mut path = "/v1/tasks?limit=2".to_owned();
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let tasks = page.json["tasks"].as_array().expect("tasks");
        assert!(tasks.len() <= 2);
        assert!(tasks.iter().all(|t| t["context"].is_null()));
        seen.extend(tasks.iter().map(|t| t["id"].as_i64().expect("id")));
        match page.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/tasks?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let ids_of = |reply: &common::Reply| -> Vec<i64> {
        reply.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| t["id"].as_i64().expect("id"))
            .collect()
    };
    let shop = api.get("/v1/tasks?namespace=shop").await;
    assert_eq!(ids_of(&shop), ids[1..].to_vec());
    assert_eq!(shop.json["next_cursor"], Value::Null);
    let by_template = api.get("/v1/tasks?template=other/job").await;
    assert_eq!(ids_of(&by_template), vec![other]);
    let elsewhere = api.get("/v1/tasks?namespace=shop&template=other/job").await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{elsewhere:?}");
    assert!(ids_of(&elsewhere).is_empty());
    let by_name = api.get("/v1/tasks?namespace=shop&template=checkout").await;
    assert_eq!(ids_of(&by_name).len(), 5);
    api.call(Method::POST, &format!("/v1/tasks/{}/cancel", ids[2]), None)
        .await;
    let cancelled = api.get("/v1/tasks?state=cancelled").await;
    assert_eq!(ids_of(&cancelled), vec![ids[2]]);
    let later = api
        .get("/v1/tasks?created_after=2999-01-01T00:00:00Z")
        .await;
    assert!(ids_of(&later).is_empty());
    let earlier = api
        .get("/v1/tasks?created_before=2999-01-01T00:00:00%2B01:00&limit=1000")
        .await;
    assert_eq!(ids_of(&earlier), ids);
}

async fn wait_answers_when_the_task_finishes(api: Api) {
    api.register(&sleeper(1)).await;
    let id = api.create("shop/sleeper", json!({})).await;

    // At once with a zero time-out: the task is as it is.
    let now = api.get(&format!("/v1/tasks/{id}/wait?timeout_ms=0")).await;
    assert_eq!(now.status, StatusCode::OK, "{now:?}");
    assert_eq!(now.json["task"]["state"], "pending");

    // A long poll of a minute answers when the task is cancelled, long before its time-out.
    let waiting = {
        let router = api.router.clone();
        let request = common::request(
            Some(&api.admin),
            Method::GET,
            &format!("/v1/tasks/{id}/wait?timeout_ms=60000"),
            None,
        );
        tokio::spawn(async move {
            use tower::ServiceExt;
            common::Reply::read(router.oneshot(request).await.expect("answer")).await
        })
    };
    api.call(Method::POST, &format!("/v1/tasks/{id}/cancel"), None)
        .await;
    let reply = tokio::time::timeout(Duration::from_secs(45), waiting)
        .await
        .expect("the long poll answered before its time-out")
        .expect("the request ran");
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["task"]["state"], "cancelled");

    // And when the orchestrator completes one.
    let id = api.create("shop/sleeper", json!({})).await;
    let orchestrator = api
        .engine
        .orchestrator(tasker::OrchestratorConfig {
            poll_interval: Duration::from_millis(20),
            ..tasker::OrchestratorConfig::default()
        })
        .spawn();
    let done = tokio::time::timeout(
        Duration::from_secs(45),
        api.get(&format!("/v1/tasks/{id}/wait?timeout_ms=60000")),
    )
    .await
    .expect("the long poll answered before its time-out");
    orchestrator.shutdown().await.expect("shutdown");
    assert_eq!(done.json["task"]["state"], "complete", "{done:?}");
    assert_eq!(done.json["steps"][0]["results"], json!({"slept_ms": 1}));

    for bad in ["-1", "60001", "soon"] {
        let reply = api
            .get(&format!("/v1/tasks/{id}/wait?timeout_ms={bad}"))
            .await;
        assert_eq!(reply.problem(400, "validation")["parameter"], "timeout_ms");
    }
    api.get("/v1/tasks/999999/wait?timeout_ms=0")
        .await
        .problem(404, "not-found");
}

async fn cancel_records_the_token_in_the_history(api: Api) {
    api.register(CHECKOUT).await;
    let id = api.create("shop/checkout", json!({"order_id": 3})).await;
    let (operator, record) = tasker_server::auth::issue_token(
        &api.engine,
        "on-call",
        &["tasks:write@shop".to_owned(), "tasks:read@shop".to_owned()],
    )
    .await
    .expect("token");
    let cancelled = api
        .call_as(
            Some(&operator),
            Method::POST,
            &format!("/v1/tasks/{id}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.json["task"]["state"], "cancelled");

    let history = api
        .call_as(
            Some(&operator),
            Method::GET,
            &format!("/v1/tasks/{id}/history"),
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{history:?}");
    let rows = history.json["history"].as_array().expect("history");
    let actor = json!({"token_id": record.id, "token_name": "on-call"});
    let by_operator: Vec<&Value> = rows.iter().filter(|r| r["to"] == "cancelled").collect();
    // The task and both of its pending steps were cancelled, each by the token.
    assert_eq!(by_operator.len(), 3, "{rows:?}");
    assert!(
        by_operator.iter().all(|r| r["metadata"]["actor"] == actor),
        "{rows:?}"
    );
    assert_eq!(rows[0]["subject"], "task");
    assert_eq!(rows[0]["from"], Value::Null);

    let again = api
        .call(Method::POST, &format!("/v1/tasks/{id}/cancel"), None)
        .await;
    again.problem(409, "invalid-transition");
}

async fn retry_resolve_and_the_last_error_of_a_step(api: Api) {
    api.register(BROKEN).await;
    let id = api.create("shop/broken", json!({})).await;
    let retry_too_soon = api
        .call(Method::POST, &format!("/v1/tasks/{id}/retry"), None)
        .await;
    retry_too_soon.problem(409, "invalid-transition");
    run_until_idle(&api.engine).await;

    let show = api.get(&format!("/v1/tasks/{id}")).await;
    assert_eq!(show.json["task"]["state"], "error");
    let explode = show.json["steps"][0]["id"].as_i64().expect("step id");
    let after = show.json["steps"][1]["id"].as_i64().expect("step id");

    let step = api.get(&format!("/v1/steps/{explode}")).await;
    assert_eq!(step.status, StatusCode::OK, "{step:?}");
    assert_eq!(step.json["name"], "explode");
    assert_eq!(step.json["state"], "error");
    assert_eq!(step.json["task"]["id"], id);
    assert_eq!(step.json["task"]["namespace"], "shop");
    assert_eq!(step.json["readiness"]["retry_eligible"], false);
    let error = step.json["last_error"]["message"]
        .as_str()
        .expect("last error");
    assert!(error.contains("failing permanently"), "{error}");
    assert_eq!(step.json["last_error"]["kind"], "permanent");
    assert_eq!(step.json["last_error"], show.json["steps"][0]["last_error"]);
    let fresh = api.get(&format!("/v1/steps/{after}")).await;
    assert_eq!(fresh.json["last_error"], Value::Null);

    // The operator actions are done with a token of their own, which the history records.
    let (operator, record) = tasker_server::auth::issue_token(
        &api.engine,
        "on-call",
        &["tasks:write@shop".to_owned(), "tasks:read@shop".to_owned()],
    )
    .await
    .expect("token");
    let actor = json!({"token_id": record.id, "token_name": "on-call"});
    let retried = api
        .call_as(
            Some(&operator),
            Method::POST,
            &format!("/v1/tasks/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{retried:?}");
    assert_eq!(retried.json["task"]["steps_failed"], 0);
    run_until_idle(&api.engine).await;
    assert_eq!(
        api.get(&format!("/v1/tasks/{id}")).await.json["task"]["state"],
        "error"
    );

    let resolved = api
        .call_as(
            Some(&operator),
            Method::POST,
            &format!("/v1/steps/{explode}/resolve"),
            None,
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{resolved:?}");
    assert_eq!(resolved.json["step"]["state"], "resolved_manually");
    run_until_idle(&api.engine).await;
    let done = api.get(&format!("/v1/tasks/{id}")).await;
    assert_eq!(done.json["task"]["state"], "complete");

    let history = api.get(&format!("/v1/tasks/{id}/history")).await;
    assert_eq!(history.status, StatusCode::OK, "{history:?}");
    let rows = history.json["history"].as_array().expect("history");
    // The retry moved the task out of `error` and its failed step back to `pending`.
    let retry: Vec<&Value> = rows
        .iter()
        .filter(|r| r["from"] == "error" && r["metadata"]["task_retry"] == true)
        .collect();
    assert_eq!(retry.len(), 2, "{rows:?}");
    assert_eq!(retry[0]["subject"], "task", "{rows:?}");
    assert_eq!(retry[1]["step_id"], explode, "{rows:?}");
    assert!(
        retry.iter().all(|r| r["metadata"]["actor"] == actor),
        "{rows:?}"
    );
    let resolve: Vec<&Value> = rows
        .iter()
        .filter(|r| r["to"] == "resolved_manually")
        .collect();
    assert_eq!(resolve.len(), 1, "{rows:?}");
    assert_eq!(resolve[0]["step_id"], explode, "{rows:?}");
    assert_eq!(resolve[0]["metadata"]["actor"], actor, "{rows:?}");
    // Transitions of the orchestrator carry no actor.
    assert!(
        rows.iter()
            .filter(|r| r["to"] == "complete")
            .all(|r| r["metadata"].get("actor").is_none()),
        "{rows:?}"
    );

    let again = api
        .call(Method::POST, &format!("/v1/steps/{explode}/resolve"), None)
        .await;
    again.problem(409, "invalid-transition");
    api.call(Method::POST, &format!("/v1/tasks/{id}/retry"), None)
        .await
        .problem(409, "invalid-transition");
    api.call(Method::POST, &format!("/v1/tasks/{id}/cancel"), None)
        .await
        .problem(409, "invalid-transition");
}

async fn batches_are_all_or_nothing(api: Api) {
    api.register(CHECKOUT).await;
    api.register(OTHER).await;
    let batch = json!({"tasks": [
        {"template": "shop/checkout", "context": {"order_id": 1}, "idempotency_key": "a"},
        {"template": "other/job"},
        {"template": "shop/checkout@1.0.0", "context": {"order_id": 2}, "idempotency_key": "b"},
    ]});
    let created = api.post("/v1/tasks/batch", batch.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let tasks = created.json["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 3);
    assert!(tasks.iter().all(|t| t["created"] == true));
    assert_eq!(all_task_ids(&api.engine).await.len(), 3);

    // The same keys again: the two keyed tasks exist, the unkeyed one is new.
    let again = api.post("/v1/tasks/batch", batch).await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    assert_eq!(again.json["tasks"][0]["created"], false);
    assert_eq!(again.json["tasks"][0]["matched"], "idempotency_key");
    assert_eq!(again.json["tasks"][0]["id"], tasks[0]["id"]);
    assert_eq!(again.json["tasks"][1]["created"], true);
    assert_eq!(again.json["tasks"][1].get("matched"), None);
    let keyed_only = json!({"tasks": [
        {"template": "shop/checkout", "context": {"order_id": 1}, "idempotency_key": "a"},
    ]});
    let existing = api.post("/v1/tasks/batch", keyed_only).await;
    assert_eq!(existing.status, StatusCode::OK, "{existing:?}");

    let before = all_task_ids(&api.engine).await;
    let bad_context = json!({"tasks": [
        {"template": "shop/checkout", "context": {"order_id": 10}},
        {"template": "other/job"},
        {"template": "shop/checkout", "context": {"order_id": "eleven"}},
    ]});
    let reply = api.post("/v1/tasks/batch", bad_context).await;
    assert_eq!(
        reply.problem(422, "context-invalid")["pointer"],
        "/tasks/2/context/order_id"
    );
    let bad_template = json!({"tasks": [
        {"template": "other/job"},
        {"template": "shop/missing"},
    ]});
    let reply = api.post("/v1/tasks/batch", bad_template).await;
    assert_eq!(
        reply.problem(404, "not-found")["pointer"],
        "/tasks/1/template"
    );
    let wrong_type = json!({"tasks": [{"template": "other/job"}, {"template": 5}]});
    let reply = api.post("/v1/tasks/batch", wrong_type).await;
    assert_eq!(
        reply.problem(400, "validation")["pointer"],
        "/tasks/1/template"
    );
    let reply = api.post("/v1/tasks/batch", json!({"tasks": []})).await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/tasks");
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"template": "other/job"}))
        .collect();
    let reply = api
        .post("/v1/tasks/batch", json!({ "tasks": too_many }))
        .await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/tasks");
    assert_eq!(
        all_task_ids(&api.engine).await,
        before,
        "nothing was written"
    );

    // A key reused with another context is found in the creating transaction: the answer names
    // the item, and none of the batch's tasks, before or after it, is written.
    let conflict = json!({"tasks": [
        {"template": "other/job"},
        {"template": "shop/checkout", "context": {"order_id": 99}, "idempotency_key": "a"},
        {"template": "other/job"},
    ]});
    let reply = api.post("/v1/tasks/batch", conflict).await;
    assert_eq!(
        reply.problem(409, "conflict")["pointer"],
        "/tasks/1/idempotency_key"
    );
    assert_eq!(all_task_ids(&api.engine).await, before);

    let full: Vec<Value> = (0..1000)
        .map(|_| json!({"template": "other/job"}))
        .collect();
    let reply = api.post("/v1/tasks/batch", json!({ "tasks": full })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(all_task_ids(&api.engine).await.len(), before.len() + 1000);
}

on_every_backend!(
    create_show_and_the_cli_document_agree,
    bad_contexts_and_templates_are_named,
    idempotency_key_and_traceparent_headers,
    identity_names_the_existing_task,
    lists_page_with_cursors_and_filters,
    wait_answers_when_the_task_finishes,
    cancel_records_the_token_in_the_history,
    retry_resolve_and_the_last_error_of_a_step,
    batches_are_all_or_nothing,
);

/// A long poll answers at once when the server stops, instead of holding the shutdown up.
async fn a_long_poll_ends_when_the_server_stops(backend: common::Backend) {
    let stopping = tokio_util::sync::CancellationToken::new();
    let token = stopping.clone();
    let Some(api) = Api::with(
        backend,
        "a_long_poll_ends_when_the_server_stops",
        move |state| state.with_shutdown(token),
    )
    .await
    else {
        return;
    };
    api.register(&sleeper(1)).await;
    let id = api.create("shop/sleeper", json!({})).await;
    let waiting = {
        let router = api.router.clone();
        let request = common::request(
            Some(&api.admin),
            Method::GET,
            &format!("/v1/tasks/{id}/wait?timeout_ms=60000"),
            None,
        );
        tokio::spawn(async move {
            use tower::ServiceExt;
            common::Reply::read(router.oneshot(request).await.expect("answer")).await
        })
    };
    stopping.cancel();
    let reply = tokio::time::timeout(Duration::from_secs(45), waiting)
        .await
        .expect("the long poll answered when the server stopped")
        .expect("the request ran");
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["task"]["state"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_long_poll_ends_when_the_server_stops() {
    a_long_poll_ends_when_the_server_stops(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_long_poll_ends_when_the_server_stops() {
    a_long_poll_ends_when_the_server_stops(common::Backend::Postgres).await;
}
