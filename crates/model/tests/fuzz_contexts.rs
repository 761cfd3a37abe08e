//! Fuzzing the context reader and schema validation: any text or JSON value given as a task's
//! context gets a prepared context or errors with pointers; never a panic. A prepared context
//! holds no NUL character and prepares again to itself. Cases are cheap here: 6,000 per
//! property by default (`TASKER_FUZZ_CASES` overrides).

mod fuzz_support;

use fuzz_support::{config_with_default, corpus, edits, json_value, mutate};
use proptest::prelude::*;
use serde_json::Value;
use tasker_model::{Template, limits};

/// The templates whose schemas the contexts are checked against: every corpus template that
/// validates (some with schemas and defaults), and one with a schema of every common keyword.
fn templates() -> Vec<Template> {
    let mut templates: Vec<Template> = corpus("templates")
        .into_iter()
        .filter_map(|(_, bytes)| Template::from_yaml(&String::from_utf8_lossy(&bytes)).ok())
        .collect();
    templates.push(
        Template::from_yaml(
            r#"
namespace: fuzz
name: schema
version: 1.0.0
input_schema:
  type: object
  required: [id]
  additionalProperties: false
  properties:
    id: {type: integer, minimum: 1, maximum: 9007199254740991}
    name: {type: string, maxLength: 64, pattern: "^[a-z]+$", default: anon}
    tags: {type: array, items: {type: string}, uniqueItems: true, maxItems: 8}
    nested:
      type: object
      default: {}
      properties:
        level: {enum: [low, high], default: low}
        ratio: {type: number, exclusiveMinimum: 0}
    any: {}
steps:
  - {name: a, handler: noop}
"#,
        )
        .expect("the fuzz schema template is valid"),
    );
    assert!(templates.len() >= 6);
    templates
}

fn check(templates: &[Template], context: Value) {
    for template in templates {
        match template.prepare_context(context.clone()) {
            Ok(prepared) => {
                assert!(limits::find_nul(&prepared).is_none(), "{prepared}");
                let again = template
                    .prepare_context(prepared.clone())
                    .expect("a prepared context prepares again");
                assert_eq!(again, prepared);
            }
            Err(errors) => assert!(!errors.0.is_empty()),
        }
    }
}

/// The CLI's reading of a context: JSON text, then the template's checks.
fn check_text(templates: &[Template], text: &str) {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        check(templates, value);
    }
}

#[test]
fn the_corpus_gets_a_context_or_errors() {
    let templates = templates();
    for (name, bytes) in corpus("contexts") {
        let text = String::from_utf8_lossy(&bytes);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_text(&templates, &text)
        }));
        assert!(result.is_ok(), "corpus file {name} broke the property");
    }
}

proptest! {
    #![proptest_config(config_with_default(6_000))]

    #[test]
    fn arbitrary_values(context in json_value()) {
        thread_local!(static TEMPLATES: Vec<Template> = templates());
        TEMPLATES.with(|t| check(t, context));
    }

    #[test]
    fn mutated_corpus_texts(seed in proptest::sample::select(corpus("contexts")), edits in edits()) {
        thread_local!(static TEMPLATES: Vec<Template> = templates());
        let text = String::from_utf8_lossy(&mutate(&seed.1, &edits)).into_owned();
        TEMPLATES.with(|t| check_text(t, &text));
    }

    #[test]
    fn random_text(text in "\\PC{0,200}") {
        thread_local!(static TEMPLATES: Vec<Template> = templates());
        TEMPLATES.with(|t| check_text(t, &text));
    }
}
