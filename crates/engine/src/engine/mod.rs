//! The engine: the API applications and the CLI use.

mod analytics;
mod documents;
mod idempotency;
mod inspect;
mod operator;
mod requests;
mod tasks;
mod templates;
mod wait;

pub use analytics::{
    MAX_BUCKET_SECONDS, MAX_BUCKETS, MAX_SLOWEST, SLOWEST_SCAN_TASKS, STEP_ANALYTICS_TASKS,
    SlowTask, SlowestTasks, StepAnalytics, StepStats, ThroughputBucket,
};
pub use documents::{
    HistoryItem, HistoryKind, StepDocument, StepTask, StepView, TaskDocument, TemplateDocument,
    TemplateSummary,
};
pub use inspect::{HistoryEntry, HistorySubject, TaskDetails, explain_steps};
pub use requests::{CreateTask, TemplateRef};

use crate::config::{EngineConfig, OrchestratorConfig};
use crate::error::Result;
use crate::events::{Event, EventBus};
use crate::handler::HandlerRegistry;
use crate::orchestrator::{Orchestrator, wakeup::Wakeup};
use std::sync::Arc;
use tasker_model::Clock;
use tasker_store::Store;
use templates::TemplateCache;
use tokio::sync::broadcast;

/// Cheap to clone: clones share the store, the handlers, the template cache and the event bus.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    handlers: HandlerRegistry,
    config: EngineConfig,
    events: EventBus,
    wakeup: Wakeup,
    templates: TemplateCache,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.inner.store.backend_name())
            .field("handlers", &self.inner.handlers)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Engine {
    /// An engine on `store` (which must be migrated before use: [`Engine::migrate`]), running
    /// `handlers`, with `config`. The `tasker` facade's `TaskerBuilder` builds one from a
    /// database URL.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tasker_engine::{Engine, EngineConfig, HandlerRegistry};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Arc::new(tasker_sqlite::SqliteStore::open("sqlite::memory:")?);
    /// let config = EngineConfig { retry_backoff_disabled: true, ..EngineConfig::default() };
    /// let engine = Engine::new(store, HandlerRegistry::with_builtins(), config);
    /// assert!(!engine.migrate().await?.is_empty());
    /// assert!(engine.pending_migrations().await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(store: Arc<dyn Store>, handlers: HandlerRegistry, config: EngineConfig) -> Engine {
        let wakeup = Wakeup::default();
        wakeup.follow(config.clock.as_ref());
        Engine {
            inner: Arc::new(Inner {
                store,
                handlers,
                config,
                events: EventBus::new(),
                wakeup,
                templates: TemplateCache::default(),
            }),
        }
    }

    /// The store it reads and writes.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock it reads "now" from ([`EngineConfig::clock`]).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.config.clock
    }

    /// The handlers this process runs.
    pub fn handlers(&self) -> &HandlerRegistry {
        &self.inner.handlers
    }

    /// Its settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Events published from now on, by this process's engine and orchestrators; see
    /// [`Event`] for an example and the ordering guarantees. A receiver that falls more than
    /// [`EVENT_CAPACITY`](crate::EVENT_CAPACITY) events behind misses the oldest (`recv`
    /// returns `Lagged(n)`, then goes on). Steps run by other processes are not seen.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Waits (about a second at most) until other processes were told of the work this one
    /// committed: on PostgreSQL, task creation wakes orchestrators elsewhere with a hint sent
    /// just after its commit. A process that creates tasks and exits at once calls this last,
    /// so that they start without waiting for the next poll.
    pub async fn flush_hints(&self) {
        self.inner.store.flush_hints().await;
    }

    /// Applies the store's pending migrations; returns their names (empty when the schema
    /// was current). Safe to call from several processes at once.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        Ok(self.inner.store.migrate().await?)
    }

    /// The names of the migrations not applied yet (empty when the schema is current).
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        Ok(self.inner.store.pending_migrations().await?)
    }

    /// An orchestrator that runs this engine's steps; see [`Orchestrator::run`] and
    /// [`Orchestrator::spawn`].
    pub fn orchestrator(&self, config: OrchestratorConfig) -> Orchestrator {
        Orchestrator::new(self.clone(), config)
    }

    pub(crate) fn events(&self) -> &EventBus {
        &self.inner.events
    }

    pub(crate) fn wakeup(&self) -> &Wakeup {
        &self.inner.wakeup
    }

    pub(crate) fn trace_context(&self) -> Option<&dyn crate::telemetry::TraceContext> {
        self.inner.config.trace_context.as_deref()
    }

    pub(crate) fn now(&self) -> tasker_model::Timestamp {
        self.inner.config.clock.now()
    }
}
