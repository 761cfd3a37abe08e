//! `tasker serve` as a real process: a token made with `tasker token create`, requests over
//! HTTP, and SIGTERM draining it; plus its refusal to listen beyond this machine without a
//! token.

mod common;

use common::{Sandbox, example, text};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `tasker serve`, and where it listens.
struct Served {
    child: Child,
    base: String,
    /// Lines of stderr before the one that said where it listens (warnings at start).
    startup: Vec<String>,
}

impl Served {
    fn start(sandbox: &Sandbox, extra: &[&str]) -> Served {
        let mut child = sandbox
            .bare_command()
            .arg("--database-url")
            .arg(sandbox.url())
            .args(["serve", "--listen", "127.0.0.1:0", "--poll-ms", "50"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tasker serve");
        let stderr = child.stderr.take().expect("stderr");
        let (lines, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let base = loop {
            let line = receiver
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("tasker serve did not say where it listens: {seen:?}"));
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("an address")
                    .to_owned();
            }
            seen.push(line);
        };
        // Keep draining stderr so that the process never blocks on a full pipe.
        std::thread::spawn(move || while receiver.recv().is_ok() {});
        Served {
            child,
            base,
            startup: seen,
        }
    }

    /// SIGTERM, then its exit status and stdout.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let mut stdout = Vec::new();
        if let Some(mut out) = self.child.stdout.take() {
            std::io::Read::read_to_end(&mut out, &mut stdout).expect("read stdout");
        }
        let status = self.child.wait().expect("wait for tasker serve");
        (status, text(&stdout))
    }
}

