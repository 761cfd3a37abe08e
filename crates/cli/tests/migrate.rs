mod common;

use common::{Sandbox, parse};

#[test]
fn check_fails_until_migrate_applies_everything() {
    let sandbox = Sandbox::new();

    let (stdout, _) = sandbox.fails(&["migrate", "--check"]);
    assert!(stdout.contains("pending migration"), "{stdout}");
    let (stdout, _) = sandbox.fails(&["--json", "migrate", "--check"]);
    let pending = parse(&stdout)["pending"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!pending.is_empty(), "{stdout}");

    assert!(
        !sandbox.dir().join("tasker.db").exists(),
        "a check must not create the database"
    );

    let applied = sandbox.json(&["migrate"]);
    assert_eq!(
        applied["applied"].as_array().map(Vec::len),
        Some(pending.len())
    );

    let stdout = sandbox.ok(&["migrate", "--check"]);
    assert!(stdout.contains("schema is current"), "{stdout}");
    assert_eq!(sandbox.json(&["migrate"])["applied"], serde_json::json!([]));
}

#[test]
fn commands_on_an_unmigrated_database_say_how_to_fix_it() {
    let sandbox = Sandbox::new();
    let (_, stderr) = sandbox.fails(&["task", "list"]);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(stderr.contains("tasker --database-url"), "{stderr}");
    assert!(stderr.contains("migrate"), "{stderr}");
    assert!(
        !sandbox.dir().join("tasker.db").exists(),
        "a mistyped URL must not leave a file behind"
    );

    // A database file without the schema says the same.
    std::fs::write(sandbox.dir().join("tasker.db"), b"").expect("create an empty file");
    let (_, stderr) = sandbox.fails(&["template", "list"]);
    assert!(stderr.contains("not migrated"), "{stderr}");
    assert!(stderr.contains("migrate"), "{stderr}");
}
