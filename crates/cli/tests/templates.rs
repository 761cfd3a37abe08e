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

const QUEUE_AND_APP_HANDLERS: &str = "namespace: shop
name: charge
version: 1.0.0
steps:
  - name: charge
    handler: charge_card
  - name: receipt
    handler: send_receipt
    queue: mail
    depends_on: [charge]
";

#[test]
fn handlers_that_are_not_built_in_are_warnings_not_errors() {
    let sandbox = Sandbox::new();
    let good = example("diamond.yaml");
    let unknown = sandbox.write("handler.yaml", UNKNOWN_HANDLER);
    let out = sandbox.run(&["template", "validate", &good, &unknown]);
    let (stdout, stderr) = (common::text(&out.stdout), common::text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("examples/diamond@1.0.0"), "{stdout}");
    assert!(stdout.contains("t/unknown_handler@1.0.0"), "{stdout}");
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("steps[0].handler"), "{stderr}");
    assert!(stderr.contains("shipit"), "{stderr}");

    let out = sandbox.run(&["--json", "template", "validate", &good, &unknown]);
    assert!(out.status.success());
    let reports = common::parse(&common::text(&out.stdout));
    assert_eq!(reports[0]["valid"], true);
    assert_eq!(reports[0]["warnings"], json!([]));
    assert_eq!(reports[1]["valid"], true);
    assert_eq!(reports[1]["warnings"][0]["path"], "steps[0].handler");

    // A queue step's handler is its workers' business: no warning about it.
    let shop = sandbox.write("shop.yaml", QUEUE_AND_APP_HANDLERS);
    let reports = sandbox.json(&["template", "validate", &shop]);
    let warnings = reports[0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["path"], "steps[0].handler");
}

#[test]
fn a_template_for_an_applications_own_handlers_registers() {
    let sandbox = Sandbox::migrated();
    let shop = sandbox.write("shop.yaml", QUEUE_AND_APP_HANDLERS);
    let registered = sandbox.json(&["template", "register", &shop]);
    assert_eq!(registered[0]["template"], "shop/charge@1.0.0");
    assert_eq!(registered[0]["created"], true);
    let shown = sandbox.json(&["template", "show", "shop/charge@1.0.0"]);
    assert!(shown.to_string().contains("send_receipt"), "{shown}");
    assert!(shown.to_string().contains("\"mail\""), "{shown}");

    // Built-in handlers' configs are still checked.
    let bad = sandbox.write(
        "bad.yaml",
        "namespace: t\nname: bad\nversion: 1.0.0\nsteps:\n  - name: s\n    handler: sleep\n    config: {ms: -1}\n",
    );
    let (_, stderr) = sandbox.fails(&["template", "register", &bad]);
    assert!(stderr.contains("steps[0].config"), "{stderr}");
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
