//! Cross-process wake-ups: a task created through one store wakes the listener of another
//! store on the same schema (as two processes would be), not one on another schema, and the
//! listener comes back after its connection is cut. Leases given back at shutdown wake the
//! others too.

mod common;

use std::time::Duration;
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::Store;
use tasker_store::conformance::fixture::{
    claim, complete, create, failure, layout, layout_with, secs, t0,
};
use tokio::sync::watch::Receiver;

async fn open(url: &str, schema: &str, app: &str) -> PostgresStore {
    let separator = if url.contains('?') { '&' } else { '?' };
    PostgresStore::connect_with(
        &format!("{url}{separator}application_name={app}"),
        PgOptions {
            schema: Some(schema.to_owned()),
            pool_size: 2,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect")
}

/// Whether the counter moved since last seen (mark it seen before the action that should move
/// it: a hint may arrive before the action returns).
async fn woken(wakeups: &mut Receiver<u64>, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, wakeups.changed()).await,
        Ok(Ok(()))
    )
}

/// Another process's store on `here`'s schema, listening: its application name (to find its
/// listening connection), the store (which owns the listener) and its wake-ups, once the
/// listener's first hint (sent when it connects) has arrived.
async fn listener(here: &common::Fresh) -> (String, PostgresStore, Receiver<u64>) {
    let app = format!("tasker_wakeups_{}", here.schema);
    let store = open(&here.url, &here.schema, &app).await;
    let mut wakeups = store.wakeups().expect("PostgreSQL has wake-ups");
    tokio::time::timeout(Duration::from_secs(10), wakeups.wait_for(|&n| n > 0))
        .await
        .expect("the listener connects")
        .expect("the listener runs");
    (app, store, wakeups)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_task_wakes_other_processes_of_its_schema_and_survives_a_cut() {
    let Some(here) = common::fresh_schema("wakeups").await else {
        return;
    };
    let Some(elsewhere) = common::fresh_schema("wakeups").await else {
        return;
    };
    let (app, _listener, mut wakeups) = listener(&here).await;

    wakeups.borrow_and_update();
    create(&*here.store, &layout(&["a"], &[]), t0()).await;
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);

    // Hints of another schema are not ours.
    wakeups.borrow_and_update();
    create(&*elsewhere.store, &layout(&["a"], &[]), t0()).await;
    assert!(!woken(&mut wakeups, Duration::from_millis(500)).await);

    // Cut the listening connection: it comes back (hinting once) and hears hints again.
    wakeups.borrow_and_update();
    let admin = here.client().await;
    let cut = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&app],
        )
        .await
        .expect("terminate the listener");
    assert!(cut.get::<_, i64>(0) >= 1);
    assert!(woken(&mut wakeups, Duration::from_secs(10)).await);
    wakeups.borrow_and_update();
    create(&*here.store, &layout(&["a"], &[]), t0()).await;
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_given_back_at_shutdown_wake_other_processes() {
    let Some(here) = common::fresh_schema("wakeups").await else {
        return;
    };
    let (_, _listener, mut wakeups) = listener(&here).await;
    // The creation's own hint is heard first, so that it cannot be taken for a later one.
    wakeups.borrow_and_update();
    create(&*here.store, &layout(&["a"], &[]), t0()).await;
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);
    let claimed = claim(&*here.store, 1, t0()).await;
    assert_eq!(claimed.len(), 1);

    // Nothing held: nothing to announce.
    wakeups.borrow_and_update();
    let none = here
        .store
        .release_leases("nobody", t0())
        .await
        .expect("release");
    assert_eq!(none, 0);
    assert!(!woken(&mut wakeups, Duration::from_millis(500)).await);

    wakeups.borrow_and_update();
    let released = here
        .store
        .release_leases("worker-1", t0())
        .await
        .expect("release");
    assert_eq!(released, 1);
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_retry_and_step_resolve_wake_other_processes() {
    let Some(here) = common::fresh_schema("wakeups").await else {
        return;
    };
    let (_, _listener, mut wakeups) = listener(&here).await;
    let store = &*here.store;
    wakeups.borrow_and_update();
    // a and b fail for good; c waits for b.
    let task_id = create(
        store,
        &layout_with(
            &[("a", false, 1), ("b", false, 1), ("c", true, 1)],
            &[("b", "c")],
        ),
        t0(),
    )
    .await;
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);
    let running = claim(store, 2, t0()).await;
    assert_eq!(running.len(), 2);
    complete(store, failure(&running[0], None), t0()).await;
    complete(store, failure(&running[1], None), t0()).await;

    // The retry makes a and b runnable again.
    wakeups.borrow_and_update();
    store
        .retry_task(task_id, t0() + secs(1), None)
        .await
        .expect("retry");
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);

    // Resolving b makes c runnable.
    let again = claim(store, 2, t0() + secs(1)).await;
    assert_eq!(again.len(), 2);
    complete(store, failure(&again[1], None), t0() + secs(1)).await;
    wakeups.borrow_and_update();
    store
        .resolve_step(again[1].step_id, t0() + secs(2), None)
        .await
        .expect("resolve");
    assert!(woken(&mut wakeups, Duration::from_secs(5)).await);
}
