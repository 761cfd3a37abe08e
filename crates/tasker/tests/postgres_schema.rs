//! `TaskerBuilder::postgres_schema` and `pool_size`: applications that share a PostgreSQL
//! database each keep their tables, their tasks and their wake-ups in a schema of their own.
//! The database tests need `TASKER_TEST_DATABASE_URL` (a loud SKIPPED line without it, a failure
//! on CI); the checks of bad settings need no database.
#![cfg(feature = "postgres")]

use futures::StreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tasker::store::TaskFilter;
use tasker::{CreateTask, Engine, Error, OrchestratorConfig, State, TaskerBuilder};
use tokio_postgres::AsyncMessage;

const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

const TEMPLATE: &str = "namespace: shop\nname: order\nversion: 1.0.0\nsteps:\n  - name: pack\n    handler: noop\n  - name: ship\n    handler: noop\n    depends_on: [pack]\n";

fn database_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped");
            }
            eprintln!(
                "SKIPPED postgres::{test}: {URL_VAR} is not set; no PostgreSQL to test against"
            );
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A schema name nobody uses, in the `tasker_test_<pid>_...` shape that the test harnesses
/// sweep when a run dies before dropping it.
fn unique_schema() -> String {
    format!(
        "tasker_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// A plain connection to the test database, with no schema of its own.
async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

async fn schema_exists(client: &tokio_postgres::Client, schema: &str) -> bool {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .await
        .expect("query pg_namespace")
        .get(0)
}

async fn drop_schema(client: &tokio_postgres::Client, schema: &str) {
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
}

async fn engine_on(url: &str, schema: &str) -> Engine {
    let engine = TaskerBuilder::new(url)
        .postgres_schema(schema)
        .pool_size(4)
        .build()
        .await
        .expect("build");
    engine
        .register_template_yaml(TEMPLATE)
        .await
        .expect("register");
    engine
}

async fn create(engine: &Engine, order: i64) -> tasker::TaskId {
    engine
        .create_task(CreateTask::new(
            "shop/order".parse().unwrap(),
            json!({ "order": order }),
        ))
        .await
        .expect("create")
        .id
}

async fn run_until_idle(engine: &Engine) {
    let config = OrchestratorConfig {
        until_idle: true,
        ..OrchestratorConfig::default()
    };
    engine.orchestrator(config).run().await.expect("run");
}

fn all_tasks() -> TaskFilter {
    TaskFilter {
        limit: 100,
        ..TaskFilter::default()
    }
}

#[tokio::test]
async fn two_builders_on_two_schemas_see_only_their_own_tasks() {
    let Some(url) = database_url("two_builders_on_two_schemas_see_only_their_own_tasks") else {
        return;
    };
    let (schema_a, schema_b) = (unique_schema(), unique_schema());
    let a = engine_on(&url, &schema_a).await;
    let b = engine_on(&url, &schema_b).await;

    let a_first = create(&a, 1).await;
    let a_second = create(&a, 2).await;
    let b_only = create(&b, 3).await;

    let listed_a = a.list_tasks(all_tasks()).await.expect("list a");
    let listed_b = b.list_tasks(all_tasks()).await.expect("list b");
    let mut ids_a: Vec<_> = listed_a.iter().map(|t| t.id).collect();
    ids_a.sort_unstable();
    assert_eq!(ids_a, vec![a_first, a_second]);
    assert_eq!(listed_b.len(), 1);
    assert_eq!(listed_b[0].id, b_only);
    assert_eq!(b.task(b_only).await.unwrap().context, json!({ "order": 3 }));
    // Each schema counts its own ids: B's table has no second task.
    assert!(matches!(
        b.task(a_second).await,
        Err(Error::TaskNotFound(_))
    ));

    // A's orchestrator runs A's work and never claims B's.
    run_until_idle(&a).await;
    for id in [a_first, a_second] {
        assert_eq!(a.task(id).await.unwrap().state, State::Complete);
    }
    assert_eq!(b.task(b_only).await.unwrap().state, State::Pending);
    run_until_idle(&b).await;
    assert_eq!(b.task(b_only).await.unwrap().state, State::Complete);

    drop((a, b));
    let client = admin(&url).await;
    drop_schema(&client, &schema_a).await;
    drop_schema(&client, &schema_b).await;
}

#[tokio::test]
async fn tables_are_created_in_the_named_schema() {
    let Some(url) = database_url("tables_are_created_in_the_named_schema") else {
        return;
    };
    let client = admin(&url).await;
    let schema = unique_schema();
    assert!(!schema_exists(&client, &schema).await);

    let engine = engine_on(&url, &schema).await;
    assert!(schema_exists(&client, &schema).await, "created if missing");
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .expect("list tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    for table in [
        "tasks",
        "namespaces",
        "workflow_steps",
        "refinery_schema_history",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }

    // The engine's rows are in the schema's tables, whatever `public` holds.
    let id = create(&engine, 7).await;
    let row = client
        .query_one(
            &format!("SELECT count(*) FROM \"{schema}\".tasks WHERE id = $1"),
            &[&id],
        )
        .await
        .expect("count the schema's tasks");
    assert_eq!(row.get::<_, i64>(0), 1);

    // Building again on the existing schema finds nothing to migrate.
    let again = TaskerBuilder::new(&url)
        .postgres_schema(&schema)
        .build()
        .await
        .expect("build again");
    assert!(again.pending_migrations().await.unwrap().is_empty());
    assert_eq!(again.task(id).await.unwrap().context, json!({ "order": 7 }));

    drop((engine, again));
    drop_schema(&client, &schema).await;
}

#[tokio::test]
async fn wake_up_hints_go_on_the_schema_channel() {
    let Some(url) = database_url("wake_up_hints_go_on_the_schema_channel") else {
        return;
    };
    let (schema_a, schema_b) = (unique_schema(), unique_schema());
    let a = engine_on(&url, &schema_a).await;
    let b = engine_on(&url, &schema_b).await;

    let (listener, mut connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let (sender, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let _ = sender.send((n.channel().to_owned(), n.payload().to_owned()));
            }
        }
    });
    listener
        .batch_execute(&format!(
            "LISTEN tasker_work_{schema_a}; LISTEN tasker_work_{schema_b}; LISTEN tasker_work"
        ))
        .await
        .expect("listen");

    // A process that reaches schema A through its URL, as the `tasker` command does.
    let separator = if url.contains('?') { '&' } else { '?' };
    let by_url = TaskerBuilder::new(format!(
        "{url}{separator}options=-c%20search_path%3D{schema_a}"
    ))
    .migrate(false)
    .build()
    .await
    .expect("build on the url's search path");

    // One hint at a time: each task's hint arrives on its own schema's channel only. Hints
    // of other processes on the shared database (the default channel carries those of every
    // store in `public`) name no schema of this test, and are passed over.
    let ours = [schema_a.clone(), schema_b.clone()];
    for (engine, schema) in [(&b, &schema_b), (&a, &schema_a), (&by_url, &schema_a)] {
        create(engine, 1).await;
        let (channel, payload) = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let hint = notifications.recv().await.expect("the listener is running");
                if ours.contains(&hint.1) {
                    return hint;
                }
            }
        })
        .await
        .expect("a hint within 30 s");
        assert_eq!(channel, format!("tasker_work_{schema}"));
        assert_eq!(&payload, schema);
    }

    drop((a, b, by_url, listener));
    let client = admin(&url).await;
    drop_schema(&client, &schema_a).await;
    drop_schema(&client, &schema_b).await;
}

