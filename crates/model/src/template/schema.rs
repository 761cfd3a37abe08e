//! A template's input schema: JSON Schema validation of a task's context, with defaults filled in.

use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// A template's input schema, compiled: checks a task's context and fills in its defaults.
/// Cheap to clone (the compiled validator is shared).
///
/// ```
/// use tasker_model::template::ContextSchema;
/// use serde_json::json;
///
/// let schema = ContextSchema::compile(&json!({
///     "type": "object",
///     "properties": {
///         "customer": {
///             "type": "object",
///             "default": {},
///             "properties": { "tier": { "type": "string", "default": "basic" } }
///         }
///     }
/// }))?;
/// // A default is filled in, then the defaults inside it.
/// assert_eq!(schema.prepare(json!({}))?, json!({ "customer": { "tier": "basic" } }));
///
/// let errors = schema.prepare(json!({ "customer": { "tier": 1 } })).unwrap_err();
/// assert_eq!(errors.0[0].pointer, "/customer/tier");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ContextSchema {
    raw: Value,
    validator: std::sync::Arc<jsonschema::Validator>,
}

impl fmt::Debug for ContextSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextSchema")
            .field("schema", &self.raw)
            .finish()
    }
}

/// One violation of the input schema, at a JSON pointer into the context (`/customer/email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextError {
    /// Where in the context, as a JSON pointer (RFC 6901); empty for the context as a whole.
    pub pointer: String,
    /// What is wrong, as the schema validator words it.
    pub message: String,
}

/// Every violation found; never empty. Displayed, each is a line `pointer: message` (`/`
/// for the context as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ContextErrors(pub Vec<ContextError>);

impl fmt::Display for ContextErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "context does not match the template's input schema:")?;
        for e in &self.0 {
            let at = if e.pointer.is_empty() {
                "/"
            } else {
                &e.pointer
            };
            write!(f, "\n  {at}: {}", e.message)?;
        }
        Ok(())
    }
}

impl ContextSchema {
    /// Compile a schema (draft 2020-12 unless its `$schema` names another); the error says
    /// what is wrong with it, and where. Where the fault is a boolean, the error adds that an
    /// unquoted `n`, `no`, `off`, `y`, `yes` or `on` reads as a boolean in YAML.
    pub fn compile(raw: &Value) -> Result<ContextSchema, String> {
        let validator = jsonschema::validator_for(raw).map_err(|e| {
            let at = e.instance_path().to_string();
            let mut text = e.to_string();
            if !at.is_empty() {
                text = format!("{text} (at {at})");
            }
            if e.instance().is_boolean() {
                text.push_str(&yaml_boolean_hint(e.instance()));
            }
            text
        })?;
        Ok(ContextSchema {
            raw: raw.clone(),
            validator: std::sync::Arc::new(validator),
        })
    }

    /// Fill in defaults, then validate. Defaults come from `default` on object properties,
    /// recursively, for properties the context leaves out (a value the context gives is never
    /// replaced). Returns the context with its defaults, or every violation found.
    pub fn prepare(&self, mut context: Value) -> Result<Value, ContextErrors> {
        fill_defaults(&self.raw, &mut context);
        let errors: Vec<ContextError> = self
            .validator
            .iter_errors(&context)
            .map(|e| ContextError {
                pointer: e.instance_path().to_string(),
                message: e.to_string(),
            })
            .collect();
        if errors.is_empty() {
            Ok(context)
        } else {
            Err(ContextErrors(errors))
        }
    }
}

fn fill_defaults(schema: &Value, value: &mut Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let Some(object) = value.as_object_mut() else {
        return;
    };
    for (name, property) in properties {
        match object.get_mut(name) {
            Some(existing) => fill_defaults(property, existing),
            None => {
                if let Some(default) = property.get("default") {
                    let mut filled = default.clone();
                    fill_defaults(property, &mut filled);
                    object.insert(name.clone(), filled);
                }
            }
        }
    }
}

/// YAML 1.1 reads unquoted `y`, `n`, `yes`, `no`, `on` and `off` as booleans, so `required: [n]`
/// arrives as `[false]`: an error about a boolean where the template author wrote a word says so.
/// Returns the text to append to such an error (it starts with `"; "`); handlers' config
/// errors about a boolean get the same.
///
/// ```
/// use serde_json::json;
///
/// let error = format!("args[0]: must be a string, got true{}", tasker_model::yaml_boolean_hint(&json!(true)));
/// assert!(error.ends_with("reads as the boolean true: quote it (\"n\") if you meant the text"));
/// ```
pub fn yaml_boolean_hint(value: &Value) -> String {
    format!(
        "; a YAML value such as n, no, off, y, yes or on, unquoted, reads as the boolean {value}: \
         quote it (\"n\") if you meant the text"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> ContextSchema {
        ContextSchema::compile(&json!({
            "type": "object",
            "required": ["order_id", "customer"],
            "properties": {
                "order_id": {"type": "integer", "minimum": 1},
                "priority": {"type": "string", "default": "normal"},
                "customer": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string"},
                        "tier": {"type": "string", "default": "basic"}
                    }
                }
            }
        }))
        .unwrap()
    }

    #[test]
    fn fills_defaults_at_every_level() {
        let ctx = schema()
            .prepare(json!({"order_id": 7, "customer": {"email": "a@b.c"}}))
            .unwrap();
        assert_eq!(
            ctx,
            json!({"order_id": 7, "priority": "normal", "customer": {"email": "a@b.c", "tier": "basic"}})
        );
    }

    #[test]
    fn reports_every_violation_with_its_pointer() {
        let err = schema()
            .prepare(json!({"order_id": 0, "customer": {"email": 5}}))
            .unwrap_err();
        let pointers: Vec<&str> = err.0.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/order_id"), "{err}");
        assert!(pointers.contains(&"/customer/email"), "{err}");
    }

    #[test]
    fn a_bad_schema_does_not_compile() {
        assert!(ContextSchema::compile(&json!({"type": "no-such-type"})).is_err());
    }
}
