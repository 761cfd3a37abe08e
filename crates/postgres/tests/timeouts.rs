//! Database errors that pass (time-outs, a read-only server after a fail-over) are transient,
//! and the database path has time-outs of its own.

mod common;

use std::sync::Arc;
use std::time::Duration;
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::conformance::fixture::{claim, create, layout, secs, t0};
use tasker_store::{Error, Store, TaskFilter};

/// Fails the test instead of hanging when `call` never returns.
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

/// A second store on the schema of `fresh`, whose sessions carry `options` in the URL.
async fn store_with_url_options(fresh: &common::Fresh, options: &str) -> Arc<PostgresStore> {
    let separator = if fresh.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options={options}", fresh.url);
    let store = PostgresStore::connect_with(
        &url,
        PgOptions {
            schema: Some(fresh.schema.clone()),
            pool_size: 2,
            ..PgOptions::default()
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

/// A store whose one main connection is stuck behind a lock still renews its leases (they
/// have a pool of their own), and a call that needs the main pool fails as unavailable after
/// the pool's wait time-out instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_go_on_while_the_main_pool_is_exhausted() {
    let Some(fresh) = common::fresh_schema("renewals_go_on_while_the_main_pool_is_exhausted").await
    else {
        return;
    };
    let app = format!("tasker_busy_{}", fresh.schema);
    let separator = if fresh.url.contains('?') { '&' } else { '?' };
    let busy = Arc::new(
        PostgresStore::connect_with(
            &format!("{}{separator}application_name={app}", fresh.url),
            PgOptions {
                schema: Some(fresh.schema.clone()),
                pool_size: 1,
                pool_wait_timeout: Duration::from_millis(300),
                ..PgOptions::default()
            },
        )
        .await
        .expect("connect"),
    );
    create(&*busy, &layout(&["a"], &[]), t0()).await;
    let running = claim(&*busy, 1, t0()).await;
    assert_eq!(running.len(), 1);

    // Another session holds the tasks table; a read of the store waits on it, holding the
    // main pool's only connection.
    let mut holder = fresh.client().await;
    let tx = holder.transaction().await.expect("begin");
    tx.batch_execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let stuck = tokio::spawn({
        let busy = Arc::clone(&busy);
        async move { busy.list_tasks(&TaskFilter::default()).await }
    });
    let admin = fresh.client().await;
    let mut waiting = false;
    for _ in 0..200 {
        let row = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .await
            .expect("activity");
        if row.get::<_, i64>(0) > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(waiting, "the store's read never waited on the lock");

    let renewed = bounded(
        "renew_leases",
        busy.renew_leases(
            "worker-1",
            &[(running[0].step_id, 1)],
            t0(),
            t0() + secs(120),
        ),
    )
    .await
    .expect("renew while the main pool is exhausted");
    assert_eq!(renewed, vec![running[0].step_id]);
    bounded("database_time", busy.database_time())
        .await
        .expect("database time while the main pool is exhausted");

    let starved = bounded("a call on the main pool", busy.step(running[0].step_id)).await;
    match starved {
        Err(e @ Error::Unavailable(_)) => assert!(e.is_transient()),
        other => panic!("expected unavailable, got {other:?}"),
    }

    tx.rollback().await.expect("rollback");
    bounded("the stuck read", stuck)
        .await
        .expect("join")
        .expect("the read finishes once the lock is gone");
    let step = busy
        .step(running[0].step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(step.lease_expires_at, Some(t0() + secs(120)));
}

/// Each connection carries the time-outs of its options, and settings the URL makes win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_carry_statement_and_lock_time_outs() {
    let Some(fresh) = common::fresh_schema("connections_carry_statement_and_lock_time_outs").await
    else {
        return;
    };
    // The harness's store has the default options; this one lets the URL set one of them.
    let custom = store_with_url_options(&fresh, "-c%20statement_timeout%3D1234").await;
    let defaults = PostgresStore::connect_with(
        &fresh.url,
        PgOptions {
            schema: Some(fresh.schema.clone()),
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect");
    for (store, statement, lock) in [
        (Arc::new(defaults), "30s", "10s"),
        (custom, "1234ms", "10s"),
    ] {
        let info = store.describe().await.expect("describe");
        let setting = |name: &str| {
            info.settings
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("describe has no {name}: {:?}", info.settings))
        };
        assert_eq!(setting("statement_timeout"), statement);
        assert_eq!(setting("lock_timeout"), lock);
    }
}
