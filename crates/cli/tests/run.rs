mod common;

use common::{Sandbox, parse, text};
use std::process::Stdio;
use std::time::{Duration, Instant};

const SLOW: &str = "namespace: t
name: slow
version: 1.0.0
steps:
  - name: nap
    handler: sleep
    config: { ms: 700 }
  - name: after
    handler: noop
    depends_on: [nap]
";

#[test]
fn until_idle_runs_everything_then_stops() {
    let sandbox = Sandbox::migrated();
    sandbox.register_examples();
    for template in ["examples/linear", "examples/tree", "examples/complex_dag"] {
        sandbox.ok(&["task", "create", template]);
    }
    let stats = sandbox.json(&[
        "run",
        "--until-idle",
        "--concurrency",
        "2",
        "--lease-ms",
        "5000",
    ]);
    assert_eq!(stats["stats"]["tasks_completed"], 3, "{stats}");
    assert_eq!(stats["stats"]["steps_succeeded"], 4 + 8 + 7, "{stats}");
    let human = sandbox.ok(&["run", "--until-idle"]);
    assert!(human.contains("steps claimed"), "{human}");
    sandbox.fails(&["run", "--concurrency", "0"]);
}

#[cfg(unix)]
#[test]
fn sigterm_lets_the_running_handler_finish_and_prints_the_stats() {
    let sandbox = Sandbox::migrated();
    let file = sandbox.write("slow.yaml", SLOW);
    sandbox.ok(&["template", "register", &file]);
    let created = sandbox.json(&["task", "create", "t/slow"]);
    let task_id = created["task"]["id"].to_string();

    let child = sandbox
        .bare_command()
        .args(["--database-url", sandbox.url(), "--json", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the orchestrator");
    // Wait for the sleep step to be running, then ask the orchestrator to stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let show = sandbox.json(&["task", "show", &task_id]);
        if show["steps"][0]["state"] == "in_progress" {
            break;
        }
        assert!(Instant::now() < deadline, "the step never started: {show}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait for the orchestrator");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats = parse(&text(&out.stdout));
    assert_eq!(stats["stats"]["steps_succeeded"], 1, "{stats}");

    // The running step finished; nothing after it was started.
    let show = sandbox.json(&["task", "show", &task_id]);
    assert_eq!(show["steps"][0]["state"], "complete", "{show}");
    assert_eq!(show["steps"][1]["state"], "pending", "{show}");
}
