//! One set of limits, checked by validation, so that both backends accept the same templates.

use serde_json::json;
use tasker_model::Template;
use tasker_model::limits;

fn errors_of(yaml: &str) -> Vec<String> {
    match Template::from_yaml(yaml) {
        Ok(_) => panic!("template should be rejected:\n{yaml:.300}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

fn has(errors: &[String], path_and_text: &str) {
    assert!(
        errors.iter().any(|e| e.contains(path_and_text)),
        "no error containing {path_and_text:?} in {errors:#?}"
    );
}

fn template(header: &str, steps: &str) -> String {
    format!("{header}steps:\n{steps}")
}

const HEADER: &str = "namespace: ns\nname: t\nversion: 1.0.0\n";
const ONE_STEP: &str = "  - {name: a, handler: noop}\n";

#[test]
fn long_namespace_name_and_version_are_refused() {
    let long = "a".repeat(10_000);
    let yaml = template(
        &format!("namespace: {long}\nname: {long}\nversion: 1.0.0-{long}\n"),
        ONE_STEP,
    );
    let errors = errors_of(&yaml);
    has(
        &errors,
        "namespace: 10000 characters, more than the limit of 128",
    );
    has(
        &errors,
        "name: 10000 characters, more than the limit of 128",
    );
    has(
        &errors,
        "version: 10006 characters, more than the limit of 64",
    );
    // At the limit, accepted.
    let ok = "b".repeat(128);
    let yaml = template(
        &format!("namespace: {ok}\nname: {ok}\nversion: 1.0.0\n"),
        ONE_STEP,
    );
    Template::from_yaml(&yaml).expect("names of 128 characters are fine");
}

#[test]
fn version_parts_must_fit_a_64_bit_integer() {
    let yaml = template(
        "namespace: ns\nname: t\nversion: 18446744073709551615.0.0\n",
        ONE_STEP,
    );
    has(
        &errors_of(&yaml),
        "version: major part 18446744073709551615 is larger than 9223372036854775807",
    );
    let yaml = template(
        "namespace: ns\nname: t\nversion: 9223372036854775807.0.0\n",
        ONE_STEP,
    );
    Template::from_yaml(&yaml).expect("i64::MAX fits");
}

#[test]
fn nul_characters_are_refused_with_their_field() {
    let yaml = template(
        "namespace: ns\nname: t\nversion: 1.0.0\ndescription: \"a\\0b\"\ninput_schema: {type: object, description: \"x\\0\"}\n",
        "  - {name: \"s\\0\", handler: \"noop\\0\", description: \"d\\0\", config: {k: [1, \"v\\0\"]}, depends_on: [\"b\\0\"]}\n",
    );
    let errors = errors_of(&yaml);
    for expected in [
        "description: contains a NUL character",
        "input_schema: contains a NUL character (\\u0000) at /description",
        "steps[0].name: contains a NUL character",
        "steps[0].handler: contains a NUL character",
        "steps[0].description: contains a NUL character",
        "steps[0].config: contains a NUL character (\\u0000) at /k/1",
        "steps[0].depends_on[0]: contains a NUL character",
    ] {
        has(&errors, expected);
    }
}

#[test]
fn long_step_fields_are_refused() {
    let long = "s".repeat(200);
    let desc = "d".repeat(5_000);
    let deps: Vec<String> = (0..=limits::MAX_DEPENDS_ON)
        .map(|_| "a".to_owned())
        .collect();
    let yaml = template(
        &format!("{HEADER}description: {desc}\n"),
        &format!(
            "  - {{name: a, handler: noop}}\n  - {{name: {long}, handler: {long}, description: {desc}, depends_on: [{}]}}\n",
            deps.join(", ")
        ),
    );
    let errors = errors_of(&yaml);
    has(
        &errors,
        "description: 5000 characters, more than the limit of 4096",
    );
    has(
        &errors,
        "steps[1].name: 200 characters, more than the limit of 128",
    );
    has(
        &errors,
        "steps[1].handler: 200 characters, more than the limit of 128",
    );
    has(
        &errors,
        "steps[1].description: 5000 characters, more than the limit of 4096",
    );
    has(
        &errors,
        "steps[1].depends_on: 10001 entries, more than the limit of 10000",
    );
}

fn many_steps(n: usize) -> String {
    let mut yaml = String::from(HEADER);
    yaml.push_str("steps:\n");
    for i in 0..n {
        yaml.push_str(&format!("  - {{name: s{i}, handler: noop}}\n"));
    }
    yaml
}

#[test]
fn too_many_steps_are_refused_with_the_limit() {
    let errors = errors_of(&many_steps(limits::MAX_STEPS + 1));
    assert_eq!(
        errors,
        vec!["steps: 20001 steps, more than the limit of 20000"]
    );
    Template::from_yaml(&many_steps(limits::MAX_STEPS)).expect("20,000 steps are fine");
}

#[test]
fn a_template_past_the_parser_budget_says_it_is_too_large() {
    let errors = errors_of(&many_steps(100_000));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("the template is too large: ")
            && errors[0].contains("at most 20000 steps"),
        "{errors:?}"
    );
    assert!(!errors[0].contains("budget breached"), "{errors:?}");
}

#[test]
fn a_huge_file_is_refused_by_size_before_parsing() {
    // 10 MB of something that would take the parser a while if it ever saw it.
    let mut yaml = String::from(HEADER);
    yaml.push_str("description: \"");
    yaml.push_str(&"x".repeat(10 * 1024 * 1024));
    yaml.push_str("\"\nsteps: [");
    let errors = errors_of(&yaml);
    assert_eq!(
        errors,
        vec![format!(
            "the template is too large: {} bytes, more than the limit of 4194304 bytes",
            yaml.len()
        )]
    );
}

#[test]
fn retry_ranges_are_checked() {
    let yaml = template(
        HEADER,
        "  - {name: a, handler: noop, retry: {max_attempts: 4294967295, base_ms: 18446744073709551615, max_ms: 18446744073709551615, multiplier: 1000}}\n  - {name: b, handler: noop, retry: {base_ms: 0, max_attempts: 5}}\n",
    );
    let errors = errors_of(&yaml);
    has(
        &errors,
        "steps[0].retry.max_attempts: 4294967295 is more than the limit of 1000",
    );
    has(
        &errors,
        "steps[0].retry.base_ms: 18446744073709551615 is more than the limit of 86400000 (one day)",
    );
    has(
        &errors,
        "steps[0].retry.max_ms: 18446744073709551615 is more than the limit of 86400000 (one day)",
    );
    has(
        &errors,
        "steps[0].retry.multiplier: must be a number between 1 and 100",
    );
    has(
        &errors,
        "steps[1].retry.base_ms: must be greater than 0 (for no wait between attempts, write backoff: none)",
    );
    let ok = template(
        HEADER,
        "  - {name: a, handler: noop, retry: {backoff: none, max_attempts: 1000}}\n",
    );
    Template::from_yaml(&ok).expect("no backoff needs no base_ms");
}

#[test]
fn a_step_max_below_the_default_base_is_refused() {
    let yaml = format!(
        "{HEADER}defaults:\n  retry: {{base_ms: 5000}}\nsteps:\n  - {{name: a, handler: noop, retry: {{max_ms: 100}}}}\n"
    );
    assert_eq!(
        errors_of(&yaml),
        vec!["steps[0].retry.max_ms: 100 is smaller than base_ms (5000, from defaults.retry)"]
    );
}

#[test]
fn timeouts_have_a_ceiling() {
    let yaml = format!(
        "{HEADER}defaults:\n  timeout_ms: 604800001\nsteps:\n  - {{name: a, handler: noop, timeout_ms: 18446744073709551615}}\n"
    );
    let errors = errors_of(&yaml);
    has(
        &errors,
        "defaults.timeout_ms: 604800001 is more than the limit of 604800000 (seven days)",
    );
    has(
        &errors,
        "steps[0].timeout_ms: 18446744073709551615 is more than the limit of 604800000 (seven days)",
    );
}

#[test]
fn a_schema_default_must_match_its_own_schema() {
    let yaml = format!(
        "{HEADER}input_schema:\n  type: object\n  properties:\n    n: {{type: integer, default: \"abc\"}}\n    inner:\n      type: object\n      properties:\n        flag: {{type: boolean, default: 3}}\n        ok: {{type: string, default: fine}}\nsteps:\n{ONE_STEP}"
    );
    let errors = errors_of(&yaml);
    has(&errors, "input_schema.properties.n.default: ");
    has(
        &errors,
        "input_schema.properties.inner.properties.flag.default: ",
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn a_context_with_a_nul_is_refused_with_or_without_a_schema() {
    let plain = Template::from_yaml(&template(HEADER, ONE_STEP)).unwrap();
    let err = plain
        .prepare_context(json!({"a": {"b": "x\u{0}"}}))
        .unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].pointer, "/a/b");
    assert!(err.0[0].message.contains("NUL character"), "{err}");

    let yaml = format!(
        "{HEADER}input_schema:\n  type: object\n  properties:\n    s: {{type: string}}\nsteps:\n{ONE_STEP}"
    );
    let with_schema = Template::from_yaml(&yaml).unwrap();
    let err = with_schema
        .prepare_context(json!({"s": "\u{0}"}))
        .unwrap_err();
    assert_eq!(err.0[0].pointer, "/s");
}

#[test]
fn nested_aliases_are_refused_before_they_expand() {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/templates/billion_laughs.yaml"
    ))
    .unwrap();
    assert_eq!(
        errors_of(&yaml),
        vec!["the template is too large: its aliases expand to more than 20000 YAML events"]
    );
    // A few aliases, as people use them to share settings, are fine.
    let yaml = format!(
        "{HEADER}steps:\n  - {{name: a, handler: noop, retry: &r {{max_attempts: 5, base_ms: 10}}}}\n  - {{name: b, handler: noop, retry: *r}}\n"
    );
    let template = Template::from_yaml(&yaml).unwrap();
    assert_eq!(template.steps[1].retry.max_attempts, 5);
}
