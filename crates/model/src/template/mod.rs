//! Task templates: what a YAML file says ([`TemplateSpec`]), how it is checked, and the
//! validated [`Template`] the rest of the engine uses.
//!
//! [`Template::from_yaml`] is the entry point; its errors ([`TemplateErrors`]) name the field at
//! fault. A template's `input_schema` becomes a [`ContextSchema`], applied to each task's
//! context by [`Template::prepare_context`].

mod dag;
mod error;
mod schema;
mod spec;
mod validate;

pub use crate::identity::IdentityStrategy;
pub use dag::dependency_levels;
pub use error::{TemplateError, TemplateErrors};
pub use schema::{ContextError, ContextErrors, ContextSchema, yaml_boolean_hint};
pub use spec::{BackoffKind, DefaultsSpec, RetrySpec, StepSpec, TemplateSpec};

use crate::RetryPolicy;
use crate::limits::{MAX_STEPS, MAX_TEMPLATE_BYTES, MAX_YAML_ALIAS_EVENTS, find_nul};
use serde::Serialize;
use serde_json::Value;

/// A validated template: names are unique, every dependency exists, the graph has no cycle, the
/// input schema compiles and the retry settings are sane.
///
/// Each step's retry policy and timeout are resolved here (the step's own settings over the
/// template's `defaults` over the engine's), so each step holds what applies to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    /// The namespace the template belongs to (letters, digits, `_`, `-`, `.`; 1 to 128).
    pub namespace: String,
    /// The template's name within its namespace (same rule as the namespace).
    pub name: String,
    /// The template's semantic version; serialized as text (`1.2.0`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub version: semver::Version,
    /// What the template is for, as written; `None` when the file has none.
    pub description: Option<String>,
    /// How creation requests for the same task are recognized.
    pub identity: IdentityStrategy,
    /// The JSON Schema each task's context must match, as written; `None`: any context is
    /// accepted.
    pub input_schema: Option<Value>,
    /// Steps in the order the file lists them.
    pub steps: Vec<StepDefinition>,
    /// The file as parsed, kept so that the stored form can be re-read and compared.
    #[serde(skip)]
    pub spec: TemplateSpec,
    #[serde(skip)]
    schema: Option<ContextSchema>,
}

/// One step of a validated template, with its parents resolved to indexes and its retry
/// policy and timeout resolved from the template's defaults.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepDefinition {
    /// The step's name, unique within the template.
    pub name: String,
    /// The handler that runs the step.
    pub handler: String,
    /// The queue whose workers run the step; `None`: it runs in-process.
    pub queue: Option<String>,
    /// What the step does, as written; `None` when the file has none.
    pub description: Option<String>,
    /// The handler's configuration, as written; `null` when the file has none.
    pub config: Value,
    /// Parent steps, by name, as written.
    pub depends_on: Vec<String>,
    /// Parent steps, as indexes into the template's `steps`, in the order of `depends_on`.
    pub parents: Vec<usize>,
    /// The retry policy that applies: the step's `retry` over the template's `defaults.retry`
    /// over the engine's defaults.
    pub retry: RetryPolicy,
    /// The time limit of one attempt, in milliseconds: the step's own `timeout_ms`, else the
    /// template's `defaults.timeout_ms`; `None`: no limit. An attempt that runs past it fails,
    /// retryably.
    pub timeout_ms: Option<u64>,
}

