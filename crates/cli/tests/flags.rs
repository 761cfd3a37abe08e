//! Numeric flags are range-checked when they are parsed: a value out of range is refused with
//! a message that names the allowed range, before anything touches the database.

mod common;

use common::Sandbox;

const HUGE: &str = "18446744073709551615";

/// Runs `args` and expects a usage error that quotes `range` for `flag`.
fn refused(sandbox: &Sandbox, args: &[&str], flag: &str, range: &str) {
    let out = sandbox.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "tasker {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "tasker {args:?}: {stderr}");
    assert!(stderr.contains(flag), "tasker {args:?}: {stderr}");
    assert!(
        stderr.contains(&format!("is not in {range}")),
        "tasker {args:?} should name the range {range}: {stderr}"
    );
}

#[test]
fn run_refuses_durations_and_sizes_out_of_range() {
    let sandbox = Sandbox::new();
    for value in ["0", "99", "86400001", "100000000000000000", HUGE] {
        refused(
            &sandbox,
            &["run", "--until-idle", "--lease-ms", value],
            "--lease-ms",
            "100..=86400000",
        );
    }
    for value in ["0", "100001", HUGE] {
        refused(
            &sandbox,
            &["run", "--until-idle", "--concurrency", value],
            "--concurrency",
            "1..=100000",
        );
    }
    for value in ["0", "3600001", HUGE] {
        refused(
            &sandbox,
            &["run", "--until-idle", "--poll-ms", value],
            "--poll-ms",
            "1..=3600000",
        );
    }
}

#[test]
fn task_flags_are_range_checked() {
    let sandbox = Sandbox::new();
    for value in ["0", "2592001", HUGE] {
        refused(
            &sandbox,
            &[
                "task",
                "create",
                "examples/linear",
                "--wait",
                "--timeout",
                value,
            ],
            "--timeout",
            "1..=2592000",
        );
    }
    for value in ["0", "10001", HUGE] {
        refused(
            &sandbox,
            &["task", "list", "--limit", value],
            "--limit",
            "1..=10000",
        );
    }
}

#[test]
fn demo_and_bench_sizes_are_range_checked() {
    let sandbox = Sandbox::new();
    refused(
        &sandbox,
        &["demo", "--tasks", HUGE],
        "--tasks",
        "1..=1000000",
    );
    refused(
        &sandbox,
        &["demo", "--tasks", "0"],
        "--tasks",
        "1..=1000000",
    );
    let bench = [
        ("--tasks", "50,0", "1..=10000000"),
        ("--tasks", HUGE, "1..=10000000"),
        ("--history", HUGE, "1..=100000000"),
        ("--workers", HUGE, "1..=64"),
        ("--samples", "0", "1..=1000000"),
        ("--fanout", HUGE, "1..=10000"),
        ("--fanout", "10001", "1..=10000"),
        ("--runs", "0", "1..=1000"),
    ];
    for (flag, value, range) in bench {
        refused(&sandbox, &["bench", flag, value], flag, range);
    }
}

/// Issue 11: a negative number is out of range too, and said so (not "unexpected argument").
#[test]
fn negative_numbers_are_refused_with_the_range() {
    let sandbox = Sandbox::new();
    refused(
        &sandbox,
        &["task", "list", "--limit", "-1"],
        "--limit",
        "1..=10000",
    );
    refused(
        &sandbox,
        &["run", "--until-idle", "--lease-ms", "-5"],
        "--lease-ms",
        "100..=86400000",
    );
}

/// Issue 11: an in-memory database exists only for the command, so it is migrated when
/// opened instead of asking for a `migrate` that could not help.
#[test]
fn an_in_memory_database_needs_no_migrate() {
    let sandbox = Sandbox::with_url("sqlite::memory:".to_owned());
    let out = sandbox.run(&["task", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("migrate"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no tasks"));
}

/// `tasker serve` listens on this machine's port 8080 unless told otherwise (the value clap
/// parses when `--listen` is left out is the one its help shows).
#[test]
fn serve_listens_on_localhost_8080_by_default() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["serve", "--help"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let listen: String = stdout
        .split("--listen")
        .nth(1)
        .and_then(|rest| rest.split("\n  -").next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        listen.contains("[default: 127.0.0.1:8080]"),
        "the --listen entry: {listen:?}"
    );
}
