//! `complete` and `fail`: the outcome of a worker's attempt, written through the batched,
//! fenced `complete_steps` with the in-process retry rules (`orchestrator::outcome`). A call
//! that changes nothing is either the repetition of one that was applied (answered as it
//! was) or fenced out ([`Error::LeaseLost`]).

use super::Workers;
use super::attempts::Attempt;
use super::request::{WorkerFailure, check_result};
use super::token::LeaseToken;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::orchestrator::outcome::{AttemptFacts, Failure, failed};
use crate::telemetry::metrics::{self, AttemptOutcome};
use crate::telemetry::{TaskEnd, task_ended};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use tasker_model::limits::storable_text;
use tasker_model::{State, StepId, Timestamp};
use tasker_store::{CompletionResult, OutcomeKind, StepOutcome};

/// Why a fenced-out call changed nothing, as told to the worker.
pub(crate) const LOST: &str =
    "it expired, or the step was rescued, cancelled, resolved or finished by another attempt";

/// What a complete or fail call recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    /// The step's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub step_id: StepId,
    /// `true`: this call repeated one that was already recorded; nothing more was written.
    pub repeated: bool,
    /// For a failure: when the step runs again; `null` when it does not (permanent, out of
    /// attempts) or, for a repeated call, when it is no longer known.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub retry_at: Option<Timestamp>,
}

enum Verdict {
    Complete(Value),
    Fail(WorkerFailure),
}

impl Workers {
    /// Records the attempt's success with `result`.
    pub async fn complete(&self, step: StepId, token: &str, result: Value) -> Result<Recorded> {
        let token = LeaseToken::parse(token)?;
        check_result(&result, self.engine().config().max_result_bytes)?;
        self.record(step, token, Verdict::Complete(result)).await
    }

    /// Records the attempt's failure: retried after the step's backoff (or `retry_after`, up
    /// to the engine's `max_retry_after`) while it is retryable and has attempts left; a
    /// permanent failure blocks the task.
    pub async fn fail(
        &self,
        step: StepId,
        token: &str,
        failure: WorkerFailure,
    ) -> Result<Recorded> {
        let token = LeaseToken::parse(token)?;
        failure.validate()?;
        self.record(step, token, Verdict::Fail(failure)).await
    }

    async fn record(&self, step: StepId, token: LeaseToken, verdict: Verdict) -> Result<Recorded> {
        let attempt = match self.inner.attempts.get(step, token.attempt, &token.owner) {
            Some(attempt) => attempt,
            None => match self.read_attempt(step, &token).await? {
                Some(attempt) => attempt,
                // Not held by this token now: a repetition, or fenced out.
                None => return self.unapplied(step, &token, &verdict).await,
            },
        };
        let engine = self.engine();
        let now = engine.now();
        let result = match &verdict {
            Verdict::Complete(result) => OutcomeKind::Succeeded {
                result: result.clone(),
            },
            Verdict::Fail(failure) => {
                let message = storable_text(&failure.error).into_owned();
                let failure = if failure.retryable {
                    Failure::Retryable {
                        message,
                        retry_after: failure.retry_after,
                    }
                } else {
                    Failure::Permanent { message }
                };
                let cached = engine.template_by_id(attempt.template_id).await?;
                let definition = cached
                    .template
                    .steps
                    .iter()
                    .find(|s| s.name == attempt.name)
                    .ok_or_else(|| {
                        Error::Orchestrator(format!(
                            "step {step}: its template has no step {:?}",
                            attempt.name
                        ))
                    })?;
                let facts = AttemptFacts {
                    attempt: token.attempt,
                    max_attempts: attempt.max_attempts,
                    retryable: attempt.retryable,
                    policy: &definition.retry,
                };
                failed(&failure, facts, now, engine.config())
            }
        };
        let outcome = StepOutcome {
            step_id: step,
            task_id: attempt.task_id,
            owner: token.owner.clone(),
            attempt: token.attempt,
            lease_expired: false,
            result,
        };
        let written = self.inner.batcher.write(outcome.clone()).await?;
        if !written.applied {
            return self.unapplied(step, &token, &verdict).await;
        }
        self.inner.attempts.remove(step, token.attempt);
        let retry_at = match &outcome.result {
            OutcomeKind::Failed { retry_at, .. } => *retry_at,
            OutcomeKind::Succeeded { .. } => None,
        };
        self.applied(&attempt, &outcome, &written).await;
        Ok(Recorded {
            step_id: step,
            repeated: false,
            retry_at,
        })
    }

    /// The attempt, read from the store, when `token` holds it now (a server that did not
    /// hand it out, or restarted since).
    async fn read_attempt(&self, step: StepId, token: &LeaseToken) -> Result<Option<Attempt>> {
        let store = self.engine().store();
        let record = store.step(step).await?.ok_or(Error::StepNotFound(step))?;
        let held = record.state == State::InProgress
            && record.attempts == token.attempt
            && record.lease_owner.as_deref() == Some(token.owner.as_str());
        if !held {
            return Ok(None);
        }
        let task = store
            .task(record.task_id)
            .await?
            .ok_or(Error::TaskNotFound(record.task_id))?;
        Ok(Some(Attempt {
            owner: token.owner.clone(),
            task_id: record.task_id,
            queue: record.queue,
            template_id: task.template_id,
            name: record.name,
            handler: Arc::from(record.handler.as_str()),
            max_attempts: record.max_attempts,
            retryable: record.retryable,
            task_created_at: Some(task.created_at),
            traceparent: task.traceparent.map(Arc::from),
            lease_expires_at: record.lease_expires_at.unwrap_or(task.updated_at),
            claimed: None,
        }))
    }