impl Template {
    /// Parse and validate a YAML template. Every problem found is reported, each with the path
    /// of the field it concerns (`steps[2].depends_on[0]`).
    ///
    /// A text over [`MAX_TEMPLATE_BYTES`] is refused before it is parsed, and one that passes the
    /// YAML parser's budget (nodes, nesting, aliases) is refused as too large, naming the step
    /// limit, since a long list of steps is the usual way to get there. Unknown fields are
    /// errors, so a misspelt field does not pass silently. YAML that does not parse, or does not
    /// fit the format, is one error at the empty path.
    ///
    /// ```
    /// use tasker_model::Template;
    ///
    /// let diamond = Template::from_yaml(
    ///     r#"
    /// namespace: shop
    /// name: fulfil
    /// version: 1.2.0
    /// defaults:
    ///   retry: { max_attempts: 5, backoff: none }
    /// steps:
    ///   - { name: validate, handler: noop }
    ///   - { name: pay, handler: noop, depends_on: [validate] }
    ///   - { name: pack, handler: noop, depends_on: [validate], timeout_ms: 60000 }
    ///   - { name: ship, handler: noop, depends_on: [pay, pack] }
    /// "#,
    /// )?;
    /// assert_eq!(diamond.key(), "shop/fulfil@1.2.0");
    /// assert_eq!(diamond.levels(), vec![vec![0], vec![1, 2], vec![3]]);
    /// let ship = &diamond.steps[diamond.step_index("ship").unwrap()];
    /// assert_eq!(ship.parents, vec![1, 2]);
    /// assert_eq!(ship.retry.max_attempts, 5);
    /// assert_eq!(diamond.steps[2].timeout_ms, Some(60_000));
    ///
    /// // Every problem, each at its field.
    /// let errors = Template::from_yaml(
    ///     r#"
    /// namespace: shop
    /// name: broken
    /// version: 1.0.0
    /// steps:
    ///   - { name: a, handler: noop, depends_on: [b] }
    ///   - { name: b, handler: noop, depends_on: [a], retry: { max_attempts: 0 } }
    ///   - { name: c, handler: noop, depends_on: [nowhere] }
    /// "#,
    /// )
    /// .unwrap_err();
    /// let paths: Vec<&str> = errors.0.iter().map(|e| e.path.as_str()).collect();
    /// assert_eq!(paths, ["steps[1].retry.max_attempts", "steps[2].depends_on[0]", "steps[0].depends_on"]);
    /// assert_eq!(errors.0[2].message, "dependency cycle: a -> b -> a");
    /// # Ok::<(), tasker_model::TemplateErrors>(())
    /// ```
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

    /// Validate a template given as JSON (the form the store keeps, see [`Template::to_json`]),
    /// with the same checks and errors as [`Template::from_yaml`].
    pub fn from_json(json: &Value) -> Result<Template, TemplateErrors> {
        let spec: TemplateSpec = serde_json::from_value(json.clone())
            .map_err(|e| TemplateErrors::single("", format!("invalid template: {e}")))?;
        Template::from_spec(spec)
    }

    /// Validate a template already deserialized: every check of [`Template::from_yaml`] after
    /// parsing.
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
    /// `is_known` answers for one handler name.
    ///
    /// ```
    /// use tasker_model::Template;
    ///
    /// let template = Template::from_yaml(
    ///     "namespace: shop\nname: t\nversion: 1.0.0\nsteps:\n  - { name: a, handler: noop }\n  - { name: b, handler: shipit }\n",
    /// )?;
    /// let errors = template.check_handlers(|name| name == "noop").unwrap_err();
    /// assert_eq!(errors.0[0].to_string(), r#"steps[1].handler: unknown handler "shipit" (step "b")"#);
    /// # Ok::<(), tasker_model::TemplateErrors>(())
    /// ```
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
    ///
    /// Defaults are filled in first (see [`ContextSchema::prepare`]), then the whole context is
    /// validated, and every violation is reported with its JSON pointer. Without a schema the
    /// context comes back unchanged.
    ///
    /// ```
    /// use tasker_model::Template;
    /// use serde_json::json;
    ///
    /// let template = Template::from_yaml(
    ///     r#"
    /// namespace: shop
    /// name: ship
    /// version: 1.0.0
    /// input_schema:
    ///   type: object
    ///   required: [order_id]
    ///   properties:
    ///     order_id: { type: integer, minimum: 1 }
    ///     carrier: { type: string, default: post }
    /// steps:
    ///   - { name: ship, handler: noop }
    /// "#,
    /// )?;
    /// let context = template.prepare_context(json!({ "order_id": 7 }))?;
    /// assert_eq!(context, json!({ "order_id": 7, "carrier": "post" }));
    ///
    /// let errors = template.prepare_context(json!({ "order_id": 0, "carrier": 5 })).unwrap_err();
    /// let mut pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
    /// pointers.sort();
    /// assert_eq!(pointers, ["/carrier", "/order_id"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// The step's index in [`Template::steps`] by name; `None` for a name no step has.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }

    /// Steps grouped by dependency level: level 0 has no parents, level n depends on level n-1.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let parents: Vec<Vec<usize>> = self.steps.iter().map(|s| s.parents.clone()).collect();
        dependency_levels(&parents)
    }
}
