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
    MAX_BUCKETS, MAX_SLOWEST, SLOWEST_SCAN_TASKS, STEP_ANALYTICS_TASKS, SlowTask, SlowestTasks,
    StepAnalytics, StepStats, ThroughputBucket,
};
pub use documents::{
    HistoryItem, HistoryKind, LastError, StepDocument, StepTask, StepView, TaskDocument,
    TemplateDocument, TemplateSummary,
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

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.config.clock
    }

    pub fn handlers(&self) -> &HandlerRegistry {
        &self.inner.handlers
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Events published from now on, by this process's engine and orchestrators.
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

    pub async fn migrate(&self) -> Result<Vec<String>> {
        Ok(self.inner.store.migrate().await?)
    }

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
