//! Connecting, migrating and classifying errors.

mod common;

use std::sync::Arc;
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::{Error, Store};

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // Port 1 on the loopback interface: nothing listens there, the connection is refused.
    let result = PostgresStore::connect("postgres://postgres@127.0.0.1:1/test").await;
    assert!(
        matches!(result, Err(Error::Unavailable(_))),
        "expected unavailable, got {:?}",
        result.err()
    );
}

#[tokio::test]
async fn a_schema_name_that_is_not_a_plain_identifier_is_refused() {
    let result = PostgresStore::connect_with(
        "postgres://postgres@127.0.0.1:1/test",
        PgOptions {
            schema: Some("x; DROP TABLE tasks".into()),
            pool_size: 1,
            ..PgOptions::default()
        },
    )
    .await;
    assert!(matches!(result, Err(Error::Database(message)) if message.contains("schema")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrators_apply_each_migration_once() {
    let Some(url) = common::database_url("concurrent_migrators_apply_each_migration_once") else {
        return;
    };
    let schema = format!(
        "tasker_test_{}_migrate_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut handles = Vec::new();
    for _ in 0..4 {
        let (url, schema) = (url.clone(), schema.clone());
        handles.push(tokio::spawn(async move {
            let store = PostgresStore::connect_with(
                &url,
                PgOptions {
                    schema: Some(schema),
                    pool_size: 1,
                    ..PgOptions::default()
                },
            )
            .await?;
            let store = Arc::new(store);
            let applied = store.migrate().await?;
            let pending = store.pending_migrations().await?;
            Ok::<_, Error>((applied, pending))
        }));
    }
    let mut applied = Vec::new();
    for handle in handles {
        let (names, pending) = handle.await.expect("join").expect("migrate");
        assert!(pending.is_empty());
        applied.extend(names);
    }
    assert_eq!(
        applied,
        [
            "V1__initial",
            "V2__leaders",
            "V3__derived_current_transition",
            "V4__leaner_indexes",
            "V5__service",
            "V6__routes",
            "V7__last_error"
        ]
    );
}

#[tokio::test]
async fn a_fresh_schema_reports_its_pending_migrations() {
    let Some(url) = common::database_url("a_fresh_schema_reports_its_pending_migrations") else {
        return;
    };
    let schema = format!(
        "tasker_test_{}_pending_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let store = PostgresStore::connect_with(
        &url,
        PgOptions {
            schema: Some(schema),
            pool_size: 1,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect");
    assert_eq!(
        store.pending_migrations().await.expect("pending"),
        [
            "V1__initial",
            "V2__leaders",
            "V3__derived_current_transition",
            "V4__leaner_indexes",
            "V5__service",
            "V6__routes",
            "V7__last_error"
        ]
    );
    assert_eq!(store.backend_name(), "postgres");
    assert!(store.capabilities().skip_locked && store.capabilities().multi_process);
}

/// A sweep drops the throwaway schemas nobody claims (runs that ended without cleaning up) and
/// leaves claimed ones alone, whichever connection or process holds the claim.
#[tokio::test]
async fn a_sweep_drops_unclaimed_schemas_and_keeps_claimed_ones() {
    let Some(url) = common::database_url("a_sweep_drops_unclaimed_schemas") else {
        return;
    };
    // A prefix of this test's own, so that no other sweep (benchmarks) races for its schemas.
    let prefix = format!("tasker_sweep_{:08x}_", rand::random::<u32>());
    let orphan = format!("{prefix}orphan");
    let live = format!("{prefix}live");
    let claim = tasker_postgres::claim_schema(&url, &live)
        .await
        .expect("claim");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {orphan}; CREATE TABLE {orphan}.t (x int);
             CREATE SCHEMA {live}; CREATE TABLE {live}.t (x int)"
        ))
        .await
        .expect("create the schemas");

    let dropped = tasker_postgres::drop_unclaimed_schemas(&url, &prefix)
        .await
        .expect("sweep");
    assert_eq!(dropped, [orphan]);
    let left = schemas_named(&client, &prefix).await;
    assert_eq!(left, std::slice::from_ref(&live));

    // The claim ends with its connection: the next sweep takes the schema.
    drop(claim);
    let mut dropped = Vec::new();
    for _ in 0..50 {
        dropped = tasker_postgres::drop_unclaimed_schemas(&url, &prefix)
            .await
            .expect("sweep");
        if !dropped.is_empty() {
            break;
        }
        // The server notices the closed connection, and releases its lock, a moment later.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(dropped, [live]);
    assert!(schemas_named(&client, &prefix).await.is_empty());
    assert!(
        tasker_postgres::drop_unclaimed_schemas(&url, "not a plain prefix")
            .await
            .is_err()
    );
}

async fn schemas_named(client: &tokio_postgres::Client, prefix: &str) -> Vec<String> {
    client
        .query(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1",
            &[&prefix],
        )
        .await
        .expect("list schemas")
        .iter()
        .map(|row| row.get(0))
        .collect()
}
