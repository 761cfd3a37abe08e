//! Handlers by name.

use super::StepHandler;
use super::builtin;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
    /// `noop`, `sleep`, `fail` and `command`.
    pub fn with_builtins() -> Self {
        let mut registry = Self::empty();
        registry.register("noop", builtin::Noop);
        registry.register("sleep", builtin::Sleep);
        registry.register("fail", builtin::Fail);
        registry.register("command", builtin::Command);
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
}
