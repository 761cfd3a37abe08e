//! PostgreSQL: the server's connection is killed (`pg_terminate_backend`) in the middle of a
//! request. The request answers 503 with `Retry-After`, and the next one, sent after that
//! wait, succeeds.

mod common;

use axum::http::{Method, StatusCode, header};
use common::templates::OTHER;
use common::{Api, Backend, Reply, URL_VAR};
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_connection_is_503_then_recovers() {
    let Some(api) = Api::new(
        Backend::Postgres,
        "postgres_killed_connection_is_503_then_recovers",
    )
    .await
    else {
        return;
    };
    api.register(OTHER).await;
    let id = api.create("other/job", json!({})).await;
    let schema = api.schema.clone().expect("a schema");

    // Another session holds the tasks table, so that the request's read waits on it.
    let url = std::env::var(URL_VAR).expect("url");
    let (locker, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    locker
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {schema}.tasks IN ACCESS EXCLUSIVE MODE"
        ))
        .await
        .expect("lock");
    let locker_pid: i32 = locker
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);

    let request = {
        let router = api.router.clone();
        let request = common::request(
            Some(&api.admin),
            Method::GET,
            &format!("/v1/tasks/{id}"),
            None,
        );
        tokio::spawn(
            async move { Reply::read(router.oneshot(request).await.expect("answer")).await },
        )
    };

    // Kill the server's connection while its query waits for the lock.
    let (killer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let killed: i64 = killer
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE $1 = ANY (pg_blocking_pids(pid))",
                &[&locker_pid],
            )
            .await
            .expect("terminate")
            .get(0);
        if killed > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let reply = tokio::time::timeout(Duration::from_secs(30), request)
        .await
        .expect("the request answered")
        .expect("the request ran");
    reply.problem(503, "unavailable");
    assert_eq!(reply.headers[header::RETRY_AFTER], "1", "{reply:?}");

    locker.batch_execute("ROLLBACK").await.expect("unlock");
    // A client that waits as told finds the server recovered. (At once, the pool may still
    // hand out the killed connection before the driver has noticed it closed.)
    let retry_after: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let again = api.get(&format!("/v1/tasks/{id}")).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.json["task"]["id"], id);
}
