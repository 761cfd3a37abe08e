//! `tasker bench --smoke --json`: every scenario runs at its smallest size and checks its own
//! end state. No timing is asserted: CI machines vary.

mod common;

use common::Sandbox;
use serde_json::Value;

const SCENARIOS: [&str; 7] = [
    "scale", "latency", "history", "fanout", "baseline", "api", "workers",
];

fn check_report(report: &Value, backend: &str) {
    assert_eq!(report["machine"]["backend"], backend, "{report:#}");
    assert_eq!(report["settings"]["smoke"], true);
    assert_eq!(report["checks_passed"], true, "{report:#}");
    for scenario in SCENARIOS {
        let section = &report[scenario];
        assert!(section.is_object(), "{scenario} is missing:\n{report:#}");
        assert_eq!(section["checks_passed"], true, "{scenario}:\n{section:#}");
        let checks = section["checks"].as_array().expect("a list of checks");
        assert!(
            !checks.is_empty(),
            "{scenario} checked nothing:\n{section:#}"
        );
    }
    let scale = &report["scale"]["sizes"][0];
    assert_eq!(scale["tasks"], 50);
    assert_eq!(scale["steps"], 200, "the diamond has four steps");
    assert_eq!(scale["runs"][0]["counters"]["steps_succeeded"], 200);
    assert_eq!(scale["runs"][0]["task_latency"]["samples"], 50);
    assert_eq!(report["latency"]["runs"][0]["samples"], 20);
    assert_eq!(report["history"]["columns"][0]["history"], 1000);
    let analytics = &report["history"]["columns"][0]["analytics"];
    for call in [
        "throughput_hour",
        "throughput_history",
        "step_analytics",
        "slowest_tasks",
    ] {
        assert_eq!(analytics[call]["samples"], 1, "{call}:\n{analytics:#}");
    }
    let checks = report["history"]["checks"].as_array().expect("checks");
    assert!(
        checks.iter().any(|c| c
            .as_str()
            .is_some_and(|c| c.starts_with("analytics: 1000 finished tasks counted"))),
        "{checks:#?}"
    );
    assert_eq!(report["fanout"]["width"], 100);
    let baseline = &report["baseline"];
    assert_eq!(baseline["diamond"]["tasks"], 50, "{baseline:#}");
    assert_eq!(baseline["diamond"]["steps"], 200, "{baseline:#}");
    assert_eq!(baseline["one_step"]["tasks"], 100, "{baseline:#}");
    assert_eq!(baseline["linear"]["samples"], 20, "{baseline:#}");
    assert_eq!(baseline["plain"]["jobs"], 200, "{baseline:#}");
    for workload in ["diamond", "one_step"] {
        for figure in ["engine", "bare", "bare_history"] {
            let rate = baseline[workload][figure]["median"].as_f64().unwrap_or(0.0);
            assert!(rate > 0.0, "{workload} {figure}:\n{baseline:#}");
        }
    }
    let expected_goals = if backend == "postgres" { 4 } else { 3 };
    assert_eq!(
        baseline["goals"].as_array().map(Vec::len),
        Some(expected_goals),
        "{baseline:#}"
    );
    let reads = &scale["runs"][0]["readiness"]["samples"];
    assert_eq!(reads, 200, "readiness read after the run:\n{scale:#}");
    assert_eq!(report["api"]["single"]["tasks"], 200);
    assert_eq!(report["api"]["single"]["latency"]["samples"], 200);
    assert_eq!(report["api"]["batch"]["tasks"], 2000);
    let workers = &report["workers"];
    assert_eq!(workers["tasks"], 50, "{workers:#}");
    assert_eq!(workers["steps"], 200, "{workers:#}");
    assert!(workers["claims"].as_u64().unwrap_or(0) >= 1, "{workers:#}");
    assert!(report["machine"]["cores"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn smoke_run_on_sqlite_passes_every_check() {
    let sandbox = Sandbox::new();
    let report = sandbox.json(&["bench", "--smoke"]);
    check_report(&report, "sqlite");
    // Each measurement used a temporary database: the one the URL names was never created.
    assert!(!sandbox.dir().join("tasker.db").exists());
}

#[test]
fn more_than_one_worker_process_is_refused_on_sqlite() {
    let sandbox = Sandbox::new();
    let (_, stderr) = sandbox.fails(&["bench", "--smoke", "--workers", "2"]);
    assert!(stderr.contains("--workers 2 needs"), "{stderr}");
}

#[test]
fn a_wrong_scenario_name_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let (_, stderr) = sandbox.fails(&["bench", "--scenario", "everything"]);
    assert!(stderr.contains("everything"), "{stderr}");
}

#[test]
fn smoke_run_on_postgres_passes_every_check_with_worker_processes() {
    let Some(url) = postgres_url() else {
        return;
    };
    // What an interrupted run leaves behind: a bench schema nobody claims, named for a process
    // that cannot exist. The next bench sweeps it away.
    let leftover = format!("tasker_bench_4000000000_{}", std::process::id());
    let created = psql(
        &url,
        &format!("CREATE SCHEMA {leftover}; CREATE TABLE {leftover}.t (x int)"),
    );
    let sandbox = Sandbox::with_url(url.clone());
    let report = sandbox.json(&["bench", "--smoke"]);
    check_report(&report, "postgres");
    if created.is_some() {
        let schemas = psql(&url, "SELECT nspname FROM pg_namespace").unwrap_or_default();
        assert!(
            !schemas.lines().any(|name| name == leftover),
            "the schema {leftover} of an interrupted run was not swept"
        );
    }
    // Two `tasker run` processes share the work of one scale measurement.
    let report = sandbox.json(&["bench", "--smoke", "--scenario", "scale", "--workers", "2"]);
    assert_eq!(report["scale"]["workers"], 2);
    assert_eq!(report["scale"]["sizes"][0]["checks_passed"], true);
    assert!(report["latency"].is_null());
    assert_no_bench_schema_left(&url);
}

fn postgres_url() -> Option<String> {
    match std::env::var("TASKER_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "TASKER_TEST_DATABASE_URL is not set on CI; PostgreSQL tests must not be skipped"
            );
            eprintln!("SKIPPED: bench on PostgreSQL: TASKER_TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// The bench drops the schemas it made; none of this process's children may be left.
fn assert_no_bench_schema_left(url: &str) {
    let Some(listed) = psql(
        url,
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tasker_bench_%'",
    ) else {
        eprintln!("psql is not installed: not checking that the bench schemas were dropped");
        return;
    };
    // Only schemas made by processes that are gone could be ours: others may be running now.
    for schema in listed.lines() {
        let pid = schema.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        assert!(alive, "schema {schema} was left behind by a finished bench");
    }
}

/// What psql printed for `sql` (unaligned, tuples only), or `None` where psql is not installed.
fn psql(url: &str, sql: &str) -> Option<String> {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-Atc", sql])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "psql failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
