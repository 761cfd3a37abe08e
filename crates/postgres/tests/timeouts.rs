//! Database errors that pass (time-outs, a read-only server after a fail-over) are transient,
//! and the database path has time-outs of its own.

mod common;

use std::sync::Arc;
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::{Error, Store, TaskFilter};

/// A second store on the schema of `fresh`, whose sessions carry `options` in the URL.
async fn store_with_url_options(fresh: &common::Fresh, options: &str) -> Arc<PostgresStore> {
    let separator = if fresh.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options={options}", fresh.url);
    let store = PostgresStore::connect_with(
        &url,
        PgOptions {
            schema: Some(fresh.schema.clone()),
            pool_size: 2,
        },
    )
    .await
    .expect("connect");
    Arc::new(store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_time_out_is_transient() {
    let Some(fresh) = common::fresh_schema("a_statement_time_out_is_transient").await else {
        return;
    };
    let store = store_with_url_options(&fresh, "-c%20statement_timeout%3D200").await;
    // Another session holds the table: the store's read waits until its statement times out.
    let mut holder = fresh.client().await;
    let tx = holder.transaction().await.expect("begin");
    tx.batch_execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let result = store.list_tasks(&TaskFilter::default()).await;
    tx.rollback().await.expect("rollback");
    match result {
        Err(e @ Error::Unavailable(_)) => {
            assert!(e.is_transient());
            assert!(e.to_string().contains("57014"), "{e}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
    // The store works again once the other session let go.
    store
        .list_tasks(&TaskFilter::default())
        .await
        .expect("list after the lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_to_a_read_only_server_is_transient() {
    let Some(fresh) = common::fresh_schema("a_write_to_a_read_only_server_is_transient").await
    else {
        return;
    };
    // What a client sees when its server became a read-only standby after a fail-over.
    let store = store_with_url_options(&fresh, "-c%20default_transaction_read_only%3Don").await;
    let now = chrono::Utc::now();
    let result = store
        .try_acquire_leadership(
            "rescuer",
            "worker-1",
            now,
            now + chrono::Duration::seconds(60),
        )
        .await;
    match result {
        Err(e @ Error::Unavailable(_)) => {
            assert!(e.is_transient());
            assert!(e.to_string().contains("25006"), "{e}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
}
