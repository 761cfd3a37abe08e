//! Template validation, one case per error, and the bundled examples.

use tasker_model::Template;

/// Validate `yaml` and compare the rendered errors (one per line) with `expected`.
fn check_errors(yaml: &str, expected: &[&str]) {
    let errors = Template::from_yaml(yaml).expect_err("template should be rejected");
    let got: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(got, expected, "full message:\n{errors}");
}

const HEADER: &str = "namespace: ns\nname: t\nversion: 1.0.0\n";

fn with_steps(steps: &str) -> String {
    format!("{HEADER}steps:\n{steps}")
}

#[test]
fn unknown_dependency() {
    check_errors(
        &with_steps("  - {name: a, handler: noop, depends_on: [b]}\n"),
        &[r#"steps[0].depends_on[0]: step "a" depends on unknown step "b""#],
    );
}

#[test]
fn duplicate_step_name() {
    check_errors(
        &with_steps("  - {name: a, handler: noop}\n  - {name: a, handler: noop}\n"),
        &[r#"steps[1].name: duplicate step name "a" (first used by steps[0])"#],
    );
}

#[test]
fn cycle_is_named_in_dependency_order() {
    check_errors(
        &with_steps(
            "  - {name: a, handler: noop, depends_on: [c]}\n  - {name: b, handler: noop, depends_on: [a]}\n  - {name: c, handler: noop, depends_on: [b]}\n",
        ),
        &["steps[0].depends_on: dependency cycle: a -> b -> c -> a"],
    );
}

#[test]
fn bad_version() {
    let yaml = "namespace: ns\nname: t\nversion: one\nsteps:\n  - {name: a, handler: noop}\n";
    let errors = Template::from_yaml(yaml).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].path, "version");
    assert!(
        errors.0[0]
            .message
            .contains("\"one\" is not a semantic version"),
        "{errors}"
    );
}

#[test]
fn bad_schema() {
    let yaml = format!(
        "{HEADER}input_schema: {{type: nonsense}}\nsteps:\n  - {{name: a, handler: noop}}\n"
    );
    let errors = Template::from_yaml(&yaml).unwrap_err();
    assert_eq!(errors.0[0].path, "input_schema", "{errors}");
    assert!(
        errors.0[0].message.starts_with("invalid JSON Schema"),
        "{errors}"
    );
}

#[test]
fn zero_attempts() {
    check_errors(
        &with_steps("  - {name: a, handler: noop, retry: {max_attempts: 0}}\n"),
        &["steps[0].retry.max_attempts: must be at least 1 (the first attempt always runs)"],
    );
}

#[test]
fn no_steps() {
    check_errors(
        &format!("{HEADER}steps: []\n"),
        &["steps: a template needs at least one step"],
    );
}

#[test]
fn unknown_field_is_a_typo_not_silence() {
    let errors = Template::from_yaml(&with_steps(
        "  - {name: a, handler: noop, depend_on: [b]}\n",
    ))
    .unwrap_err();
    assert!(errors.to_string().contains("depend_on"), "{errors}");
}

#[test]
fn several_problems_are_reported_together() {
    let errors = Template::from_yaml(&with_steps(
        "  - {name: a, handler: '', depends_on: [x]}\n  - {name: a, handler: noop}\n",
    ))
    .unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "steps[1].name",
            "steps[0].handler",
            "steps[0].depends_on[0]"
        ]
    );
}

#[test]
fn unknown_handler() {
    let template = Template::from_yaml(&with_steps("  - {name: a, handler: shipit}\n")).unwrap();
    let errors = template.check_handlers(|h| h == "noop").unwrap_err();
    assert_eq!(
        errors.0[0].to_string(),
        r#"steps[0].handler: unknown handler "shipit" (step "a")"#
    );
}

#[test]
fn step_retry_overrides_template_defaults_field_by_field() {
    let yaml = format!(
        "{HEADER}defaults: {{retry: {{max_attempts: 5, base_ms: 200}}, timeout_ms: 900}}\nsteps:\n  - {{name: a, handler: noop, retry: {{retryable: false}}}}\n  - {{name: b, handler: noop, retry: {{backoff: none}}, timeout_ms: 50}}\n"
    );
    let t = Template::from_yaml(&yaml).unwrap();
    let a = &t.steps[0];
    assert!(!a.retry.retryable);
    assert_eq!(a.retry.max_attempts, 5);
    assert_eq!(a.timeout_ms, Some(900));
    assert!(matches!(
        a.retry.backoff,
        tasker_model::Backoff::Exponential { base_ms: 200, .. }
    ));
    let b = &t.steps[1];
    assert_eq!(b.retry.backoff, tasker_model::Backoff::None);
    assert_eq!(b.timeout_ms, Some(50));
}

#[test]
fn the_bundled_examples_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/templates");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let yaml = std::fs::read_to_string(&path).unwrap();
        let t = Template::from_yaml(&yaml).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The stored JSON form reads back to the same template.
        let again = Template::from_json(&t.to_json()).unwrap();
        assert_eq!(again.spec, t.spec);
        seen += 1;
    }
    assert_eq!(seen, 5);
}

#[test]
fn levels_of_the_complex_dag() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/templates/complex_dag.yaml"
    ))
    .unwrap();
    let t = Template::from_yaml(&yaml).unwrap();
    let names: Vec<Vec<&str>> = t
        .levels()
        .iter()
        .map(|l| l.iter().map(|&i| t.steps[i].name.as_str()).collect())
        .collect();
    assert_eq!(
        names,
        vec![
            vec!["init"],
            vec!["left", "right"],
            vec!["validate", "transform", "analyze"],
            vec!["finalize"]
        ]
    );
}

#[test]
fn order_fulfillment_context_is_checked_and_defaulted() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/templates/order_fulfillment.yaml"
    ))
    .unwrap();
    let t = Template::from_yaml(&yaml).unwrap();
    let ok = t
        .prepare_context(serde_json::json!({
            "order_id": 1, "customer_email": "a@b.c", "items": [{"sku": "x", "quantity": 1}]
        }))
        .unwrap();
    assert_eq!(ok["shipping"], "standard");
    let bad = t
        .prepare_context(serde_json::json!({"order_id": 0, "items": []}))
        .unwrap_err();
    let pointers: Vec<&str> = bad.0.iter().map(|e| e.pointer.as_str()).collect();
    assert!(pointers.contains(&"/order_id"), "{bad}");
    assert!(pointers.contains(&"/items"), "{bad}");
    assert!(
        pointers.contains(&""),
        "missing customer_email is reported at the root: {bad}"
    );
}

#[test]
fn yaml_booleans_in_a_schema_are_pointed_out() {
    let yaml = "namespace: app
name: pitfall
version: 1.0.0
input_schema:
  type: object
  required: [n]
  properties:
    n: { type: integer }
steps:
  - name: a
    handler: noop
";
    let errors = Template::from_yaml(yaml)
        .expect_err("`n` reads as false")
        .to_string();
    assert!(
        errors.contains(
            "input_schema: invalid JSON Schema: false is not of type \"string\" (at /required/0)"
        ),
        "{errors}"
    );
    assert!(errors.contains("reads as the boolean false"), "{errors}");
    assert!(errors.contains("quote it"), "{errors}");
}
