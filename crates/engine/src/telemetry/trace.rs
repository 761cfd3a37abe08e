//! Spans of tasks and step attempts, and the hook that carries their trace across processes.
//!
//! A task is created with a W3C `traceparent` (from the request that created it) or, when a
//! [`TraceContext`] is installed, with the one of its own creation span; it is stored with the
//! task. Every span of the task after that (each step attempt, its end) names that stored
//! context as its parent, whichever process runs it, so one task is one trace.

use super::metrics::TemplateLabels;
use tasker_model::{State, TaskId};
use tasker_store::ClaimedStep;
use tracing::Span;
use tracing::field::Empty;

/// Links `tracing` spans to a distributed trace (W3C trace context). The engine calls it; an
/// implementation lives where the tracing system is chosen (the server implements it with
/// OpenTelemetry), so that the engine depends on none.
pub trait TraceContext: Send + Sync + std::fmt::Debug {
    /// Makes `traceparent` (`00-<trace id>-<span id>-<flags>`) the parent of `span`, which
    /// has just been created and not entered yet.
    fn set_parent(&self, span: &Span, traceparent: &str);

    /// The `traceparent` that names `span` itself, to hand to whatever continues its trace
    /// (a child process, a request); `None` when the span is not traced.
    fn traceparent(&self, span: &Span) -> Option<String>;
}

/// The span of one step attempt, a child of its task's stored trace context. `handler`,
/// `outcome` and `otel.status_code` are recorded as they become known.
pub(crate) fn step_span(hook: Option<&dyn TraceContext>, step: &ClaimedStep) -> Span {
    let span = tracing::info_span!(
        parent: None,
        "step",
        task_id = step.task_id,
        step_id = step.step_id,
        step = %step.name,
        attempt = step.attempt,
        handler = Empty,
        outcome = Empty,
        otel.status_code = Empty,
    );
    if let (Some(hook), Some(parent)) = (hook, step.traceparent.as_deref()) {
        hook.set_parent(&span, parent);
    }
    span
}

/// The `traceparent` a handler hands on: its attempt's span when that is traced, else the
/// task's stored one.
pub(crate) fn attempt_traceparent(
    hook: Option<&dyn TraceContext>,
    span: &Span,
    stored: Option<&str>,
) -> Option<String> {
    hook.and_then(|hook| hook.traceparent(span))
        .or_else(|| stored.map(str::to_owned))
}

/// The span of a task's creation: a child of the given `traceparent`, or of the current span
/// (a request's) when there is none. `task_id` and `created` are recorded once stored.
pub(crate) fn task_created_span(
    hook: Option<&dyn TraceContext>,
    labels: &TemplateLabels,
    traceparent: Option<&str>,
) -> Span {
    let span = tracing::info_span!(
        "task.create",
        namespace = %labels.namespace,
        template = %labels.template,
        task_id = Empty,
        created = Empty,
    );
    if let (Some(hook), Some(parent)) = (hook, traceparent) {
        hook.set_parent(&span, parent);
    }
    span
}

/// Records a task's end as a span of its trace (a child of its stored `traceparent`).
pub(crate) fn task_finished(
    hook: Option<&dyn TraceContext>,
    task_id: TaskId,
    labels: &TemplateLabels,
    state: State,
    traceparent: Option<&str>,
) {
    let span = tracing::info_span!(
        parent: None,
        "task.finish",
        task_id,
        namespace = %labels.namespace,
        template = %labels.template,
        state = state.as_str(),
        otel.status_code = Empty,
    );
    if state == State::Error {
        span.record("otel.status_code", "ERROR");
    }
    if let (Some(hook), Some(parent)) = (hook, traceparent) {
        hook.set_parent(&span, parent);
    }
    // A point in the trace: the span ends here.
    drop(span);
}
