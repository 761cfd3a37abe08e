//! Runs one claimed step's handler, with its timeout, and reports the outcome to the completer.

use super::Shared;
use super::completer::store_backoff;
use super::lease::Lease;
use super::outcome::{AttemptFacts, Failure, failed};
use super::stats::bump;
use crate::events::Event;
use crate::handler::panics;
use crate::handler::{CancellationToken, StepContext, StepError, StepHandler, StepResult};
use crate::telemetry::metrics::{self, AttemptOutcome, TemplateLabels, UNKNOWN};
use crate::telemetry::{attempt_traceparent, step_span};
use std::sync::Arc;
use std::time::Duration;
use tasker_model::limits::{check_storable_json, storable_text};
use tasker_model::{RetryPolicy, StepDefinition, Timestamp};
use tasker_store::{ClaimedStep, OutcomeKind, StepOutcome};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::Sender;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use tracing::{Instrument, Span};

/// What the completer needs: the outcome to write, the step's name for events and logs, and
/// the handler's slot, held until the outcome is written so that `concurrency` bounds the
/// leased work of this process, not only the handlers running (the rescuer's reports hold none).
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) outcome: StepOutcome,
    pub(crate) name: String,
    pub(crate) slot: Option<OwnedSemaphorePermit>,
    pub(crate) meta: AttemptMeta,
}

/// What metrics and traces need of an attempt once its outcome is written.
#[derive(Debug, Clone)]
pub(crate) struct AttemptMeta {
    /// Its task's template ("unknown" when it cannot be read).
    pub(crate) template: TemplateLabels,
    /// Its step's handler ("unknown" when the template does not name one for it).
    pub(crate) handler: Arc<str>,
    /// When its task was created, for the task's end-to-end time if this attempt ends it.
    pub(crate) task_created_at: Option<Timestamp>,
    /// Its task's stored trace context, for the span of the task's end.
    pub(crate) traceparent: Option<Arc<str>>,
}

impl AttemptMeta {
    /// Labels unknown until the template is read.
    pub(crate) fn unknown(
        task_created_at: Option<Timestamp>,
        traceparent: Option<Arc<str>>,
    ) -> Self {
        AttemptMeta {
            template: TemplateLabels::unknown(),
            handler: UNKNOWN.into(),
            task_created_at,
            traceparent,
        }
    }
}

/// How an attempt ended, as far as this process is concerned.
enum Verdict {
    /// An outcome to write.
    Outcome(OutcomeKind),
    /// The lease was lost: the handler was stopped and nothing is written (the step is
    /// rescued, or was resolved or cancelled meanwhile).
    LeaseLost,
    /// This process cannot run the step (no handler here, template unreadable): give it back
    /// without counting the attempt.
    CannotRun(String),
}

/// Aborts the handler's task when the executor is dropped (aborted with its orchestrator), so a
/// "dead" orchestrator leaves no handler running behind it.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A step that cannot run in this process is runnable again after this long, so that another
/// process that can run it (a rolling deploy) gets it, and this one does not spin on it.
const UNRUNNABLE_DELAY: Duration = Duration::from_secs(5);

pub(crate) async fn execute(
    shared: Arc<Shared>,
    step: ClaimedStep,
    lease: Arc<Lease>,
    slot: OwnedSemaphorePermit,
    reports: Sender<Report>,
) {
    lease.wait_for_predecessor().await;
    let span = step_span(shared.engine.trace_context(), &step);
    let mut meta = AttemptMeta::unknown(Some(step.task_created_at), step.traceparent.clone());
    let verdict = run_step(&shared, &step, &lease, &span, &mut meta)
        .instrument(span.clone())
        .await;
    lease.end();
    record_verdict(&span, &verdict);
    match verdict {
        Verdict::Outcome(kind) => {
            lease.mark_finished();
            let report = Report {
                outcome: StepOutcome {
                    step_id: step.step_id,
                    task_id: step.task_id,
                    owner: shared.config.owner.clone(),
                    attempt: step.attempt,
                    lease_expired: false,
                    result: storable(&shared, kind),
                },
                name: step.name,
                slot: Some(slot),
                meta,
            };
            // The completer outlives every executor; a send error means the orchestrator is
            // being torn down, and the lease is then released or left to expire.
            let _ = reports.send(report).await;
        }
        Verdict::LeaseLost => {
            bump(&shared.stats.leases_lost, 1);
            metrics::step_attempt(&meta.handler, AttemptOutcome::LeaseLost);
            tracing::warn!(task_id = step.task_id, step_id = step.step_id, step = %step.name, attempt = step.attempt, "lease lost: the handler was stopped and its outcome will not be written");
            let event = Event::LeaseLost {
                task_id: step.task_id,
                step_id: step.step_id,
                name: step.name.clone(),
                attempt: step.attempt,
            };
            shared.engine.events().publish(event);
            shared.leases.remove(step.step_id, step.attempt);
            drop(slot);
            shared.leave_flight(1);
        }
        Verdict::CannotRun(reason) => {
            give_back(&shared, &step, &reason).await;
            drop(slot);
            shared.leave_flight(1);
        }
    }
}