impl Drop for Served {
    /// A test that failed before `terminate` leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// (status, body as JSON or Null, body as text).
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let response = match method {
        "GET" => {
            let mut request = agent.get(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.call()
        }
        _ => {
            let mut request = agent.post(url).header("Content-Type", "application/json");
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.send(body.unwrap_or("{}"))
        }
    };
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("read the body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json, text)
}

/// A token that may create and read tasks: its text and its id.
fn task_token(sandbox: &Sandbox) -> (String, i64) {
    let created = sandbox.json(&[
        "token",
        "create",
        "--name",
        "ci",
        "--scope",
        "tasks:write",
        "tasks:read",
    ]);
    let token = created["token"].as_str().expect("a token").to_owned();
    (token, created["id"].as_i64().expect("an id"))
}

#[test]
fn serve_answers_with_tokens_and_drains_on_sigterm() {
    let sandbox = Sandbox::migrated();
    sandbox.ok(&["template", "register", &example("diamond.yaml")]);
    let (token, token_id) = task_token(&sandbox);
    assert!(token.starts_with("tsk_"), "{token}");
    let listed = sandbox.json(&["token", "list"]);
    assert_eq!(listed[0]["name"], "ci");
    assert_eq!(
        listed[0]["scopes"],
        serde_json::json!(["tasks:write", "tasks:read"])
    );
    assert!(!text(&sandbox.run(&["--json", "token", "list"]).stdout).contains(&token));

    let served = Served::start(&sandbox, &[]);
    let base = served.base.clone();
    let agent = agent();

    let (status, ready, _) = call(&agent, "GET", &format!("{base}/health/ready"), None, None);
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["orchestrator"]["ok"], true);

    let body = r#"{"template": "examples/diamond", "context": {}}"#;
    let (status, problem, _) = call(
        &agent,
        "POST",
        &format!("{base}/v1/tasks"),
        None,
        Some(body),
    );
    assert_eq!(status, 401, "{problem}");
    assert_eq!(
        problem["type"],
        "https://tasker.dev/problems/unauthenticated"
    );

    let (status, created, text_body) = call(
        &agent,
        "POST",
        &format!("{base}/v1/tasks"),
        Some(&token),
        Some(body),
    );
    assert_eq!(status, 201, "{text_body}");
    let id = created["task"]["id"].as_i64().expect("a task id");

    // The orchestrator beside the API runs it; the long poll answers when it is done.
    let (status, done, text_body) = call(
        &agent,
        "GET",
        &format!("{base}/v1/tasks/{id}/wait?timeout_ms=60000"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{text_body}");
    assert_eq!(done["task"]["state"], "complete", "{done}");
    // The same document as `tasker --json task show`.
    let shown = sandbox.json(&["task", "show", &id.to_string()]);
    assert_eq!(shown["task"], done["task"]);
    assert_eq!(shown["steps"].as_array().map(Vec::len), Some(4));

    let (status, _, metrics) = call(&agent, "GET", &format!("{base}/metrics"), None, None);
    assert_eq!(status, 200);
    assert!(metrics.contains("tasker_http_requests_total{"), "{metrics}");

    sandbox.ok(&["token", "revoke", &token_id.to_string()]);
    // The server trusts a token it found for a second before reading it again: the revocation
    // (from another process) is seen once that second has passed.
    std::thread::sleep(
        tasker_server::auth::cache::TOKEN_TTL + std::time::Duration::from_millis(100),
    );
    let (status, _, _) = call(
        &agent,
        "GET",
        &format!("{base}/v1/tasks"),
        Some(&token),
        None,
    );
    assert_eq!(status, 401);

    let (status, stdout) = served.terminate();
    assert!(status.success(), "tasker serve exited with {status}");
    // What the orchestrator did, as `tasker run` reports it.
    assert!(stdout.contains("steps succeeded"), "{stdout}");
}

#[test]
fn serve_refuses_other_machines_without_a_token() {
    let sandbox = Sandbox::migrated();
    let (_, stderr) = sandbox.fails(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("tasker token create"), "{stderr}");

    let (_, stderr) = sandbox.fails(&["token", "create", "--name", "x", "--scope", "tasks:delete"]);
    assert!(
        stderr.contains("unknown scope \"tasks:delete\""),
        "{stderr}"
    );

    // Open to everyone on request, with a warning.
    let served = Served::start(&sandbox, &["--insecure-no-auth", "--no-orchestrator"]);
    let base = served.base.clone();
    assert!(
        served
            .startup
            .iter()
            .any(|l| l.contains("every route is open")),
        "the warning about open routes: {:?}",
        served.startup
    );
    let agent = agent();
    let (status, list, _) = call(&agent, "GET", &format!("{base}/v1/tasks"), None, None);
    assert_eq!(status, 200, "{list}");
    let (status, ready, _) = call(&agent, "GET", &format!("{base}/health/ready"), None, None);
    assert_eq!(status, 200);
    assert_eq!(ready["checks"].get("orchestrator"), None, "{ready}");
    let (status, stdout) = served.terminate();
    assert!(status.success(), "tasker serve exited with {status}");
    assert!(
        stdout.is_empty(),
        "an API-only node reports no orchestrator: {stdout}"
    );
}

/// `--max-body` reaches the server: a body just over it is refused with 413, one just under it
/// is read (and answered for what it says). The default (1 MiB) would take both.
#[test]
fn serve_refuses_bodies_over_max_body() {
    let sandbox = Sandbox::migrated();
    let served = Served::start(
        &sandbox,
        &[
            "--insecure-no-auth",
            "--no-orchestrator",
            "--max-body",
            "2048",
        ],
    );
    let base = served.base.clone();
    let agent = agent();
    let body_of = |size: usize| {
        let empty = r#"{"template": "nope/none", "context": {"pad": ""}}"#;
        let body = format!(
            r#"{{"template": "nope/none", "context": {{"pad": "{}"}}}}"#,
            "x".repeat(size - empty.len())
        );
        assert_eq!(body.len(), size);
        body
    };
    let url = format!("{base}/v1/tasks");
    let (status, problem, text) = call(&agent, "POST", &url, None, Some(&body_of(2049)));
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        problem["type"], "https://tasker.dev/problems/too-large",
        "{problem}"
    );
    let (status, problem, text) = call(&agent, "POST", &url, None, Some(&body_of(2000)));
    assert_eq!(status, 404, "read, and no such template: {text}");
    assert_eq!(problem["pointer"], "/template", "{problem}");
    let (status, _) = served.terminate();
    assert!(status.success(), "tasker serve exited with {status}");
}

/// SIGTERM while a step runs and a client long-polls its task: the server stops accepting, the
/// long poll is answered at once with the task as it stands (what `GET /v1/tasks/{id}/wait`
/// documents: "or at once when the server is stopping", so it answers `in_progress`, not
/// `complete`), then the orchestrator lets the running handler finish and writes its outcome
/// before the process exits 0.
#[test]
fn sigterm_answers_the_long_poll_and_lets_the_running_step_finish() {
    let sandbox = Sandbox::migrated();
    let started = sandbox.dir().join("started");
    // The step says it has started (a file), then naps for a second and answers.
    let yaml = format!(
        "namespace: t\nname: nap\nversion: 1.0.0\nsteps:\n  - name: nap\n    handler: command\n    config: {{ program: sh, args: [\"-c\", \"touch {}; sleep 1; echo '{{\\\"slept\\\": true}}'\"] }}\n",
        started.display()
    );
    let file = sandbox.write("nap.yaml", &yaml);
    sandbox.ok(&["template", "register", &file]);
    let (token, _) = task_token(&sandbox);

    let served = Served::start(&sandbox, &[]);
    let base = served.base.clone();
    let agent = agent();
    let (status, created, text_body) = call(
        &agent,
        "POST",
        &format!("{base}/v1/tasks"),
        Some(&token),
        Some(r#"{"template": "t/nap", "context": {}}"#),
    );
    assert_eq!(status, 201, "{text_body}");
    let id = created["task"]["id"].as_i64().expect("a task id");

    // The long poll, on a connection of its own.
    let url = format!("{base}/v1/tasks/{id}/wait?timeout_ms=30000");
    let poll_token = token.clone();
    let poll_agent = self::agent();
    let waiting =
        std::thread::spawn(move || call(&poll_agent, "GET", &url, Some(&poll_token), None));

    // SIGTERM once the command runs (it naps for a second from there), and once the long poll,
    // sent before, has surely reached the server.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the step never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let terminated = std::time::Instant::now();
    let (status, stdout) = served.terminate();
    let exited_after = terminated.elapsed();

    let (code, document, text_body) = waiting.join().expect("the long poll's thread");
    assert_eq!(
        code, 200,
        "the long poll was answered, not cut: {text_body}"
    );
    // Answered at once, while the step still ran: the task as it stood, not finished.
    assert_eq!(document["task"]["id"], id, "{document}");
    assert_eq!(document["task"]["state"], "in_progress", "{document}");
    assert_eq!(document["steps"][0]["state"], "in_progress", "{document}");

    assert!(status.success(), "tasker serve exited with {status}");
    // The process waited for the handler (about a second), not for a lease (30 s).
    assert!(
        exited_after < Duration::from_secs(20),
        "the drain took {exited_after:?}"
    );
    assert!(stdout.contains("steps succeeded"), "{stdout}");

    // The step's outcome was written before the process exited.
    let shown = sandbox.json(&["task", "show", &id.to_string()]);
    assert_eq!(shown["task"]["state"], "complete", "{shown}");
    assert_eq!(shown["steps"][0]["state"], "complete", "{shown}");
    assert_eq!(
        shown["steps"][0]["results"],
        serde_json::json!({"slept": true}),
        "{shown}"
    );
    assert_eq!(shown["steps"][0]["attempts"], 1, "{shown}");
}
