//! Fuzzing the template parser and validator: every input, however hostile, gets a template or
//! a non-empty list of errors; never a panic, never a hang. A template that validates also
//! survives its stored (JSON) form, and stays within the limits.

mod fuzz_support;

use fuzz_support::{config, corpus, edits, hostile_string, json_value_sized, mutate};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use tasker_model::{Template, limits};

static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// The property, for any text.
fn check_yaml(text: &str) {
    EXECUTIONS.fetch_add(1, Ordering::Relaxed);
    match Template::from_yaml(text) {
        Ok(template) => check_valid(&template),
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error list must not be empty");
            assert!(
                errors.0.iter().all(|e| !e.message.is_empty()),
                "every error says something: {errors:?}"
            );
        }
    }
}

fn check_valid(template: &Template) {
    assert!(!template.steps.is_empty());
    assert!(template.steps.len() <= limits::MAX_STEPS);
    assert!(template.namespace.chars().count() <= limits::MAX_IDENTIFIER_CHARS);
    assert!(template.name.chars().count() <= limits::MAX_IDENTIFIER_CHARS);
    assert!(limits::find_nul(&template.to_json()).is_none());
    for step in &template.steps {
        assert!(step.retry.max_attempts >= 1 && step.retry.max_attempts <= limits::MAX_ATTEMPTS);
    }
    let again = Template::from_json(&template.to_json())
        .unwrap_or_else(|e| panic!("the stored form of a valid template must validate: {e}"));
    assert_eq!(again.key(), template.key());
    assert_eq!(again.steps.len(), template.steps.len());
}

#[test]
fn the_corpus_gets_a_template_or_errors() {
    for (name, bytes) in corpus("templates") {
        let text = String::from_utf8_lossy(&bytes);
        let result = std::panic::catch_unwind(|| check_yaml(&text));
        assert!(result.is_ok(), "corpus file {name} broke the property");
    }
    // The bundled examples are in the corpus and must stay valid.
    for (name, bytes) in corpus("templates") {
        if [
            "linear",
            "diamond",
            "tree",
            "complex_dag",
            "order_fulfillment",
        ]
        .iter()
        .any(|example| name == format!("{example}.yaml"))
        {
            let text = String::from_utf8(bytes).unwrap();
            Template::from_yaml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_corpus_files(seed in proptest::sample::select(corpus("templates")), edits in edits()) {
        let bytes = mutate(&seed.1, &edits);
        check_yaml(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_yaml(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn deep_nesting(depth in 1usize..400, open in prop_oneof![Just(("[", "]")), Just(("{a: ", "}")), Just(("- ", ""))]) {
        let (open, close) = open;
        let value = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        check_yaml(&format!("namespace: ns\nname: t\nversion: 1.0.0\nsteps:\n  - {{name: a, handler: noop, config: {value}}}\n"));
    }

    /// Template-shaped JSON with hostile values in every field (the stored form's reader).
    #[test]
    fn template_shaped_json(
        namespace in hostile_string(),
        name in hostile_string(),
        version in prop_oneof![Just("1.0.0".to_owned()), hostile_string(), "[0-9]{1,25}\\.[0-9]{1,25}\\.[0-9]{1,25}"],
        description in proptest::option::of(hostile_string()),
        schema in proptest::option::of(json_value_sized(6, 24)),
        steps in proptest::collection::vec((hostile_string(), hostile_string(), json_value_sized(6, 24), proptest::collection::vec(hostile_string(), 0..3), json_value_sized(3, 8)), 0..6),
    ) {
        EXECUTIONS.fetch_add(1, Ordering::Relaxed);
        let steps: Vec<Value> = steps
            .into_iter()
            .map(|(name, handler, config, depends_on, retry)| json!({
                "name": name, "handler": handler, "config": config,
                "depends_on": depends_on, "retry": retry,
            }))
            .collect();
        let mut spec = json!({"namespace": namespace, "name": name, "version": version, "steps": steps});
        if let Some(d) = description { spec["description"] = json!(d); }
        if let Some(s) = schema { spec["input_schema"] = s; }
        match Template::from_json(&spec) {
            Ok(template) => check_valid(&template),
            Err(errors) => prop_assert!(!errors.0.is_empty()),
        }
    }
}

#[test]
fn zz_report_executions() {
    // Runs in the same process as the properties (alphabetically last in a serial run); the
    // count is only informative when the tests run with --test-threads=1.
    eprintln!(
        "fuzz_templates: {} executions so far in this process",
        EXECUTIONS.load(Ordering::Relaxed)
    );
}
