//! Handlers by name.

use super::StepHandler;
use super::builtin;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use tasker_model::{Template, TemplateError, TemplateErrors};

/// The handlers of a process, by name. An orchestrator runs the in-process steps whose handler
/// is here, and leaves the others to processes that have theirs.
///
/// ```
/// use serde_json::json;
/// use tasker_engine::{HandlerRegistry, StepContext};
///
/// let mut handlers = HandlerRegistry::with_builtins();
/// handlers.register("charge", |_ctx: StepContext| async { Ok(json!({ "charged": true })) });
/// assert!(handlers.contains("charge") && handlers.contains("noop"));
/// assert!(handlers.get("refund").is_none());
/// ```
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: BTreeMap<String, Arc<dyn StepHandler>>,
}

impl fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.handlers.keys()).finish()
    }
}

impl HandlerRegistry {
    /// `noop`, `sleep`, `fail`, `command` and `http`.
    pub fn with_builtins() -> Self {
        let mut registry = Self::empty();
        registry.register("noop", builtin::Noop);
        registry.register("sleep", builtin::Checked::sleep());
        registry.register("fail", builtin::Checked::fail());
        registry.register("command", builtin::Checked::command());
        registry.register("http", builtin::Checked::http());
        registry
    }

    /// No handlers at all, not even the built-ins.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name`, replacing any handler of that name.
    pub fn register(&mut self, name: &str, handler: impl StepHandler) {
        self.handlers.insert(name.to_owned(), Arc::new(handler));
    }

    /// Registers an async closure or function under `name`, replacing any handler of that
    /// name. Unlike [`register`](Self::register), the closure's argument and result types are
    /// inferred (see [`handler_fn`](super::handler_fn)):
    ///
    /// ```
    /// use tasker_engine::handler::HandlerRegistry;
    /// use serde_json::json;
    ///
    /// let mut registry = HandlerRegistry::empty();
    /// registry.register_fn("greet", |ctx| async move { Ok(json!({ "hi": ctx.step_name })) });
    /// assert_eq!(registry.names(), ["greet"]);
    /// ```
    pub fn register_fn<F, Fut>(&mut self, name: &str, handler: F)
    where
        F: Fn(super::StepContext) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = super::StepResult> + Send + 'static,
    {
        self.register(name, handler);
    }

    /// Whether a handler is registered under `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.handlers.contains_key(name)
    }

    /// Sorted.
    pub fn names(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }

    /// The handler registered under `name`; `None` if there is none.
    pub fn get(&self, name: &str) -> Option<Arc<dyn StepHandler>> {
        self.handlers.get(name).cloned()
    }

    /// Every configuration a handler of this registry refuses, among the steps that run
    /// in-process (`steps[2].config.timeout_ms`). A handler name this registry does not know is
    /// no problem: the step runs wherever a process or worker has that handler (see
    /// [`HandlerRegistry::unknown_handlers`]), and a `queue` step's handler is its workers'
    /// business.
    pub fn check_template(&self, template: &Template) -> Result<(), TemplateErrors> {
        let errors: Vec<TemplateError> = template
            .steps
            .iter()
            .enumerate()
            .filter(|(_, step)| step.queue.is_none())
            .filter_map(|(i, step)| {
                let handler = self.handlers.get(&step.handler)?;
                let message = handler.check_config(&step.config).err()?;
                Some(config_error(i, &message, &step.config))
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TemplateErrors(errors))
        }
    }

    /// The in-process steps whose handler this registry does not have
    /// (`steps[1].handler: unknown handler "shipit" (step "b")`): warnings, not errors, since
    /// another process may register them. Queue steps are not reported.
    pub fn unknown_handlers(&self, template: &Template) -> Vec<TemplateError> {
        template
            .steps
            .iter()
            .enumerate()
            .filter(|(_, step)| step.queue.is_none() && !self.contains(&step.handler))
            .map(|(i, step)| {
                TemplateError::new(
                    format!("steps[{i}].handler"),
                    format!(
                        "unknown handler {:?} (step {:?}): only a process that registers it will run the step",
                        step.handler, step.name
                    ),
                )
            })
            .collect()
    }
}

/// `"field: message"` becomes `steps[i].config.field: message`; any other text is reported at
/// `steps[i].config`. When the refused value is a boolean, the error adds that YAML reads an
/// unquoted `yes`, `no`, `on`, `n`... as one: what the author wrote was most likely a word.
fn config_error(step: usize, message: &str, config: &Value) -> TemplateError {
    if let Some((field, rest)) = message.split_once(": ")
        && !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
    {
        let hint = value_at(config, field)
            .map(boolean_hint)
            .unwrap_or_default();
        return TemplateError::new(
            format!("steps[{step}].config.{field}"),
            format!("{rest}{hint}"),
        );
    }
    TemplateError::new(
        format!("steps[{step}].config"),
        format!("{message}{}", boolean_hint(config)),
    )
}

fn boolean_hint(value: &Value) -> String {
    if value.is_boolean() {
        tasker_model::yaml_boolean_hint(value)
    } else {
        String::new()
    }
}

/// The value a field path of a config error names (`args[0]`, `retry.codes[2]`), if any.
fn value_at<'a>(config: &'a Value, path: &str) -> Option<&'a Value> {
    let mut value = config;
    for part in path.split('.') {
        let (name, mut indexes) = match part.find('[') {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        if !name.is_empty() {
            value = value.get(name)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let (index, after) = rest.split_once(']')?;
            value = value.get(index.parse::<usize>().ok()?)?;
            indexes = after;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_boolean_where_a_word_was_meant_gets_the_yaml_hint() {
        let registry = HandlerRegistry::with_builtins();
        // YAML reads the unquoted `yes` as true.
        let template = Template::from_yaml(
            "namespace: t\nname: yaml\nversion: 1.0.0\nsteps:\n  - name: ask\n    handler: command\n    config: { program: confirm, args: [--force, yes] }\n",
        )
        .unwrap();
        let errors = registry.check_template(&template).unwrap_err().to_string();
        assert!(
            errors.contains("steps[0].config.args[1]: must be a string, got true; a YAML value such as n, no, off, y, yes or on, unquoted, reads as the boolean true"),
            "{errors}"
        );

        // Other refused values get no hint.
        let template = Template::from_yaml(
            "namespace: t\nname: yaml\nversion: 1.0.0\nsteps:\n  - name: ask\n    handler: command\n    config: { program: confirm, args: [5] }\n",
        )
        .unwrap();
        let errors = registry.check_template(&template).unwrap_err().to_string();
        assert!(!errors.contains("YAML"), "{errors}");
    }

    #[test]
    fn field_paths_lead_to_their_values() {
        let config = json!({ "a": { "b": [1, [2, true]] }, "c": false });
        assert_eq!(value_at(&config, "c"), Some(&json!(false)));
        assert_eq!(value_at(&config, "a.b[1][1]"), Some(&json!(true)));
        assert_eq!(value_at(&config, "a.b[7]"), None);
        assert_eq!(value_at(&config, "a.x"), None);
        assert_eq!(value_at(&config, "a.b[x]"), None);
        assert!(
            config_error(0, "must be a mapping, got true", &json!(true))
                .to_string()
                .contains("reads as the boolean true")
        );
    }
}
