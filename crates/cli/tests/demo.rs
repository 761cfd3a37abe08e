mod common;

use common::{Sandbox, parse, text};

fn states(summary: &serde_json::Value) -> (u64, u64, u64) {
    let by_state = summary["by_state"].as_object().expect("by_state");
    let get = |s: &str| by_state.get(s).and_then(|n| n.as_u64()).unwrap_or(0);
    let all: u64 = by_state.values().filter_map(|n| n.as_u64()).sum();
    (get("complete"), get("error"), all)
}

#[test]
fn fifty_tasks_all_finish_and_add_up() {
    let sandbox = Sandbox::new();
    let summary = sandbox.json(&["demo", "--tasks", "50"]);
    let (complete, error, all) = states(&summary);
    assert_eq!(all, 50, "{summary}");
    assert_eq!(complete + error, 50, "{summary}");
    // One task of the plan fails for good; the flaky ones recover.
    assert_eq!(error, 1, "{summary}");
    assert_eq!(summary["tasks"], 50);
    assert!(
        summary["retries"].as_u64().is_some_and(|r| r >= 5),
        "{summary}"
    );
    assert!(summary["latency_ms"]["p99"].as_f64().is_some(), "{summary}");
    let failed = summary["failed_example"]
        .as_i64()
        .expect("a failed task id");
    let show = sandbox.json(&["task", "show", &failed.to_string()]);
    assert_eq!(show["task"]["state"], "error");
}

#[test]
fn the_default_database_is_a_fresh_demo_file_each_time() {
    let sandbox = Sandbox::new();
    for _ in 0..2 {
        let out = sandbox
            .bare_command()
            .args(["--json", "demo", "--tasks", "20"])
            .output()
            .expect("run the demo");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let summary = parse(&text(&out.stdout));
        assert_eq!(summary["database_url"], "sqlite://tasker-demo.db");
        assert_eq!(states(&summary).2, 20, "{summary}");
    }
    // The second run replaced the first: the file holds 20 tasks, not 40.
    let out = sandbox
        .bare_command()
        .args([
            "--json",
            "--database-url",
            "sqlite://tasker-demo.db",
            "task",
            "list",
            "--limit",
            "100",
        ])
        .output()
        .expect("list tasks");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(parse(&text(&out.stdout)).as_array().map(Vec::len), Some(20));
}

#[test]
fn the_human_summary_says_where_to_look() {
    let sandbox = Sandbox::new();
    let stdout = sandbox.ok(&["demo", "--tasks", "30"]);
    assert!(stdout.contains("task latency"), "{stdout}");
    assert!(stdout.contains("tasks/s"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "tasker --database-url {} task history",
            sandbox.url()
        )),
        "{stdout}"
    );
}
