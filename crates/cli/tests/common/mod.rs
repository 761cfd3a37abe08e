//! Run the real `tasker` binary against a throwaway SQLite file.
#![allow(dead_code)] // each test file uses its own subset of these helpers

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/templates");

pub fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

/// A temporary directory holding the database and any files a test writes; removed on drop.
pub struct Sandbox {
    dir: PathBuf,
    url: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "tasker-cli-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the sandbox directory");
        let url = format!("sqlite://{}", dir.join("tasker.db").display());
        Sandbox { dir, url }
    }

    /// A sandbox whose commands use another database (its directory still holds files).
    pub fn with_url(url: String) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox.url = url;
        sandbox
    }

    /// A sandbox whose database is migrated.
    pub fn migrated() -> Sandbox {
        let sandbox = Sandbox::new();
        sandbox.ok(&["migrate"]);
        sandbox
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write a sandbox file");
        path.display().to_string()
    }

    /// The binary with no database chosen and the sandbox as working directory.
    pub fn bare_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tasker"));
        command
            .current_dir(&self.dir)
            .env_remove("TASKER_DATABASE_URL")
            .env_remove("RUST_LOG")
            // Tests export no traces unless they ask for it.
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.bare_command()
            .arg("--database-url")
            .arg(&self.url)
            .args(args)
            .output()
            .expect("run the tasker binary")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tasker {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs and expects a non-zero exit; returns (stdout, stderr).
    pub fn fails(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "tasker {args:?} should have failed:\nstdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        (text(&out.stdout), text(&out.stderr))
    }

    /// Runs with `--json`, expects success, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse(&self.ok(&all))
    }

    pub fn register_examples(&self) {
        let files: Vec<String> = [
            "linear.yaml",
            "diamond.yaml",
            "tree.yaml",
            "complex_dag.yaml",
            "order_fulfillment.yaml",
        ]
        .iter()
        .map(|f| example(f))
        .collect();
        let mut args = vec!["template", "register"];
        args.extend(files.iter().map(String::as_str));
        self.ok(&args);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn parse(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}
