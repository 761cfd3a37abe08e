//! Test harness: a fresh schema per store, on the server named by `TASKER_TEST_DATABASE_URL`.
#![allow(dead_code)] // each test binary uses a different part of the harness

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::Store;
use tokio::sync::OnceCell;

pub const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

/// The database URL, or `None` (with a loud notice) when it is not configured. CI must never
/// skip: there an unset variable is a failure.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped");
            }
            eprintln!("SKIPPED {test}: {URL_VAR} is not set; no PostgreSQL to test against");
            None
        }
    }
}

static CLEANED: OnceCell<()> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A migrated store in a schema of its own.
pub async fn fresh_store(test: &str) -> Option<Arc<PostgresStore>> {
    Some(fresh_schema(test).await?.store)
}

pub struct Fresh {
    pub store: Arc<PostgresStore>,
    pub url: String,
    pub schema: String,
}

impl Fresh {
    /// A plain connection whose search path is the store's schema.
    pub async fn client(&self) -> tokio_postgres::Client {
        let mut config: tokio_postgres::Config = self.url.parse().expect("database url");
        // The same session settings as the store's connections.
        config.options(format!("-c jit=off -c search_path={}", self.schema));
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    }
}

/// A migrated store in a schema of its own, with what it takes to reach that schema directly.
pub async fn fresh_schema(test: &str) -> Option<Fresh> {
    let url = database_url(test)?;
    CLEANED
        .get_or_init(|| async {
            tasker_postgres::drop_orphaned_schemas(&url, "tasker_test_")
                .await
                .expect("drop the schemas of finished test runs");
        })
        .await;
    let schema = format!(
        "tasker_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    let store = PostgresStore::connect_with(
        &url,
        PgOptions {
            schema: Some(schema.clone()),
            pool_size: 4,
            ..PgOptions::default()
        },
    )
    .await
    .expect("connect");
    store.migrate().await.expect("migrate");
    Some(Fresh {
        store: Arc::new(store),
        url,
        schema,
    })
}

/// The text of a query as `sql.rs` builds it: a claim is its choice of rows followed by
/// `claim_picked.sql`, an analytics read its choice of finished tasks followed by what it
/// returns (named `a.sql+b.sql` here).
pub fn query_text(file: &str) -> String {
    let read = |file: &str| -> String {
        let path = format!("{}/queries/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
    };
    match file {
        "claim_ready.sql" | "claim_released.sql" | "claim_task_ready.sql" => {
            read(file) + &read("claim_picked.sql")
        }
        _ => file.split('+').map(read).collect(),
    }
}

/// The tables whose full scan is a plan error: they grow with every task ever run.
pub const BIG_TABLES: [&str; 5] = [
    "tasks",
    "workflow_steps",
    "workflow_step_edges",
    "task_transitions",
    "workflow_step_transitions",
];

/// Every full scan of one of the big tables anywhere in the plan tree.
pub fn seq_scans(plan: &Value, found: &mut Vec<String>) {
    match plan {
        Value::Object(node) => {
            if node.get("Node Type") == Some(&json!("Seq Scan"))
                && let Some(Value::String(table)) = node.get("Relation Name")
                && BIG_TABLES.contains(&table.as_str())
            {
                found.push(table.clone());
            }
            node.values().for_each(|v| seq_scans(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| seq_scans(v, found)),
        _ => {}
    }
}
