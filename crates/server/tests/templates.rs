//! `/v1/templates`: register (YAML and JSON), list, show.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::templates::{CHECKOUT, OTHER};
use common::{Api, Reply};
use serde_json::json;

async fn post_template(api: &Api, content_type: &str, body: impl Into<Body>) -> Reply {
    let request = Request::post("/v1/templates")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("a request");
    api.send(request).await
}

async fn yaml_registers_once_and_conflicts_on_a_new_definition(api: Api) {
    let first = post_template(&api, "application/yaml", CHECKOUT).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.json["created"], true);
    let document = &first.json["template"];
    assert_eq!(document["template"]["namespace"], "shop");
    assert_eq!(document["template"]["version"], "1.0.0");
    assert_eq!(document["levels"], json!([["charge"], ["ship"]]));

    for content_type in ["application/x-yaml", "text/yaml; charset=utf-8"] {
        let again = post_template(&api, content_type, CHECKOUT).await;
        assert_eq!(again.status, StatusCode::OK, "{again:?}");
        assert_eq!(again.json["created"], false);
        assert_eq!(again.json["template"]["id"], document["id"]);
    }

    let changed = CHECKOUT.replace("Charge, then ship.", "Charge and ship.");
    let conflict = post_template(&api, "application/yaml", changed).await;
    conflict.problem(409, "conflict");
}

async fn json_registers_the_same_shape(api: Api) {
    let body = json!({
        "namespace": "other",
        "name": "job",
        "version": "2.0.0",
        "steps": [
            {"name": "a", "handler": "noop"},
            {"name": "b", "handler": "noop", "depends_on": ["a"]},
            {"name": "c", "handler": "noop", "depends_on": ["a"]},
        ]
    });
    let reply = post_template(&api, "application/json", body.to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.json["template"]["levels"], json!([["a"], ["b", "c"]]));
}

async fn invalid_templates_name_the_field(api: Api) {
    let bad = CHECKOUT.replace("depends_on: [charge]", "depends_on: [nowhere]");
    let reply = post_template(&api, "application/yaml", bad).await;
    let problem = reply.problem(400, "validation");
    assert_eq!(problem["pointer"], "/steps/1/depends_on/0", "{reply:?}");
    assert_eq!(problem["errors"][0]["pointer"], "/steps/1/depends_on/0");

    let bad_config = CHECKOUT.replace("handler: noop", "handler: sleep\n    config: {ms: -1}");
    let reply = post_template(&api, "application/yaml", bad_config).await;
    assert_eq!(
        reply.problem(400, "validation")["pointer"],
        "/steps/0/config/ms"
    );

    let reply = post_template(&api, "application/yaml", "namespace: [unclosed").await;
    reply.problem(400, "validation");

    let reply = post_template(&api, "application/json", r#"{"namespace": "x", "name": 3}"#).await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/name");

    let reply = post_template(
        &api,
        "application/json",
        r#"{"namespace": "x", "name": "y", "version": "1.0.0", "steps": [], "colour": "red"}"#,
    )
    .await;
    assert_eq!(reply.problem(400, "validation")["pointer"], "/colour");

    let reply = post_template(&api, "text/plain", CHECKOUT).await;
    reply.problem(415, "unsupported-media-type");
    assert_eq!(api.get("/v1/templates").await.json["templates"], json!([]));
}

async fn a_template_for_an_applications_own_handlers_registers(api: Api) {
    // The server knows only the built-in handlers; the application's process (or a worker of
    // the queue) has the rest.
    let shop = CHECKOUT
        .replace(
            "  - name: charge\n    handler: noop",
            "  - name: charge\n    handler: charge_card",
        )
        .replace(
            "  - name: ship\n    handler: noop",
            "  - name: ship\n    handler: ship_parcel\n    queue: warehouse",
        );
    assert!(shop.contains("charge_card") && shop.contains("queue: warehouse"));
    let reply = post_template(&api, "application/yaml", shop).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let steps = &reply.json["template"]["template"]["steps"];
    assert_eq!(steps[0]["handler"], "charge_card", "{reply:?}");
    assert_eq!(steps[1]["queue"], "warehouse", "{reply:?}");
}

async fn list_and_show(api: Api) {
    api.register(CHECKOUT).await;
    api.register(&CHECKOUT.replace("version: 1.0.0", "version: 1.1.0"))
        .await;
    api.register(OTHER).await;

    let list = api.get("/v1/templates").await;
    assert_eq!(list.status, StatusCode::OK);
    let rows: Vec<(String, String, String)> = list.json["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| {
            (
                t["namespace"].as_str().unwrap_or_default().to_owned(),
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.contains(&("shop".into(), "checkout".into(), "1.1.0".into())));
    assert_eq!(
        list.json["templates"][0]["steps"].as_u64().map(|n| n > 0),
        Some(true)
    );

    let latest = api.get("/v1/templates/shop/checkout").await;
    assert_eq!(latest.status, StatusCode::OK, "{latest:?}");
    assert_eq!(latest.json["template"]["version"], "1.1.0");
    assert_eq!(latest.json["levels"], json!([["charge"], ["ship"]]));
    let pinned = api.get("/v1/templates/shop/checkout?version=1.0.0").await;
    assert_eq!(pinned.json["template"]["version"], "1.0.0");

    api.get("/v1/templates/shop/nothing")
        .await
        .problem(404, "not-found");
    api.get("/v1/templates/shop/checkout?version=9.9.9")
        .await
        .problem(404, "not-found");
    let unknown = api.get("/v1/templates/shop/checkout?colour=red").await;
    assert_eq!(unknown.problem(400, "validation")["parameter"], "colour");
}

on_every_backend!(
    yaml_registers_once_and_conflicts_on_a_new_definition,
    json_registers_the_same_shape,
    invalid_templates_name_the_field,
    a_template_for_an_applications_own_handlers_registers,
    list_and_show,
);
