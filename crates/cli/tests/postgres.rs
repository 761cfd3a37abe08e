//! The same commands on PostgreSQL, in a schema of their own. Skipped without
//! `TASKER_TEST_DATABASE_URL`; needs `psql` to create and drop the schema.

mod common;

use common::{Sandbox, example};
use std::process::Command;

struct Schema {
    base_url: String,
    name: String,
}

impl Schema {
    fn create() -> Option<Schema> {
        let Ok(base_url) = std::env::var("TASKER_TEST_DATABASE_URL") else {
            eprintln!("SKIPPED: TASKER_TEST_DATABASE_URL is not set");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = Schema {
            base_url,
            name: format!("tasker_cli_{}_{nanos}", std::process::id()),
        };
        schema.psql(&format!("create schema {}", schema.name));
        Some(schema)
    }

    fn psql(&self, sql: &str) {
        let status = Command::new("psql")
            .args([self.base_url.as_str(), "-qtAc", sql])
            .status()
            .expect("run psql");
        assert!(status.success(), "psql failed: {sql}");
    }

    /// The base URL with this schema as the connection's search path.
    fn url(&self) -> String {
        let separator = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.base_url, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.base_url.as_str(),
                "-qtAc",
                &format!("drop schema if exists {} cascade", self.name),
            ])
            .status();
    }
}

#[test]
fn the_task_lifecycle_and_the_demo_run_on_postgres() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let sandbox = Sandbox::with_url(schema.url());
    sandbox.fails(&["migrate", "--check"]);
    sandbox.ok(&["migrate"]);
    sandbox.ok(&["migrate", "--check"]);
    sandbox.ok(&["template", "register", &example("diamond.yaml")]);

    let created = sandbox.json(&["task", "create", "examples/diamond", "--wait"]);
    assert_eq!(created["task"]["state"], "complete", "{created}");
    let id = created["task"]["id"].to_string();
    let history = sandbox.json(&["task", "history", &id]);
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(3 + 4 * 3),
        "{history}"
    );
    let (_, stderr) = sandbox.fails(&["task", "show", "999999"]);
    assert!(stderr.contains("task 999999 not found"), "{stderr}");

    let summary = sandbox.json(&["demo", "--tasks", "30"]);
    let by_state = summary["by_state"].as_object().expect("by_state");
    let total: u64 = by_state.values().filter_map(|n| n.as_u64()).sum();
    assert_eq!(total, 30, "{summary}");
    assert_eq!(by_state.get("error").and_then(|n| n.as_u64()), Some(1));
    // The demo used the given database as it is: the earlier task is still there.
    let tasks = sandbox.json(&["task", "list", "--limit", "100"]);
    assert_eq!(tasks.as_array().map(Vec::len), Some(31));
}