#[tokio::test]
async fn pool_size_bounds_the_connections_of_the_engine() {
    let Some(url) = database_url("pool_size_bounds_the_connections_of_the_engine") else {
        return;
    };
    let schema = unique_schema();
    // The engine's sessions carry a name of their own, so that they can be counted.
    let application = format!("{schema}_app");
    let separator = if url.contains('?') { '&' } else { '?' };
    let engine_url = format!("{url}{separator}application_name={application}");
    let engine = TaskerBuilder::new(&engine_url)
        .postgres_schema(&schema)
        .pool_size(2)
        .build()
        .await
        .expect("build");
    engine
        .register_template_yaml(TEMPLATE)
        .await
        .expect("register");
    let id = create(&engine, 1).await;

    // Readers queue behind a lock held here, each holding a pooled connection while it waits:
    // with room for 8 connections there would be 8 waiting sessions, with 2 there are 2.
    let mut client = admin(&url).await;
    let lock = client.transaction().await.expect("begin");
    lock.batch_execute(&format!(
        "LOCK TABLE \"{schema}\".tasks IN ACCESS EXCLUSIVE MODE"
    ))
    .await
    .expect("lock");
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.task(id).await })
        })
        .collect();
    let observer = admin(&url).await;
    let sessions = |waiting_only: bool| {
        let observer = &observer;
        let application = application.clone();
        async move {
            let filter = if waiting_only {
                " AND wait_event_type = 'Lock'"
            } else {
                ""
            };
            observer
                .query_one(
                    &format!(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1{filter}"
                    ),
                    &[&application],
                )
                .await
                .expect("count sessions")
                .get::<_, i64>(0)
        }
    };
    loop {
        let (waiting, all) = (sessions(true).await, sessions(false).await);
        assert!(all <= 2, "{all} sessions with a pool of 2");
        if waiting == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lock.commit().await.expect("release the lock");
    for reader in readers {
        let task = reader.await.expect("reader").expect("read the task");
        assert_eq!(task.id, id);
    }
    assert_eq!(sessions(false).await, 2);

    drop(engine);
    drop_schema(&client, &schema).await;
}

#[tokio::test]
async fn bad_settings_are_refused_before_connecting() {
    // Nothing listens on port 1: a connection attempt would fail with another error.
    let url = "postgres://nobody@127.0.0.1:1/nothing";
    for (schema, why) in [
        (
            "Billing",
            "use only lower-case letters, digits and underscores",
        ),
        (
            "my-app",
            "use only lower-case letters, digits and underscores",
        ),
        ("app; drop table x", "use only lower-case letters"),
        ("", "it is empty"),
        ("1app", "it must start with a letter or an underscore"),
        ("pg_tasker", "names starting with pg_ are reserved"),
    ] {
        let error = TaskerBuilder::new(url)
            .postgres_schema(schema)
            .build()
            .await
            .err()
            .unwrap_or_else(|| panic!("{schema:?} accepted"));
        assert!(
            matches!(
                error,
                Error::InvalidSetting {
                    setting: "postgres_schema",
                    ..
                }
            ),
            "{schema:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "postgres_schema: invalid schema name {schema:?}: "
            )),
            "{message}"
        );
        assert!(message.contains(why), "{message}");
    }
    let too_long = "a".repeat(64);
    let error = TaskerBuilder::new(url)
        .postgres_schema(too_long)
        .build()
        .await
        .err()
        .unwrap_or_else(|| panic!("64 bytes accepted"));
    assert!(
        error.to_string().contains("longer than 63 bytes"),
        "{error}"
    );

    let error = TaskerBuilder::new(url)
        .pool_size(0)
        .build()
        .await
        .err()
        .unwrap_or_else(|| panic!("an empty pool accepted"));
    assert_eq!(
        error.to_string(),
        "pool_size: a pool needs at least 1 connection, got 0"
    );
}
