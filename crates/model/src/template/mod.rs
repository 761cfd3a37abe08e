//! Task templates: what a YAML file says (`spec`), how it is checked (`validate`, `dag`), and
//! the validated [`Template`] the rest of the engine uses.

mod dag;
mod error;
mod schema;
mod spec;
mod validate;

pub use crate::identity::IdentityStrategy;
pub use dag::dependency_levels;
pub use error::{TemplateError, TemplateErrors};
pub use schema::{ContextError, ContextErrors, ContextSchema};
pub use spec::{BackoffKind, DefaultsSpec, RetrySpec, StepSpec, TemplateSpec};

use crate::RetryPolicy;
use crate::limits::{MAX_STEPS, MAX_TEMPLATE_BYTES, MAX_YAML_ALIAS_EVENTS, find_nul};
use serde::Serialize;
use serde_json::Value;

/// A validated template: names are unique, every dependency exists, the graph has no cycle, the
/// input schema compiles and the retry settings are sane.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    pub namespace: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub version: semver::Version,
    pub description: Option<String>,
    pub identity: IdentityStrategy,
    pub input_schema: Option<Value>,
    /// Steps in the order the file lists them.
    pub steps: Vec<StepDefinition>,
    /// The file as parsed, kept so that the stored form can be re-read and compared.
    #[serde(skip)]
    pub spec: TemplateSpec,
    #[serde(skip)]
    schema: Option<ContextSchema>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepDefinition {
    pub name: String,
    pub handler: String,
    /// The queue whose workers run the step; `None`: it runs in-process.
    pub queue: Option<String>,
    pub description: Option<String>,
    pub config: Value,
    /// Parent steps, by name, as written.
    pub depends_on: Vec<String>,
    /// Parent steps, as indexes into [`Template::steps`].
    pub parents: Vec<usize>,
    pub retry: RetryPolicy,
    pub timeout_ms: Option<u64>,
}

impl Template {
    /// Parse and validate a YAML template. Every problem found is reported, each with the path
    /// of the field it concerns (`steps[2].depends_on[0]`).
    ///
    /// A text over [`MAX_TEMPLATE_BYTES`] is refused before it is parsed, and one that passes the
    /// YAML parser's budget (nodes, nesting, aliases) is refused as too large, naming the step
    /// limit, since a long list of steps is the usual way to get there.
    pub fn from_yaml(yaml: &str) -> Result<Template, TemplateErrors> {
        if yaml.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateErrors::single(
                "",
                format!(
                    "the template is too large: {} bytes, more than the limit of {MAX_TEMPLATE_BYTES} bytes",
                    yaml.len()
                ),
            ));
        }
        let mut options = serde_saphyr::Options::default();
        options.alias_limits.max_total_replayed_events = MAX_YAML_ALIAS_EVENTS;
        let spec: TemplateSpec = serde_saphyr::from_str_with_options(yaml, options).map_err(|e| {
            let text = e.to_string();
            if matches!(e, serde_saphyr::Error::AliasReplayLimitExceeded { .. })
                || text.contains("alias replay")
            {
                return TemplateErrors::single(
                    "",
                    format!(
                        "the template is too large: its aliases expand to more than {MAX_YAML_ALIAS_EVENTS} YAML events"
                    ),
                );
            }
            // The parser's message (with a snippet of the input) says `budget breached: WHAT`.
            if let Some((_, rest)) = text.split_once("budget breached: ") {
                let what = rest.lines().next().unwrap_or_default();
                TemplateErrors::single(
                    "",
                    format!(
                        "the template is too large: the YAML parser stopped at its limit ({what}); a template may have at most {MAX_STEPS} steps and {MAX_TEMPLATE_BYTES} bytes"
                    ),
                )
            } else {
                TemplateErrors::single("", format!("invalid YAML: {text}"))
            }
        })?;
        Template::from_spec(spec)
    }

    /// Validate a template given as JSON (the form the store keeps).
    pub fn from_json(json: &Value) -> Result<Template, TemplateErrors> {
        let spec: TemplateSpec = serde_json::from_value(json.clone())
            .map_err(|e| TemplateErrors::single("", format!("invalid template: {e}")))?;
        Template::from_spec(spec)
    }

    pub fn from_spec(spec: TemplateSpec) -> Result<Template, TemplateErrors> {
        validate::validate(spec)
    }

    /// `namespace/name@version`.
    pub fn key(&self) -> String {
        format!("{}/{}@{}", self.namespace, self.name, self.version)
    }

    /// The stored form: the spec as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&self.spec).unwrap_or(Value::Null)
    }

    /// Report every step whose handler is not known, e.g. `steps[1].handler: unknown handler "shipit"`.
    pub fn check_handlers(&self, is_known: impl Fn(&str) -> bool) -> Result<(), TemplateErrors> {
        let errors: Vec<TemplateError> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, step)| !is_known(&step.handler))
            .map(|(i, step)| {
                TemplateError::new(
                    format!("steps[{i}].handler"),
                    format!("unknown handler {:?} (step {:?})", step.handler, step.name),
                )
            })
            .collect();
        TemplateErrors::from_vec(errors)
    }

    /// Check a task's context against the input schema and fill in its defaults.
    /// A NUL character anywhere in the context (PostgreSQL cannot store one) is refused the same
    /// way, with its pointer, whether or not the template has a schema.
    pub fn prepare_context(&self, context: Value) -> Result<Value, ContextErrors> {
        if let Some(pointer) = find_nul(&context) {
            return Err(ContextErrors(vec![ContextError {
                pointer,
                message: "contains a NUL character (\\u0000)".to_owned(),
            }]));
        }
        match &self.schema {
            Some(schema) => schema.prepare(context),
            None => Ok(context),
        }
    }

    /// The step's index by name.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Steps grouped by dependency level: level 0 has no parents, level n depends on level n-1.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let parents: Vec<Vec<usize>> = self.steps.iter().map(|s| s.parents.clone()).collect();
        dependency_levels(&parents)
    }
}
