//! Building an [`Engine`] from a database URL.

use crate::connect::connect;
use std::sync::Arc;
use tasker_engine::{
    Clock, Engine, EngineConfig, Error, HandlerRegistry, StepHandler, TraceContext,
};

/// An [`Engine`] on the database at a URL, with the built-in handlers and yours.
pub struct TaskerBuilder {
    database_url: String,
    handlers: HandlerRegistry,
    config: EngineConfig,
    migrate: bool,
}

impl TaskerBuilder {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            handlers: HandlerRegistry::with_builtins(),
            config: EngineConfig::default(),
            migrate: true,
        }
    }

    /// Registers a handler under `name` (replacing a built-in of that name).
    pub fn handler(mut self, name: &str, handler: impl StepHandler) -> Self {
        self.handlers.register(name, handler);
        self
    }

    /// Retry failed steps at once instead of after their backoff (tests, demos).
    pub fn retry_backoff_disabled(mut self, yes: bool) -> Self {
        self.config.retry_backoff_disabled = yes;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = clock;
        self
    }

    /// Carries tasks' traces across processes ([`EngineConfig::trace_context`]).
    pub fn trace_context(mut self, hook: Arc<dyn TraceContext>) -> Self {
        self.config.trace_context = Some(hook);
        self
    }

    /// Apply pending migrations when building (the default).
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }

    pub async fn build(self) -> Result<Engine, Error> {
        let store = connect(&self.database_url).await?;
        let engine = Engine::new(store, self.handlers, self.config);
        if self.migrate {
            let applied = engine.migrate().await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
        }
        Ok(engine)
    }
}
