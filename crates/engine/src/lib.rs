//! The Tasker engine: the API to register templates, create and inspect tasks and act on them
//! ([`Engine`]), the [`Orchestrator`] that runs their steps, the step handlers, and the
//! in-process event bus.
//!
//! The engine depends on the [`tasker_store::Store`] trait only, never on a backend; the
//! `tasker` facade crate picks one from a database URL.

#![warn(missing_docs)]

mod config;
mod engine;
mod error;
mod events;
pub mod handler;
mod orchestrator;
pub mod telemetry;
pub mod workers;

pub use config::{ConfigError, EngineConfig, OrchestratorConfig, default_owner, limits};
pub use engine::{
    CreateTask, Engine, HistoryEntry, HistoryItem, HistoryKind, HistorySubject, MAX_BUCKET_SECONDS,
    MAX_BUCKETS, MAX_SLOWEST, SLOWEST_SCAN_TASKS, STEP_ANALYTICS_TASKS, SlowTask, SlowestTasks,
    StepAnalytics, StepDocument, StepStats, StepTask, StepView, TaskDetails, TaskDocument,
    TemplateDocument, TemplateRef, TemplateSummary, ThroughputBucket, explain_steps,
};
pub use error::{Error, Result};
pub use events::{CAPACITY as EVENT_CAPACITY, Event};
pub use handler::{
    CancellationToken, HandlerRegistry, ResultExt, StepContext, StepContextBuilder, StepError,
    StepHandler, StepResult, async_trait, handler_fn,
};
pub use orchestrator::{Orchestrator, OrchestratorHandle, RunStats, ShutdownSignal};
pub use telemetry::TraceContext;

// The types the API hands back, so that users need not depend on the inner crates.
pub use tasker_model::template::{ContextError, ContextErrors};
pub use tasker_model::{
    Clock, ManualClock, OffsetClock, State, StepFailure, StepId, StepReadiness, StepRecord,
    SystemClock, TaskExecutionContext, TaskId, TaskRecord, Template, TemplateErrors, Timestamp,
};
pub use tasker_store::{CreatedTask, RegisteredTemplate, Store, StoredTemplate, TaskFilter};
