mod common;

use common::{Sandbox, example};
use serde_json::{Value, json};

const FAILING: &str = "namespace: t
name: failing
version: 1.0.0
steps:
  - name: first
    handler: noop
  - name: broken
    handler: fail
    config: { permanent: true }
    depends_on: [first]
  - name: last
    handler: noop
    depends_on: [broken]
";

fn step<'a>(show: &'a Value, name: &str) -> &'a Value {
    show["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {show}"))
}

fn id(value: &Value) -> String {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_string()
}

#[test]
fn a_context_that_fails_the_schema_is_refused_and_nothing_is_written() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    let context =
        r#"{"order_id": 0, "customer_email": "nobody", "items": [{"sku": "A", "quantity": 1}]}"#;
    let (_, stderr) = sandbox.fails(&[
        "task",
        "create",
        "ecommerce/order_fulfillment",
        "--context",
        context,
    ]);
    assert!(stderr.contains("/order_id"), "{stderr}");
    assert!(stderr.contains("/customer_email"), "{stderr}");
    assert_eq!(sandbox.json(&["task", "list"]), serde_json::json!([]));

    let (_, stderr) = sandbox.fails(&[
        "task",
        "create",
        "examples/diamond",
        "--context",
        "{not json",
    ]);
    assert!(stderr.contains("not valid JSON"), "{stderr}");
}

#[test]
fn create_wait_runs_the_diamond_to_completion_and_records_its_history() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    let context = sandbox.write("ctx.json", r#"{"customer": 42}"#);
    let created = sandbox.json(&[
        "task",
        "create",
        "examples/diamond@1.0.0",
        "--context",
        &format!("@{context}"),
        "--wait",
    ]);
    assert_eq!(created["task"]["state"], "complete", "{created}");
    assert_eq!(created["task"]["context"]["customer"], 42);
    let task_id = id(&created["task"]);

    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(show["task"]["state"], "complete");
    assert_eq!(show["execution"]["completed_steps"], 4);
    for name in ["start", "branch_b", "branch_c", "end"] {
        let s = step(&show, name);
        assert_eq!(s["state"], "complete", "{s}");
        assert_eq!(s["attempts"], 1, "{s}");
        assert!(
            s["explanation"].as_str().is_some_and(|e| !e.is_empty()),
            "{s}"
        );
    }
    assert_eq!(
        step(&show, "end")["parents"],
        serde_json::json!(["branch_b", "branch_c"])
    );
    let human = sandbox.ok(&["task", "show", &task_id]);
    assert!(human.contains("branch_b, branch_c"), "{human}");

    let history = sandbox.json(&["task", "history", &task_id]);
    let entries = history.as_array().expect("a list");
    let task_moves: Vec<(Value, Value)> = entries
        .iter()
        .filter(|e| e["subject"] == "task")
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        task_moves,
        vec![
            (Value::Null, "pending".into()),
            ("pending".into(), "in_progress".into()),
            ("in_progress".into(), "complete".into()),
        ]
    );
    for name in ["start", "branch_b", "branch_c", "end"] {
        let moves: Vec<Value> = entries
            .iter()
            .filter(|e| e["step_name"] == name)
            .map(|e| e["to"].clone())
            .collect();
        assert_eq!(moves, vec!["pending", "in_progress", "complete"], "{name}");
    }
    // Time order: a child starts only after its parents completed.
    let position = |name: &str, to: &str| {
        entries
            .iter()
            .position(|e| e["step_name"] == name && e["to"] == to)
            .unwrap_or_else(|| panic!("no {name} -> {to}"))
    };
    assert!(position("start", "complete") < position("branch_b", "in_progress"));
    assert!(position("branch_c", "complete") < position("end", "in_progress"));
    let human = sandbox.ok(&["task", "history", &task_id]);
    assert!(human.contains("pending -> in_progress"), "{human}");
    let list = sandbox.ok(&["task", "list", "--state", "complete"]);
    assert!(list.contains("examples/diamond@1.0.0"), "{list}");
}

