//! A database of its own plus real `tasker run` processes on it: the harness of the
//! multi-process tests. PostgreSQL gets a fresh schema (dropped afterwards) and a unique
//! `application_name`, so that a test can cut exactly its own workers' connections.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tasker::{CreateTask, Engine, TaskerBuilder};
use tokio::process::{Child, Command};

pub const URL_VAR: &str = "TASKER_TEST_DATABASE_URL";

/// A diamond whose handlers take a few milliseconds, with retries quick enough for a test.
pub const SLEEPY_DIAMOND: &str = "\
namespace: multi
name: diamond
version: 1.0.0
defaults:
  retry:
    max_attempts: 5
    backoff: exponential
    base_ms: 100
    max_ms: 1000
steps:
  - name: start
    handler: sleep
    config: { ms: 2 }
  - name: left
    handler: sleep
    config: { ms: 2 }
    depends_on: [start]
  - name: right
    handler: sleep
    config: { ms: 2 }
    depends_on: [start]
  - name: end
    handler: sleep
    config: { ms: 2 }
    depends_on: [left, right]
";

enum Backend {
    Postgres { base_url: String, schema: String },
    Sqlite,
}

pub struct Cluster {
    backend: Backend,
    dir: PathBuf,
    url: String,
    /// The `application_name` of every worker connection (PostgreSQL).
    pub app: String,
    pub engine: Engine,
    workers: usize,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{nanos:09}", std::process::id())
}

