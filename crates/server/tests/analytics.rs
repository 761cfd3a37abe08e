//! `/v1/analytics`: throughput, step statistics and the slowest tasks over finished tasks, and
//! the bounds of their parameters.

mod common;

use axum::http::StatusCode;
use common::templates::{BROKEN, CHECKOUT};
use common::{Api, run_until_idle};
use serde_json::json;

/// A range around now, as query parameters.
fn around_now() -> String {
    let now = chrono::Utc::now();
    let since =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("since={since}&until={until}")
}

async fn finished_tasks_are_counted_and_ranked(api: Api) {
    api.register(CHECKOUT).await;
    api.register(BROKEN).await;
    for n in 1..=3 {
        api.create("shop/checkout", json!({"order_id": n})).await;
    }
    api.create("shop/broken", json!({})).await;
    run_until_idle(&api.engine).await;
    let range = around_now();

    let throughput = api
        .get(&format!("/v1/analytics/throughput?{range}&bucket=2h"))
        .await;
    assert_eq!(throughput.status, StatusCode::OK, "{throughput:?}");
    assert_eq!(throughput.json["bucket_seconds"], 7_200);
    let buckets = throughput.json["buckets"].as_array().expect("buckets");
    let sum = |field: &str| {
        buckets
            .iter()
            .filter_map(|b| b[field].as_i64())
            .sum::<i64>()
    };
    assert_eq!(sum("tasks_complete"), 3, "{buckets:?}");
    assert_eq!(sum("tasks_error"), 1, "{buckets:?}");
    assert_eq!(sum("steps"), 3 * 2 + 2);

    let steps = api
        .get(&format!(
            "/v1/analytics/steps?template=shop/checkout&{range}"
        ))
        .await;
    assert_eq!(steps.status, StatusCode::OK, "{steps:?}");
    assert_eq!(steps.json["tasks_sampled"], 3);
    assert_eq!(steps.json["truncated"], false);
    let rows = steps.json["steps"].as_array().expect("steps");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["step"].as_str()).collect();
    assert_eq!(names, ["charge", "ship"], "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["runs"] == 3 && r["error_rate"] == 0.0)
    );

    let everything = api.get(&format!("/v1/analytics/steps?{range}")).await;
    assert_eq!(everything.json["tasks_sampled"], 4, "{everything:?}");
    let explode = everything.json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|r| r["step"] == "explode")
        .cloned()
        .expect("the failing step");
    assert_eq!(explode["error_rate"], 1.0, "{explode}");

    let slowest = api
        .get(&format!("/v1/analytics/slowest-tasks?{range}&limit=2"))
        .await;
    assert_eq!(slowest.status, StatusCode::OK, "{slowest:?}");
    assert_eq!(slowest.json["tasks_sampled"], 4);
    let tasks = slowest.json["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2);
    assert!(tasks[0]["duration_ms"].as_i64() >= tasks[1]["duration_ms"].as_i64());
}

async fn parameters_are_bounded(api: Api) {
    api.register(CHECKOUT).await;
    let range = around_now();
    for (path, parameter) in [
        ("/v1/analytics/throughput?bucket=1h".to_owned(), "since"),
        (
            "/v1/analytics/throughput?since=yesterday".to_owned(),
            "since",
        ),
        (
            "/v1/analytics/throughput?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"
                .to_owned(),
            "until",
        ),
        (
            format!("/v1/analytics/throughput?{range}&bucket=fortnight"),
            "bucket",
        ),
        (
            format!("/v1/analytics/throughput?{range}&bucket=0"),
            "bucket",
        ),
        // Wider than a year: aligned to the epoch, such a bucket could start before the
        // earliest timestamp a database computes (schemathesis found a 500 with this one).
        (
            "/v1/analytics/throughput?since=1284-04-06T22%3A26%3A48%2B05%3A54&bucket=750674705d"
                .to_owned(),
            "bucket",
        ),
        (
            format!("/v1/analytics/throughput?{range}&bucket=367d"),
            "bucket",
        ),
        // Ten thousand one-second buckets in under three hours: more than 1,000.
        (
            format!("/v1/analytics/throughput?{range}&bucket=1s"),
            "bucket",
        ),
        (
            format!("/v1/analytics/steps?{range}&template=shop"),
            "template",
        ),
        (
            format!("/v1/analytics/slowest-tasks?{range}&limit=0"),
            "limit",
        ),
        (
            format!("/v1/analytics/slowest-tasks?{range}&limit=1001"),
            "limit",
        ),
        (
            format!("/v1/analytics/slowest-tasks?{range}&limit=-3"),
            "limit",
        ),
        (
            format!("/v1/analytics/slowest-tasks?{range}&order=asc"),
            "order",
        ),
    ] {
        let reply = api.get(&path).await;
        assert_eq!(
            reply.problem(400, "validation")["parameter"],
            parameter,
            "{path}: {reply:?}"
        );
    }
    let reply = api
        .get(&format!(
            "/v1/analytics/steps?{range}&template=shop/nothing"
        ))
        .await;
    assert_eq!(reply.problem(404, "not-found")["parameter"], "template");
    let empty = api
        .get(&format!("/v1/analytics/slowest-tasks?{range}"))
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{empty:?}");
    assert_eq!(empty.json["tasks"], json!([]));
}

on_every_backend!(
    finished_tasks_are_counted_and_ranked,
    parameters_are_bounded
);