#[test]
fn a_failed_task_can_be_retried_then_resolved_by_hand() {
    let sandbox = Sandbox::migrated();
    let file = sandbox.write("failing.yaml", FAILING);
    sandbox.ok(&["template", "register", &file]);

    let (stdout, _) = sandbox.fails(&["--json", "task", "create", "t/failing", "--wait"]);
    let created = common::parse(&stdout);
    assert_eq!(created["task"]["state"], "error", "{created}");
    let task_id = id(&created["task"]);
    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(step(&show, "broken")["state"], "error");
    assert_eq!(
        step(&show, "broken")["explanation"],
        "failed permanently after 1 attempt: failing permanently as configured (attempt 1)",
        "{show}"
    );
    let last_error = &step(&show, "broken")["last_error"];
    assert_eq!(
        (
            &last_error["message"],
            &last_error["kind"],
            &last_error["attempt"]
        ),
        (
            &json!("failing permanently as configured (attempt 1)"),
            &json!("permanent"),
            &json!(1)
        ),
        "{show}"
    );
    assert!(last_error["at"].is_string(), "{show}");
    assert_eq!(step(&show, "first")["last_error"], Value::Null);
    assert_eq!(step(&show, "last")["state"], "pending");
    let human = sandbox.ok(&["task", "show", &task_id]);
    assert!(
        human.contains("last errors\n  broken  attempt 1  permanent  ")
            && human.contains(": failing permanently as configured (attempt 1)\n"),
        "{human}"
    );

    let retried = sandbox.json(&["task", "retry", &task_id]);
    assert_eq!(retried["state"], "in_progress", "{retried}");
    sandbox.ok(&["run", "--until-idle"]);
    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(show["task"]["state"], "error", "it fails again: {show}");
    assert_eq!(step(&show, "broken")["attempts"], 2);

    assert_eq!(step(&show, "broken")["last_error"]["attempt"], 2, "{show}");

    let broken = id(step(&show, "broken"));
    let resolved = sandbox.json(&["step", "resolve", &broken]);
    assert_eq!(resolved["state"], "resolved_manually", "{resolved}");
    let stats = sandbox.json(&["run", "--until-idle"]);
    assert_eq!(stats["stats"]["tasks_completed"], 1, "{stats}");
    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(show["task"]["state"], "complete", "{show}");
    assert_eq!(step(&show, "last")["state"], "complete");

    // A finished task cannot be retried or cancelled.
    sandbox.fails(&["task", "retry", &task_id]);
    sandbox.fails(&["task", "cancel", &task_id]);
}

#[test]
fn a_pending_task_can_be_cancelled() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    let created = sandbox.json(&["task", "create", "examples/linear"]);
    assert_eq!(created["created"], true);
    assert_eq!(created["task"]["state"], "pending");
    let task_id = id(&created["task"]);
    let stdout = sandbox.ok(&["task", "cancel", &task_id]);
    assert!(stdout.contains("cancelled"), "{stdout}");
    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(step(&show, "step_1")["state"], "cancelled");
    // Nothing of it runs afterwards.
    let stats = sandbox.json(&["run", "--until-idle"]);
    assert_eq!(stats["stats"]["steps_claimed"], 0, "{stats}");
    let cancelled = sandbox.json(&["task", "list", "--state", "cancelled"]);
    assert_eq!(cancelled.as_array().map(Vec::len), Some(1));
}

#[test]
fn the_task_list_filters_and_pages() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    for template in ["examples/linear", "examples/tree", "examples/linear"] {
        sandbox.ok(&["task", "create", template]);
    }
    let order =
        r#"{"order_id": 1, "customer_email": "a@b.c", "items": [{"sku": "A", "quantity": 1}]}"#;
    sandbox.ok(&[
        "task",
        "create",
        "ecommerce/order_fulfillment",
        "--context",
        order,
    ]);
    let ids = |args: &[&str]| -> Vec<i64> {
        let mut all = vec!["task", "list"];
        all.extend_from_slice(args);
        sandbox
            .json(&all)
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|t| t["id"].as_i64())
            .collect()
    };
    assert_eq!(ids(&[]), vec![4, 3, 2, 1], "newest first");
    assert_eq!(ids(&["--namespace", "examples"]), vec![3, 2, 1]);
    assert_eq!(ids(&["--limit", "2"]), vec![4, 3]);
    assert_eq!(ids(&["--limit", "2", "--before", "3"]), vec![2, 1]);
    assert_eq!(ids(&["--state", "complete"]), Vec::<i64>::new());
    assert_eq!(
        ids(&["--state", "pending", "--namespace", "ecommerce"]),
        vec![4]
    );
    // The context was completed with the schema's defaults.
    let show = sandbox.json(&["task", "show", "4"]);
    assert_eq!(show["task"]["context"]["shipping"], "standard");
}

