//! Building an [`Engine`] from a database URL.

use crate::connect::{Settings, open};
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
    settings: Settings,
}

impl TaskerBuilder {
    /// A builder for the database at `database_url`: `sqlite://path.db` (the file is created
    /// if missing), `sqlite::memory:` (a private in-memory database, gone when the engine is
    /// dropped: tests), or `postgres://...` / `postgresql://...`. Nothing connects until
    /// [`TaskerBuilder::build`]. Starts with the built-in handlers (`noop`, `sleep`, `fail`,
    /// `command`, `http`), [`EngineConfig::default`] and migrations on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tasker::Error> {
    /// let engine = tasker::TaskerBuilder::new("sqlite::memory:").build().await?;
    /// assert!(engine.handlers().contains("noop"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            handlers: HandlerRegistry::with_builtins(),
            config: EngineConfig::default(),
            migrate: true,
            settings: Settings::default(),
        }
    }

    /// Registers a handler under `name` (replacing a built-in of that name).
    pub fn handler(mut self, name: &str, handler: impl StepHandler) -> Self {
        self.handlers.register(name, handler);
        self
    }

    /// Registers an async closure or function under `name`, its argument and result types
    /// inferred (see [`handler_fn`](crate::handler_fn)):
    /// `.handler_fn("greet", |ctx| async move { Ok(json!({ "step": ctx.step_name })) })`.
    pub fn handler_fn<F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(crate::StepContext) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = crate::StepResult> + Send + 'static,
    {
        self.handlers.register_fn(name, handler);
        self
    }

    /// Retry failed steps at once instead of after their backoff (tests, demos).
    pub fn retry_backoff_disabled(mut self, yes: bool) -> Self {
        self.config.retry_backoff_disabled = yes;
        self
    }

    /// The clock the engine reads "now" from (default: the system clock). Tests pass a
    /// [`ManualClock`](tasker_engine::ManualClock) to move time by hand, so that a retry's
    /// backoff passes without sleeping.
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

    /// Puts every table of Tasker in the PostgreSQL schema `schema` instead of the server's
    /// default (`public`), so that they cannot clash with an application's own `tasks` or
    /// `namespaces`. The schema is created if missing when migrations run (so the database
    /// user needs the `CREATE` privilege on the database, or the schema must exist already);
    /// each connection gets it as its `search_path`; wake-up notifications go on a channel of
    /// their own (`tasker_work_<schema>`), so applications on other schemas of the same
    /// database are not woken by this one's work. Every process of one application must use
    /// the same schema; `tasker` commands reach it with
    /// `?options=-c%20search_path%3D<schema>` on the URL.
    ///
    /// The name must be lower-case letters, digits and underscores, start with a letter or an
    /// underscore, and not start with `pg_`; [`TaskerBuilder::build`] refuses others with
    /// [`Error::InvalidSetting`] before connecting. Ignored for SQLite URLs.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tasker::Error> {
    /// let engine = tasker::TaskerBuilder::new("postgres://app@db.internal/app")
    ///     .postgres_schema("tasker")
    ///     .pool_size(8)
    ///     .build()
    ///     .await?;
    /// # let _ = engine;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres_schema(mut self, schema: impl Into<String>) -> Self {
        self.settings.postgres_schema = Some(schema.into());
        self
    }

    /// The most connections the engine opens to PostgreSQL for its work (default 16);
    /// they are opened as needed. Lease renewals have two more of their own, and a running
    /// orchestrator one more to listen for wake-ups. At least 1; [`TaskerBuilder::build`]
    /// refuses 0 with [`Error::InvalidSetting`]. Ignored for SQLite URLs (one connection).
    #[cfg(feature = "postgres")]
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.settings.pool_size = Some(connections);
        self
    }

    /// Checks the settings, opens the store, and applies pending migrations unless
    /// [`TaskerBuilder::migrate`] turned that off.
    pub async fn build(self) -> Result<Engine, Error> {
        self.check()?;
        let store = open(&self.database_url, &self.settings).await?;
        let engine = Engine::new(store, self.handlers, self.config);
        if self.migrate {
            let applied = engine.migrate().await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
        }
        Ok(engine)
    }

    /// Refuses settings that cannot work, before anything connects.
    fn check(&self) -> Result<(), Error> {
        #[cfg(feature = "postgres")]
        {
            if let Some(schema) = &self.settings.postgres_schema {
                tasker_postgres::check_schema_name(schema).map_err(|message| {
                    Error::InvalidSetting {
                        setting: "postgres_schema",
                        message,
                    }
                })?;
            }
            if self.settings.pool_size == Some(0) {
                return Err(Error::InvalidSetting {
                    setting: "pool_size",
                    message: "a pool needs at least 1 connection, got 0".into(),
                });
            }
        }
        Ok(())
    }
}