/// Gives a step this process cannot run back to the others, without counting the attempt.
/// While the store is away it tries again for as long as the lease lasts; after that the step
/// is rescued like any expired lease.
async fn give_back(shared: &Shared, step: &ClaimedStep, reason: &str) {
    let engine = &shared.engine;
    let mut failures = 0;
    loop {
        let now = engine.now();
        let ready_at = now
            .checked_add_signed(chrono::Duration::from_std(UNRUNNABLE_DELAY).unwrap_or_default())
            .unwrap_or(now);
        let result = engine
            .store()
            .release_steps(
                &shared.config.owner,
                &[(step.step_id, step.attempt)],
                now,
                ready_at,
                reason,
            )
            .await;
        match result {
            Ok(released) => {
                if !released.is_empty() {
                    bump(&shared.stats.steps_released, 1);
                    tracing::warn!(task_id = step.task_id, step_id = step.step_id, step = %step.name, %reason, retry_in = ?UNRUNNABLE_DELAY, "cannot run this step here; gave it back without counting the attempt");
                }
                break;
            }
            Err(e) if e.is_transient() && failures < 8 && !shared.shutdown.is_triggered() => {
                metrics::database_error(&e);
                failures += 1;
                tokio::time::sleep(store_backoff(failures)).await;
            }
            Err(e) => {
                metrics::database_error(&e);
                tracing::warn!(error = %e, step_id = step.step_id, "cannot give back a step this process cannot run; its lease will expire");
                break;
            }
        }
    }
    shared.leases.remove(step.step_id, step.attempt);
}

/// A success whose result the store cannot keep becomes a permanent failure that says why;
/// failure texts lose the characters no backend stores.
fn storable(shared: &Shared, kind: OutcomeKind) -> OutcomeKind {
    match kind {
        OutcomeKind::Succeeded { result } => {
            let limit = shared.engine.config().max_result_bytes;
            match check_storable_json("the step result", &result, limit) {
                Ok(()) => OutcomeKind::Succeeded { result },
                Err(why) => {
                    bump(&shared.stats.outcomes_unstorable, 1);
                    unstorable(why.to_string())
                }
            }
        }
        OutcomeKind::Failed {
            error,
            retry_at,
            backoff_request_seconds,
            metadata,
        } => OutcomeKind::Failed {
            error: storable_text(&error).into_owned(),
            retry_at,
            backoff_request_seconds,
            metadata,
        },
    }
}

/// The permanent failure recorded in place of an outcome that cannot be stored.
pub(crate) fn unstorable(why: String) -> OutcomeKind {
    OutcomeKind::Failed {
        error: format!("the outcome cannot be stored: {why}"),
        retry_at: None,
        backoff_request_seconds: None,
        metadata: serde_json::json!({ "failure": "unstorable_outcome" }),
    }
}

/// The attempt's outcome, as its span tells it.
fn record_verdict(span: &Span, verdict: &Verdict) {
    let outcome = match verdict {
        Verdict::Outcome(OutcomeKind::Succeeded { .. }) => "success",
        Verdict::Outcome(OutcomeKind::Failed { retry_at, .. }) if retry_at.is_some() => "retryable",
        Verdict::Outcome(OutcomeKind::Failed { .. }) => "permanent",
        Verdict::LeaseLost => "lease_lost",
        Verdict::CannotRun(_) => "released",
    };
    span.record("outcome", outcome);
    if !matches!(
        verdict,
        Verdict::Outcome(OutcomeKind::Succeeded { .. }) | Verdict::CannotRun(_)
    ) {
        span.record("otel.status_code", "ERROR");
    }
}