#[test]
fn an_idempotency_key_returns_the_same_task() {
    let sandbox = Sandbox::migrated();
    sandbox.ok(&["template", "register", &example("linear.yaml")]);
    let args = [
        "task",
        "create",
        "examples/linear",
        "--idempotency-key",
        "k-1",
    ];
    let first = sandbox.json(&args);
    let second = sandbox.json(&args);
    assert_eq!(first["created"], true);
    assert_eq!(second["created"], false);
    assert_eq!(first["task"]["id"], second["task"]["id"]);
}

#[test]
fn unknown_ids_give_a_clear_error() {
    let sandbox = Sandbox::migrated();
    for args in [
        ["task", "show", "999"],
        ["task", "history", "999"],
        ["task", "cancel", "999"],
        ["task", "retry", "999"],
    ] {
        let (_, stderr) = sandbox.fails(&args);
        assert!(stderr.contains("task 999 not found"), "{args:?}: {stderr}");
    }
    let (_, stderr) = sandbox.fails(&["step", "resolve", "999"]);
    assert!(stderr.contains("999"), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    let (_, stderr) = sandbox.fails(&["task", "list", "--state", "done"]);
    assert!(stderr.contains("unknown state"), "{stderr}");
}

/// A `--wait` that times out gives up at once: the running command (and what it started) is
/// stopped and the step given back, not left running for a whole lease.
#[test]
fn a_wait_that_times_out_stops_the_command_and_gives_the_step_back() {
    let sandbox = Sandbox::migrated();
    let pid_file = sandbox.dir().join("grandchild.pid");
    let yaml = format!(
        "namespace: t\nname: slow\nversion: 1.0.0\nsteps:\n  - name: long\n    handler: command\n    config: {{ program: sh, args: [\"-c\", \"sleep 300 & echo $! > {}; wait\"] }}\n",
        pid_file.display()
    );
    let file = sandbox.write("slow.yaml", &yaml);
    sandbox.ok(&["template", "register", &file]);
    let mut child = sandbox
        .bare_command()
        .args(["--database-url", sandbox.url()])
        .args(["task", "create", "t/slow", "--wait", "--timeout", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tasker");
    // A hang guard, far above the one second asked for: the default lease is 30 s, and a
    // shutdown that waits for the handler takes that long.
    let mut status = None;
    for _ in 0..150 {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("task create --wait --timeout 1 was still running after 15 s");
    };
    let output = child.wait_with_output().expect("output");
    assert!(!status.success());
    let stderr = common::text(&output.stderr);
    assert!(stderr.contains("timed out"), "{stderr}");

    let pid = std::fs::read_to_string(&pid_file).expect("the command started");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    // Gone, or a zombie waiting for its parent (init) to reap it.
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next();
    assert!(
        stat.is_empty() || state == Some("Z"),
        "the command's child is still running: {stat}"
    );
    let list = sandbox.json(&["task", "list"]);
    let id = list[0]["id"].as_i64().expect("a task").to_string();
    let show = sandbox.json(&["task", "show", &id]);
    let long = step(&show, "long");
    assert_eq!(long["state"], "pending", "{long}");
    assert_eq!(long["attempts"], 0, "the attempt was given back: {long}");
}

/// Issue 11, defect 9: `--wait` runs its own task only; other ready work stays for `tasker run`.
#[test]
fn create_wait_leaves_other_tasks_alone() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    let other = sandbox.write(
        "other.yaml",
        "namespace: t\nname: other\nversion: 1.0.0\nsteps:\n  - name: lone\n    handler: noop\n",
    );
    sandbox.ok(&["template", "register", &other]);
    let unrelated = id(&sandbox.json(&["task", "create", "t/other"])["task"]);
    let created = sandbox.json(&["task", "create", "examples/diamond", "--wait"]);
    assert_eq!(created["task"]["state"], "complete", "{created}");
    let show = sandbox.json(&["task", "show", &unrelated]);
    assert_eq!(show["task"]["state"], "pending", "{show}");
    let lone = step(&show, "lone");
    assert_eq!(lone["state"], "pending", "{lone}");
    assert_eq!(lone["attempts"], 0, "{lone}");
}

/// Issue 11, defect 3: an endless context file is refused at the limit, not read to the end.
#[test]
fn an_endless_context_file_is_refused() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    let (_, stderr) = sandbox.fails(&[
        "task",
        "create",
        "examples/diamond",
        "--context",
        "@/dev/zero",
    ]);
    assert!(
        stderr.contains("the context in /dev/zero is more than 1048576 bytes"),
        "{stderr}"
    );
}
