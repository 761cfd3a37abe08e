//! Upgrading a database with work in flight: V6 gives the unfinished steps of existing tasks
//! their template's handler and queue, so that filtered claims find them.

mod common;

use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::{ClaimFilter, ClaimRequest, Store};

mod before_routes {
    refinery::embed_migrations!("migrations");
}

/// A task of three steps as a V5 database holds it: `done` finished, `ship` (on a queue) and
/// `charge` runnable.
const TASK_BEFORE_ROUTES: &str = r#"
INSERT INTO namespaces (id, name, created_at) VALUES (1, 'shop', 'epoch');
INSERT INTO task_templates (id, namespace_id, name, version, version_major, version_minor,
                            version_patch, definition, created_at)
VALUES (1, 1, 'order', '1.0.0', 1, 0, 0,
        '{"name": "order", "steps": [{"name": "done", "handler": "noop"},
                                     {"name": "ship", "handler": "ship", "queue": "shipping"},
                                     {"name": "charge", "handler": "charge"}]}', 'epoch');
INSERT INTO tasks (id, template_id, state, context, steps_total, steps_remaining, steps_failed,
                   transition_seq, created_at, updated_at)
VALUES (1, 1, 'in_progress', '{}', 3, 2, 0, 2, 'epoch', 'epoch');
INSERT INTO workflow_steps (id, task_id, position, name, state, attempts, max_attempts,
                            retry_limit, retryable, total_parents, unsatisfied_parents, ready_at,
                            transition_seq, created_at, updated_at)
VALUES (1, 1, 0, 'done', 'complete', 1, 3, 3, true, 0, 0, NULL, 3, 'epoch', 'epoch'),
       (2, 1, 1, 'ship', 'pending', 0, 3, 3, true, 0, 0, 'epoch', 1, 'epoch', 'epoch'),
       (3, 1, 2, 'charge', 'pending', 0, 3, 3, true, 0, 0, 'epoch', 1, 'epoch', 'epoch');
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_backfilled_for_unfinished_steps() {
    let Some(url) = common::database_url("routes_are_backfilled_for_unfinished_steps") else {
        return;
    };
    let schema = format!(
        "tasker_test_{}_routes_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut config: tokio_postgres::Config = url.parse().expect("database url");
    config.options(format!("-c search_path={schema}"));
    let (mut client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("schema");
    before_routes::migrations::runner()
        .set_target(refinery::Target::Version(5))
        .run_async(&mut client)
        .await
        .expect("migrate to V5");
    client
        .batch_execute(TASK_BEFORE_ROUTES)
        .await
        .expect("seed");

    let store = PostgresStore::connect_with(
        &url,
        PgOptions {
            schema: Some(schema.clone()),
            pool_size: 2,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect store");
    assert_eq!(
        store.migrate().await.expect("migrate"),
        ["V6__routes", "V7__last_error"]
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
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
}