fn dir_for(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tasker-multi-{name}"));
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

impl Cluster {
    /// A fresh schema in the test database, or `None` (loudly) when none is configured; on CI
    /// an unset variable is a failure.
    pub async fn postgres(test: &str) -> Option<Cluster> {
        let base_url = match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{URL_VAR} is not set on CI; PostgreSQL tests must not be skipped"
                );
                eprintln!("SKIPPED {test}: {URL_VAR} is not set; no PostgreSQL to test against");
                return None;
            }
        };
        let id = unique();
        let schema = format!("tasker_multi_{id}");
        let app = format!("tasker_multi_{id}");
        psql(&base_url, None, &format!("create schema {schema}"));
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{base_url}{separator}application_name={app}&options=-c%20search_path%3D{schema}"
        );
        let engine_url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
        let backend = Backend::Postgres { base_url, schema };
        Some(Cluster::open(backend, dir_for(&id), url, &engine_url, app).await)
    }

    /// A fresh SQLite file that every worker opens.
    pub async fn sqlite() -> Cluster {
        let id = unique();
        let dir = dir_for(&id);
        let url = format!("sqlite://{}", dir.join("tasker.db").display());
        Cluster::open(Backend::Sqlite, dir, url.clone(), &url, String::new()).await
    }

    async fn open(
        backend: Backend,
        dir: PathBuf,
        url: String,
        engine_url: &str,
        app: String,
    ) -> Cluster {
        let engine = TaskerBuilder::new(engine_url)
            .build()
            .await
            .expect("open and migrate the test database");
        engine
            .register_template_yaml(SLEEPY_DIAMOND)
            .await
            .expect("register the test template");
        Cluster {
            backend,
            dir,
            url,
            app,
            engine,
            workers: 0,
        }
    }

    pub async fn register(&self, yaml: &str) {
        self.engine
            .register_template_yaml(yaml)
            .await
            .expect("register a template");
    }

    /// Creates `count` tasks of `template` (NAMESPACE/NAME) in batches; returns their ids.
    pub async fn create_tasks(&self, template: &str, count: usize) -> Vec<i64> {
        let mut ids = Vec::with_capacity(count);
        let mut left = count;
        while left > 0 {
            let n = left.min(1_000);
            let requests = (0..n)
                .map(|_| {
                    CreateTask::new(
                        template.parse().expect("a template reference"),
                        serde_json::json!({}),
                    )
                })
                .collect();
            let created = self
                .engine
                .create_tasks(requests)
                .await
                .expect("create tasks");
            ids.extend(created.iter().map(|c| c.id));
            left -= n;
        }
        ids
    }

    /// A `tasker` command on this database, its output going to files in the test directory.
    pub fn command(&mut self, args: &[&str]) -> Worker {
        self.workers += 1;
        let name = format!("worker{}", self.workers);
        let stdout = self.dir.join(format!("{name}.out"));
        let stderr = self.dir.join(format!("{name}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_tasker"))
            .arg("--database-url")
            .arg(&self.url)
            .arg("--json")
            .args(args)
            .env_remove("TASKER_DATABASE_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("create a log file"))
            .stderr(std::fs::File::create(&stderr).expect("create a log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("start the tasker binary");
        Worker {
            name,
            child,
            stdout,
            stderr,
        }
    }

    /// `tasker run` with `args` after it.
    pub fn worker(&mut self, args: &[&str]) -> Worker {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        self.command(&all)
    }

    /// One SQL query's rows, columns `|`-separated, through psql (PostgreSQL clusters only;
    /// SQLite checks go through the store).
    pub fn sql(&self, query: &str) -> String {
        match &self.backend {
            Backend::Postgres { base_url, schema } => psql(base_url, Some(schema), query),
            Backend::Sqlite => panic!("sql() is for PostgreSQL clusters"),
        }
    }

    /// Cuts every connection of this cluster's workers, as a server restart would.
    pub fn terminate_worker_connections(&self) -> usize {
        let out = self.sql(&format!(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity \
             where application_name = '{}' and pid <> pg_backend_pid()",
            self.app
        ));
        out.trim().parse().expect("a count of terminated backends")
    }

    /// Checks the end state and the history of `expected` tasks: all complete, every step
    /// completed exactly once, and no step ever had two attempts in progress at once (its
    /// transitions chain, and an `in_progress` is always followed by an end before the next).
    pub async fn assert_all_completed_exactly_once(&self, expected: usize) {
        let counts = self
            .engine
            .count_tasks_by_state()
            .await
            .expect("count tasks");
        let total: i64 = counts.iter().map(|(_, n)| n).sum();
        let complete: i64 = counts
            .iter()
            .filter(|(s, _)| *s == tasker::State::Complete)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total as usize, expected, "tasks by state: {counts:?}");
        assert_eq!(complete as usize, expected, "tasks by state: {counts:?}");
        if let Backend::Postgres { .. } = self.backend {
            let checks = self.sql(
                "select \
                  (select count(*) from workflow_steps where state = 'complete'), \
                  (select count(*) from (select workflow_step_id from workflow_step_transitions \
                     where to_state = 'complete' group by 1 having count(*) <> 1) twice), \
                  (select count(*) from (select from_state, to_state, lag(to_state) over \
                     (partition by workflow_step_id order by sort_key) as previous \
                     from workflow_step_transitions) t \
                   where from_state is distinct from previous \
                      or (to_state = 'in_progress' and previous = 'in_progress'))",
            );
            let expected_steps = (expected * 4).to_string();
            assert_eq!(
                checks.trim(),
                format!("{expected_steps}|0|0"),
                "complete steps | steps completed more than once | broken or overlapping histories"
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Backend::Postgres { base_url, schema } = &self.backend {
            let _ = std::process::Command::new("psql")
                .args([
                    base_url.as_str(),
                    "-qtAc",
                    &format!("drop schema if exists {schema} cascade"),
                ])
                .env("PGOPTIONS", "-c client_min_messages=warning")
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn psql(base_url: &str, schema: Option<&str>, sql: &str) -> String {
    let mut command = std::process::Command::new("psql");
    command.args([base_url, "-qtAc", sql]);
    if let Some(schema) = schema {
        command.env("PGOPTIONS", format!("-c search_path={schema}"));
    }
    let out = command.output().expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {sql}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `tasker` process.
pub struct Worker {
    pub name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The `stats` of `tasker run --json`.
    pub fn stats(&self) -> serde_json::Value {
        let out: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr));
        out["stats"].clone()
    }

    pub fn assert_success(&self, who: &str) {
        assert!(
            self.status.success(),
            "{who} failed ({}):\n{}\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }
}

impl Worker {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("a running worker has a pid")
    }

    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {}", self.name);
    }

    /// Waits for the process to exit, at most `limit`.
    pub async fn finish(mut self, limit: Duration) -> Finished {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for a worker"),
            Err(_) => {
                let _ = self.child.kill().await;
                panic!(
                    "{} did not exit within {limit:?}:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
        };
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

/// Waits until at least `tasks` tasks are complete, at most 60 s.
pub async fn wait_for_progress(cluster: &Cluster, tasks: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = cluster
            .engine
            .count_tasks_by_state()
            .await
            .expect("count tasks");
        let done: i64 = counts
            .iter()
            .filter(|(s, _)| *s == tasker::State::Complete)
            .map(|(_, n)| n)
            .sum();
        if done as usize >= tasks {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no progress to {tasks} complete tasks: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