async fn run_step(
    shared: &Shared,
    step: &ClaimedStep,
    lease: &Lease,
    span: &Span,
    meta: &mut AttemptMeta,
) -> Verdict {
    let engine = &shared.engine;
    let fail = |failure: Failure, policy: &RetryPolicy| {
        let facts = AttemptFacts {
            attempt: step.attempt,
            max_attempts: step.max_attempts,
            retryable: step.retryable,
            policy,
        };
        Verdict::Outcome(failed(&failure, facts, engine.now(), engine.config()))
    };
    let cached = match engine.template_by_id(step.template_id).await {
        Ok(cached) => cached,
        Err(e) => {
            metrics::engine_error(&e);
            return Verdict::CannotRun(format!("cannot load the step's template: {e}"));
        }
    };
    meta.template = cached.labels.clone();
    let Some(definition) = cached.template.steps.iter().find(|s| s.name == step.name) else {
        let failure = Failure::Permanent {
            message: format!(
                "template {} has no step {:?}",
                cached.template.key(),
                step.name
            ),
        };
        return fail(failure, &RetryPolicy::default());
    };
    meta.handler = cached.handler_label(&step.name);
    span.record("handler", definition.handler.as_str());
    let Some(handler) = shared.engine.handlers().get(&definition.handler) else {
        // Another process registered the template; this one lacks the handler. Another
        // process (or a later deploy) may have it: no attempt is used up.
        return Verdict::CannotRun(format!(
            "no handler {:?} in this process",
            definition.handler
        ));
    };
    let traceparent =
        attempt_traceparent(engine.trace_context(), span, step.traceparent.as_deref());
    let started = Instant::now();
    let ran = call_handler(step, definition, handler, lease, traceparent, span).await;
    metrics::step_duration(&meta.handler, started.elapsed());
    match ran {
        Some(Ok(result)) => Verdict::Outcome(OutcomeKind::Succeeded { result }),
        Some(Err(failure)) => fail(failure, &definition.retry),
        None => Verdict::LeaseLost,
    }
}

/// Runs the handler until it returns, its time-out passes, or its lease is lost (`None`).
/// On a time-out or a lost lease the handler's token is cancelled and its task aborted.
async fn call_handler(
    step: &ClaimedStep,
    definition: &StepDefinition,
    handler: Arc<dyn StepHandler>,
    lease: &Lease,
    traceparent: Option<String>,
    span: &Span,
) -> Option<Result<serde_json::Value, Failure>> {
    // A child of the lease's token: a time-out stops this handler without marking the lease lost.
    let cancellation = lease.cancel.child_token();
    let ctx = StepContext {
        task_id: step.task_id,
        step_id: step.step_id,
        step_name: step.name.clone(),
        attempt: step.attempt,
        // The one copy a handler may own; the claimed step keeps sharing its task's.
        context: step.task_context.clone(),
        config: definition.config.clone(),
        parent_results: step.parent_results.iter().cloned().collect(),
        cancellation: cancellation.clone(),
        traceparent,
    };
    // Its own task, so that a panic is caught as a JoinError instead of unwinding here; in
    // the attempt's span, so that what the handler logs or traces belongs to the attempt.
    // A panic logs one line (handler/panics.rs), not the default hook's report.
    let running = panics::Running {
        task_id: step.task_id,
        step_id: step.step_id,
        step: step.name.clone(),
    };
    let mut task = tokio::spawn(
        panics::quiet(running, async move { handler.call(ctx).await }).instrument(span.clone()),
    );
    let _guard = AbortOnDrop(task.abort_handle());
    let limit = definition.timeout_ms.map(Duration::from_millis);
    let timed_out = async {
        match limit {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let joined = tokio::select! {
        joined = &mut task => joined,
        _ = timed_out => {
            stop(&cancellation, task).await;
            return Some(Err(Failure::Timeout { limit: limit.unwrap_or_default() }));
        }
        _ = lease.must_stop() => {
            stop(&cancellation, task).await;
            return None;
        }
    };
    if lease.cancel.is_cancelled() {
        // The handler returned (perhaps because it saw the token) after its lease was lost:
        // nothing of this attempt is written.
        return None;
    }
    Some(match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(StepError::Retryable {
            message,
            retry_after,
        })) => Err(Failure::Retryable {
            message,
            retry_after,
        }),
        Ok(Err(StepError::Permanent { message })) => Err(Failure::Permanent { message }),
        Err(e) if e.is_panic() => Err(Failure::Panic {
            message: panics::message(&*e.into_panic()),
        }),
        Err(e) => Err(Failure::Panic {
            message: format!("handler task ended abnormally: {e}"),
        }),
    })
}

/// Tells a handler to stop, drops it, and waits (a little) until it is gone, so that nothing
/// of this attempt runs once its executor moves on.
async fn stop(cancellation: &CancellationToken, task: JoinHandle<StepResult>) {
    cancellation.cancel();
    task.abort();
    if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
        tracing::error!(wait = ?STOP_WAIT, "a handler told to stop is still running; it blocks its thread");
    }
}

/// How long to wait for an aborted handler to be dropped: only a handler that blocks its
/// thread takes longer.
const STOP_WAIT: Duration = Duration::from_secs(5);
