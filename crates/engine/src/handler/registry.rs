//! Handlers by name.

use super::StepHandler;
use super::builtin;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use tasker_model::{Template, TemplateError, TemplateErrors};

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

    pub fn empty() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name`, replacing any handler of that name.
    pub fn register(&mut self, name: &str, handler: impl StepHandler) {
        self.handlers.insert(name.to_owned(), Arc::new(handler));
    }

    pub fn contains(&self, name: &str) -> bool {
        self.handlers.contains_key(name)
    }

    /// Sorted.
    pub fn names(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn StepHandler>> {
        self.handlers.get(name).cloned()
    }

    /// Every problem a template has with this registry: handlers it does not know
    /// (`steps[1].handler`), and configs its handlers refuse (`steps[2].config.timeout_ms`).
    pub fn check_template(&self, template: &Template) -> Result<(), TemplateErrors> {
        let mut errors = match template.check_handlers(|name| self.contains(name)) {
            Ok(()) => Vec::new(),
            Err(TemplateErrors(errors)) => errors,
        };
        for (i, step) in template.steps.iter().enumerate() {
            let Some(handler) = self.handlers.get(&step.handler) else {
                continue;
            };
            if let Err(message) = handler.check_config(&step.config) {
                errors.push(config_error(i, &message));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(TemplateErrors(errors))
        }
    }
}

/// `"field: message"` becomes `steps[i].config.field: message`; any other text is reported at
/// `steps[i].config`.
fn config_error(step: usize, message: &str) -> TemplateError {
    if let Some((field, rest)) = message.split_once(": ")
        && !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
    {
        return TemplateError::new(format!("steps[{step}].config.{field}"), rest);
    }
    TemplateError::new(format!("steps[{step}].config"), message)
}
