//! What the engine tells the outside about its work: metrics through the `metrics` facade and
//! spans through `tracing`. Neither needs anything installed: without a metrics recorder the
//! recording calls do nothing, and without a [`TraceContext`] spans are ordinary `tracing`
//! spans whose parents are not carried across processes.
//!
//! The engine never links a metrics exporter or OpenTelemetry: a server (or an embedding
//! application) installs the recorder and passes a [`TraceContext`] in
//! [`EngineConfig::trace_context`](crate::EngineConfig::trace_context).

pub mod metrics;
mod trace;

pub use trace::TraceContext;
pub(crate) use trace::{attempt_traceparent, step_span, task_created_span, task_finished};

use crate::engine::Engine;
use metrics::TemplateLabels;
use tasker_model::{State, TaskId, Timestamp};

/// A task that reached `complete`, `error` or `cancelled`.
pub(crate) struct TaskEnd<'a> {
    pub(crate) task_id: TaskId,
    pub(crate) state: State,
    /// When it was created, for its end-to-end time (not counted when unknown).
    pub(crate) created_at: Option<Timestamp>,
    /// Its stored trace context.
    pub(crate) traceparent: Option<&'a str>,
}

/// Counts a task's end and records it as a span of its trace.
pub(crate) fn task_ended(engine: &Engine, labels: &TemplateLabels, end: TaskEnd<'_>) {
    metrics::task_finished(labels, end.state, end.created_at, engine.now());
    task_finished(
        engine.trace_context(),
        end.task_id,
        labels,
        end.state,
        end.traceparent,
    );
}
