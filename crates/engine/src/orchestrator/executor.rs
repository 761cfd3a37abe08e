//! Runs one claimed step's handler, with its timeout, and reports the outcome to the completer.

use super::Shared;
use super::outcome::{AttemptFacts, Failure, failed};
use crate::handler::{StepContext, StepError};
use std::sync::Arc;
use std::time::Duration;
use tasker_model::{RetryPolicy, StepDefinition};
use tasker_store::{ClaimedStep, OutcomeKind, StepOutcome};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

/// What the completer needs: the outcome to write and the step's name for events and logs.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) outcome: StepOutcome,
    pub(crate) name: String,
}

/// Aborts the handler's task when the executor is dropped (aborted with its orchestrator), so a
/// "dead" orchestrator leaves no handler running behind it.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) async fn execute(
    shared: Arc<Shared>,
    step: ClaimedStep,
    slot: OwnedSemaphorePermit,
    reports: UnboundedSender<Report>,
) {
    let kind = run_step(&shared, &step).await;
    let report = Report {
        outcome: StepOutcome {
            step_id: step.step_id,
            task_id: step.task_id,
            owner: shared.config.owner.clone(),
            attempt: step.attempt,
            lease_expired: false,
            result: kind,
        },
        name: step.name,
    };
    // The completer outlives every executor; a send error means the orchestrator is being torn
    // down, and the lease is then released or left to expire.
    let _ = reports.send(report);
    drop(slot);
    shared.progress.notify_one();
}

async fn run_step(shared: &Shared, step: &ClaimedStep) -> OutcomeKind {
    let engine = &shared.engine;
    let default_policy = RetryPolicy::default();
    let fail = |failure: Failure, policy: &RetryPolicy| {
        let facts = AttemptFacts {
            attempt: step.attempt,
            max_attempts: step.max_attempts,
            retryable: step.retryable,
            policy,
        };
        failed(
            &failure,
            facts,
            engine.now(),
            engine.config().retry_backoff_disabled,
        )
    };
    let cached = match engine.template_by_id(step.template_id).await {
        Ok(cached) => cached,
        Err(e) => {
            let failure = Failure::Retryable {
                message: format!("cannot load the step's template: {e}"),
                retry_after: None,
            };
            return fail(failure, &default_policy);
        }
    };
    let Some(definition) = cached.template.steps.iter().find(|s| s.name == step.name) else {
        let failure = Failure::Permanent {
            message: format!(
                "template {} has no step {:?}",
                cached.template.key(),
                step.name
            ),
        };
        return fail(failure, &default_policy);
    };
    match call_handler(shared, step, definition).await {
        Ok(result) => OutcomeKind::Succeeded { result },
        Err(failure) => fail(failure, &definition.retry),
    }
}

async fn call_handler(
    shared: &Shared,
    step: &ClaimedStep,
    definition: &StepDefinition,
) -> Result<serde_json::Value, Failure> {
    let Some(handler) = shared.engine.handlers().get(&definition.handler) else {
        // Another process registered the template; this one lacks the handler. Another
        // orchestrator (or a later deploy) may have it, so the attempt is retryable.
        return Err(Failure::Retryable {
            message: format!("no handler {:?} in this process", definition.handler),
            retry_after: None,
        });
    };
    let ctx = StepContext {
        task_id: step.task_id,
        step_id: step.step_id,
        step_name: step.name.clone(),
        attempt: step.attempt,
        context: step.task_context.clone(),
        config: definition.config.clone(),
        parent_results: step.parent_results.iter().cloned().collect(),
        cancellation: Default::default(),
    };
    // Its own task, so that a panic is caught as a JoinError instead of unwinding here.
    let task = tokio::spawn(async move { handler.call(ctx).await });
    let _guard = AbortOnDrop(task.abort_handle());
    let joined = match definition.timeout_ms {
        Some(ms) => {
            let limit = Duration::from_millis(ms);
            match tokio::time::timeout(limit, task).await {
                Ok(joined) => joined,
                Err(_) => return Err(Failure::Timeout { limit }),
            }
        }
        None => task.await,
    };
    match joined {
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
            message: panic_message(e.into_panic()),
        }),
        Err(e) => Err(Failure::Panic {
            message: format!("handler task ended abnormally: {e}"),
        }),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
