//! Upgrading a database with work in flight: V5 gives the unfinished steps of existing tasks
//! their template's handler and queue, so that filtered claims find them.

use rusqlite::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use tasker_sqlite::SqliteStore;
use tasker_store::{ClaimFilter, ClaimRequest, Store};

mod before_routes {
    refinery::embed_migrations!("migrations");
}

/// A task of three steps as a V4 database holds it: `done` finished, `ship` (on a queue) and
/// `charge` runnable. Times are microseconds.
const TASK_BEFORE_ROUTES: &str = r#"
INSERT INTO namespaces (id, name, created_at) VALUES (1, 'shop', 0);
INSERT INTO task_templates (id, namespace_id, name, version, version_major, version_minor,
                            version_patch, definition, created_at)
VALUES (1, 1, 'order', '1.0.0', 1, 0, 0,
        '{"name": "order", "steps": [{"name": "done", "handler": "noop"},
                                     {"name": "ship", "handler": "ship", "queue": "shipping"},
                                     {"name": "charge", "handler": "charge"}]}', 0);
INSERT INTO tasks (id, template_id, state, context, steps_total, steps_remaining, steps_failed,
                   transition_seq, created_at, updated_at)
VALUES (1, 1, 'in_progress', '{}', 3, 2, 0, 2, 0, 0);
INSERT INTO workflow_steps (id, task_id, position, name, state, attempts, max_attempts,
                            retry_limit, retryable, total_parents, unsatisfied_parents, ready_at,
                            transition_seq, created_at, updated_at)
VALUES (1, 1, 0, 'done', 'complete', 1, 3, 3, 1, 0, 0, NULL, 3, 0, 0),
       (2, 1, 1, 'ship', 'pending', 0, 3, 3, 1, 0, 0, 0, 1, 0, 0),
       (3, 1, 2, 'charge', 'pending', 0, 3, 3, 1, 0, 0, 0, 1, 0, 0);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_backfilled_for_unfinished_steps() {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "tasker-sqlite-routes-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let store = SqliteStore::open_temporary(&path.to_string_lossy()).expect("open");
    {
        let mut conn = Connection::open(&path).expect("open directly");
        before_routes::migrations::runner()
            .set_target(refinery::Target::Version(4))
            .set_grouped(true)
            .run(&mut conn)
            .expect("migrate to V4");
        conn.execute_batch(TASK_BEFORE_ROUTES).expect("seed");
    }
    assert_eq!(
        store.migrate().await.expect("migrate"),
        ["V5__routes".to_string(), "V6__last_error".to_string()]
    );

    let steps = store.steps_of_task(1).await.expect("steps");
    let routes: Vec<(&str, &str, Option<&str>)> = steps
        .iter()
        .map(|s| (s.name.as_str(), s.handler.as_str(), s.queue.as_deref()))
        .collect();
    assert_eq!(
        routes,
        [
            ("done", "", None),
            ("ship", "ship", Some("shipping")),
            ("charge", "charge", None)
        ],
        "finished steps keep '' (nothing claims them again)"
    );
    assert!(
        steps.iter().all(|s| s.last_error.is_none()),
        "last_error is not backfilled"
    );
    let now = chrono::DateTime::from_timestamp(1, 0).unwrap_or_default();
    let claim = |filter| ClaimRequest {
        owner: "upgraded".into(),
        limit: 10,
        now,
        lease_expires_at: now + chrono::Duration::seconds(60),
        only_task: None,
        filter,
    };
    let local = store
        .claim_steps(&claim(ClaimFilter::in_process(["charge", "noop"])))
        .await
        .expect("claim");
    assert_eq!(local.len(), 1);
    assert_eq!(
        (local[0].name.as_str(), local[0].handler.as_str()),
        ("charge", "charge")
    );
    let remote = store
        .claim_steps(&claim(ClaimFilter::queue("shipping", None)))
        .await
        .expect("claim");
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0].name, "ship");
}