    /// A call that wrote nothing: 200 again if this owner's attempt already ended the same
    /// way, else the lease is lost.
    async fn unapplied(
        &self,
        step: StepId,
        token: &LeaseToken,
        verdict: &Verdict,
    ) -> Result<Recorded> {
        let store = self.engine().store();
        let record = store.step(step).await?.ok_or(Error::StepNotFound(step))?;
        let history = store.step_transitions_of_task(record.task_id).await?;
        let mut mine: Vec<_> = history.into_iter().filter(|t| t.owner_id == step).collect();
        mine.sort_by_key(|t| t.sort_key);
        let claimed_here = mine.iter().position(|t| {
            t.to_state == State::InProgress
                && t.metadata["worker"] == token.owner.as_str()
                && t.metadata["attempt"] == token.attempt
        });
        let ended = claimed_here.and_then(|i| mine.get(i + 1)).filter(|next| {
            next.from_state == Some(State::InProgress)
                && match verdict {
                    Verdict::Complete(_) => next.to_state == State::Complete,
                    // A rescue of the expired lease is no failure this worker reported.
                    Verdict::Fail(_) => {
                        next.to_state == State::Error && next.metadata["failure"] != "lease_expired"
                    }
                }
        });
        if ended.is_some() {
            self.inner.attempts.remove(step, token.attempt);
            let retry_at = match verdict {
                Verdict::Fail(_)
                    if record.state == State::Error && record.attempts == token.attempt =>
                {
                    record.ready_at
                }
                _ => None,
            };
            return Ok(Recorded {
                step_id: step,
                repeated: true,
                retry_at,
            });
        }
        let handler: Arc<str> = Arc::from(record.handler.as_str());
        metrics::step_attempt(&handler, AttemptOutcome::LeaseLost);
        tracing::info!(step_id = step, attempt = token.attempt, owner = %token.owner, "worker outcome fenced out: the lease was lost");
        Err(Error::LeaseLost {
            step,
            attempt: token.attempt,
            why: LOST,
        })
    }

    /// Counts, logs and publishes an applied outcome as the orchestrator does for its own;
    /// wakes claimers when it released steps or scheduled a retry.
    async fn applied(&self, attempt: &Attempt, outcome: &StepOutcome, written: &CompletionResult) {
        let engine = self.engine();
        let events = engine.events();
        let (task_id, step_id, n) = (outcome.task_id, outcome.step_id, outcome.attempt);
        let name = attempt.name.clone();
        if let Some(claimed) = attempt.claimed {
            metrics::step_duration(&attempt.handler, claimed.elapsed());
        }
        let mut wake = !written.released_steps.is_empty();
        match &outcome.result {
            OutcomeKind::Succeeded { .. } => {
                metrics::step_attempt(&attempt.handler, AttemptOutcome::Success);
                tracing::debug!(task_id, step_id, step = %name, attempt = n, "step completed by a worker");
                events.publish(Event::StepCompleted {
                    task_id,
                    step_id,
                    name,
                    attempt: n,
                });
            }
            OutcomeKind::Failed {
                error, retry_at, ..
            } => {
                let kind = if retry_at.is_some() {
                    AttemptOutcome::Retryable
                } else {
                    AttemptOutcome::Permanent
                };
                metrics::step_attempt(&attempt.handler, kind);
                tracing::debug!(task_id, step_id, step = %name, attempt = n, %error, ?retry_at, "step failed in a worker");
                events.publish(Event::StepFailed {
                    task_id,
                    step_id,
                    name: name.clone(),
                    attempt: n,
                    error: error.clone(),
                    permanent: retry_at.is_none(),
                });
                if let Some(retry_at) = *retry_at {
                    wake = true;
                    events.publish(Event::RetryScheduled {
                        task_id,
                        step_id,
                        name,
                        attempt: n,
                        retry_at,
                    });
                }
            }
        }
        if let Some(state) = written.task_finished {
            let labels = engine.template_labels(attempt.template_id).await;
            let end = TaskEnd {
                task_id,
                state,
                created_at: attempt.task_created_at,
                traceparent: attempt.traceparent.as_deref(),
            };
            task_ended(engine, &labels, end);
            match state {
                State::Complete => {
                    tracing::info!(task_id, "task completed");
                    events.publish(Event::TaskCompleted { task_id });
                }
                State::Error => {
                    tracing::info!(task_id, "task failed");
                    events.publish(Event::TaskFailed { task_id });
                }
                _ => {}
            }
        }
        if wake {
            engine.wakeup().notify();
        }
    }
}
