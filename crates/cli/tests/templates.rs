mod common;

use common::{Sandbox, example};
use serde_json::json;

const CYCLE: &str = "namespace: t
name: cycle
version: 1.0.0
steps:
  - name: a
    handler: noop
    depends_on: [c]
  - name: b
    handler: noop
    depends_on: [a]
  - name: c
    handler: noop
    depends_on: [b]
";

const UNKNOWN_DEPENDENCY: &str = "namespace: t
name: unknown_dep
version: 1.0.0
steps:
  - name: first
    handler: noop
  - name: second
    handler: noop
    depends_on: [frist]
";

const UNKNOWN_HANDLER: &str = "namespace: t
name: unknown_handler
version: 1.0.0
steps:
  - name: ship
    handler: shipit
";

#[test]
fn the_bundled_examples_validate_without_a_database() {
    let sandbox = Sandbox::new();
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
    let mut args = vec!["template", "validate"];
    args.extend(files.iter().map(String::as_str));
    let stdout = sandbox.ok(&args);
    assert!(stdout.contains("examples/diamond@1.0.0"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok")).count(),
        5,
        "{stdout}"
    );
    assert!(
        !sandbox.dir().join("tasker.db").exists(),
        "validate must not create a database"
    );
}

#[test]
fn a_cycle_is_named_in_dependency_order() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("cycle.yaml", CYCLE);
    let (_, stderr) = sandbox.fails(&["template", "validate", &file]);
    assert!(stderr.contains("a -> b -> c -> a"), "{stderr}");
    assert!(stderr.contains("cycle.yaml"), "{stderr}");
}

#[test]
fn an_unknown_dependency_names_the_step_and_the_field() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("dep.yaml", UNKNOWN_DEPENDENCY);
    let (_, stderr) = sandbox.fails(&["template", "validate", &file]);
    assert!(stderr.contains("steps[1].depends_on[0]"), "{stderr}");
    assert!(stderr.contains("frist"), "{stderr}");
    assert!(stderr.contains("second"), "{stderr}");
}

#[test]
fn unknown_handlers_are_checked_against_the_builtins() {
    let sandbox = Sandbox::new();
    let good = example("diamond.yaml");
    let bad = sandbox.write("handler.yaml", UNKNOWN_HANDLER);
    let (stdout, stderr) = sandbox.fails(&["template", "validate", &good, &bad]);
    assert!(stdout.contains("examples/diamond@1.0.0"), "{stdout}");
    assert!(stderr.contains("steps[0].handler"), "{stderr}");
    assert!(stderr.contains("shipit"), "{stderr}");

    let out = sandbox.run(&["--json", "template", "validate", &good, &bad]);
    assert!(!out.status.success());
    let reports = common::parse(&common::text(&out.stdout));
    assert_eq!(reports[0]["valid"], true);
    assert_eq!(reports[1]["valid"], false);
    assert_eq!(reports[1]["errors"][0]["path"], "steps[0].handler");
}

#[test]
fn register_list_and_show() {
    let sandbox = Sandbox::migrated();
    let diamond = example("diamond.yaml");
    let order = example("order_fulfillment.yaml");
    let registered = sandbox.json(&["template", "register", &diamond, &order]);
    assert_eq!(registered[0]["template"], "examples/diamond@1.0.0");
    assert_eq!(registered[0]["created"], true);
    // The same definition again is not an error, and not a new template.
    let again = sandbox.json(&["template", "register", &diamond]);
    assert_eq!(again[0]["created"], false);
    assert_eq!(again[0]["id"], registered[0]["id"]);

    let list = sandbox.json(&["template", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    // Ordered by namespace, then name.
    assert_eq!(names, ["order_fulfillment", "diamond"]);
    let human = sandbox.ok(&["template", "list"]);
    assert!(human.contains("examples/diamond@1.0.0"), "{human}");
    assert!(
        human.contains("ecommerce/order_fulfillment@1.0.0"),
        "{human}"
    );

    let show = sandbox.json(&["template", "show", "examples/diamond"]);
    assert_eq!(
        show["levels"],
        json!([["start"], ["branch_b", "branch_c"], ["end"]])
    );
    let human = sandbox.ok(&["template", "show", "ecommerce/order_fulfillment@1.0.0"]);
    let payment = human
        .lines()
        .find(|l| l.contains("process_payment"))
        .unwrap_or_else(|| panic!("no process_payment in {human}"));
    assert!(payment.starts_with('2'), "level 2: {payment}");
    assert!(
        human.contains("required: order_id, customer_email, items"),
        "{human}"
    );
    assert!(human.contains("process_payment"), "{human}");
    assert!(human.contains("5 attempts"), "{human}");

    let (_, stderr) = sandbox.fails(&["template", "show", "examples/nope"]);
    assert!(stderr.contains("examples/nope"), "{stderr}");
    let (_, stderr) = sandbox.fails(&["template", "show", "no-slash"]);
    assert!(stderr.contains("no-slash"), "{stderr}");
}
