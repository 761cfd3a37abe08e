//! `POST /v1/worker/claim`: one claim statement, and when it finds nothing, a wait for work
//! (wake-ups of this process, hints from other processes, a poll as the fallback, the next
//! retry time) before the next one, until the request's wait is over.

use super::Workers;
use super::attempts::Attempt;
use super::request::WorkerClaim;
use super::token::LeaseToken;
use crate::error::Result;
use crate::events::Event;
use crate::orchestrator::wakeup::hinted;
use crate::telemetry::metrics;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tasker_model::{StepId, TaskId, Timestamp};
use tasker_store::{ClaimFilter, ClaimRequest, ClaimedStep};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often a waiting claim looks again when nothing wakes it (work of other processes on a
/// store without hints).
const POLL: Duration = Duration::from_secs(1);
/// The shortest wait after an empty claim while a step looked runnable (another claimer
/// holds it), so that waiting claims do not spin.
const MIN_WAIT: Duration = Duration::from_millis(10);

/// A claimed step, as a worker gets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerStep {
    /// The step's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub step_id: StepId,
    /// The id of the step's task.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub task_id: TaskId,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// Send it unchanged with the heartbeats and the outcome of this attempt.
    pub lease_token: String,
    /// The step's handler.
    pub handler: String,
    /// The step's name in its template.
    pub name: String,
    /// The task's context.
    pub context: Value,
    /// The step's `config` from the template (`{}` when it has none).
    pub config: Value,
    /// The results of the step's parents, by parent name.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parent_results: Map<String, Value>,
    /// The lease runs out then unless a heartbeat renews it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub lease_expires_at: Timestamp,
}

impl Workers {
    /// Claims up to `request.max` steps; when none is runnable, waits up to `request.wait`
    /// (at most [`Workers::max_wait`]) for one and answers as soon as something was claimed.
    /// Empty when the wait ran out or `stop` was cancelled first.
    pub async fn claim(
        &self,
        request: &WorkerClaim,
        stop: &CancellationToken,
    ) -> Result<Vec<WorkerStep>> {
        request.validate()?;
        self.advertise(
            &request.worker,
            &request.queue,
            request.handlers.as_deref(),
            request.lease,
        )
        .await;
        let engine = self.engine();
        let owner = LeaseToken::owner_for(&request.worker);
        let filter = ClaimFilter::queue(request.queue.clone(), request.handlers.clone());
        let lease = chrono::Duration::from_std(request.lease).unwrap_or(chrono::Duration::MAX);
        let deadline = Instant::now() + request.wait.min(self.max_wait());
        let mut hints = engine.store().wakeups();
        let mut empty_while_ready: u32 = 0;
        loop {
            // Enabled before the claim, so that work appearing meanwhile is not missed.
            let appeared = engine.wakeup().notified();
            tokio::pin!(appeared);
            appeared.as_mut().enable();
            if let Some(hints) = hints.as_mut() {
                hints.borrow_and_update();
            }
            let now = engine.now();
            let claim = ClaimRequest {
                owner: owner.clone(),
                limit: request.max,
                now,
                lease_expires_at: now.checked_add_signed(lease).unwrap_or(now),
                only_task: None,
                filter: filter.clone(),
            };
            let claimed = engine.store().claim_steps(&claim).await.inspect_err(|e| {
                metrics::database_error(e);
            })?;
            if !claimed.is_empty() {
                return Ok(self.hand_out(claimed, &request.queue, &owner, now));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || stop.is_cancelled() {
                return Ok(Vec::new());
            }
            let next = match engine.store().next_ready_at(&filter).await {
                Ok(Some(at)) => (at - engine.now()).to_std().unwrap_or(Duration::ZERO),
                Ok(None) => POLL,
                Err(e) => {
                    metrics::database_error(&e);
                    POLL
                }
            };
            let wait = if next.is_zero() {
                // Runnable, yet the claim got nothing: another claimer holds it.
                empty_while_ready = empty_while_ready.saturating_add(1);
                MIN_WAIT.saturating_mul(1 << empty_while_ready.min(6))
            } else {
                empty_while_ready = 0;
                next
            };
            let wake = Instant::now() + wait.min(POLL).min(left);
            tokio::select! {
                _ = &mut appeared => {}
                _ = hinted(&mut hints) => {}
                _ = tokio::time::sleep_until(wake) => {}
                _ = stop.cancelled() => return Ok(Vec::new()),
            }
        }
    }

    /// Remembers, counts and publishes what a claim took, and turns it into what the worker
    /// gets.
    fn hand_out(
        &self,
        claimed: Vec<ClaimedStep>,
        queue: &str,
        owner: &str,
        now: Timestamp,
    ) -> Vec<WorkerStep> {
        let engine = self.engine();
        let events = engine.events();
        metrics::claim_batch(claimed.len());
        let returned = Instant::now();
        claimed
            .into_iter()
            .map(|step| {
                metrics::step_wait(step.ready_at, now);
                if step.task_started {
                    events.publish(Event::TaskStarted {
                        task_id: step.task_id,
                    });
                }
                events.publish(Event::StepStarted {
                    task_id: step.task_id,
                    step_id: step.step_id,
                    name: step.name.clone(),
                    attempt: step.attempt,
                });
                tracing::debug!(task_id = step.task_id, step_id = step.step_id, step = %step.name, attempt = step.attempt, %owner, "step handed to a worker");
                self.inner.attempts.insert(
                    step.step_id,
                    step.attempt,
                    Attempt {
                        owner: owner.to_owned(),
                        task_id: step.task_id,
                        queue: Some(queue.to_owned()),
                        template_id: step.template_id,
                        name: step.name.clone(),
                        handler: Arc::from(step.handler.as_str()),
                        max_attempts: step.max_attempts,
                        retryable: step.retryable,
                        task_created_at: Some(step.task_created_at),
                        traceparent: step.traceparent.clone(),
                        lease_expires_at: step.lease_expires_at,
                        claimed: Some(returned),
                    },
                    now,
                );
                WorkerStep {
                    step_id: step.step_id,
                    task_id: step.task_id,
                    attempt: step.attempt,
                    lease_token: LeaseToken::new(step.attempt, owner).to_string(),
                    handler: step.handler,
                    name: step.name,
                    context: Value::clone(&step.task_context),
                    config: match step.inputs {
                        Some(config @ Value::Object(_)) => config,
                        Some(Value::Null) | None => Value::Object(Map::new()),
                        Some(other) => other,
                    },
                    parent_results: step.parent_results.into_iter().collect(),
                    lease_expires_at: step.lease_expires_at,
                }
            })
            .collect()
    }

    /// Extends the lease the token names by `lease` from now; the new expiry, or
    /// [`Error::LeaseLost`](crate::Error::LeaseLost) when the worker no longer holds it.
    pub async fn heartbeat(&self, step: StepId, token: &str, lease: Duration) -> Result<Timestamp> {
        let token = LeaseToken::parse(token)?;
        super::request::check_lease(lease)?;
        let engine = self.engine();
        let now = engine.now();
        let expires_at = now
            .checked_add_signed(chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX))
            .unwrap_or(now);
        let renewed = engine
            .store()
            .renew_leases(&token.owner, &[(step, token.attempt)], now, expires_at)
            .await
            .inspect_err(metrics::database_error)?;
        if !renewed.contains(&step) {
            return Err(self.lost(step, &token).await);
        }
        self.inner.attempts.renewed(step, token.attempt, expires_at);
        self.readvertise(token.worker_name()).await;
        Ok(expires_at)
    }

    /// The queue of the step a worker call names (`None`: an in-process step), so that the
    /// caller can check it may use that queue: remembered from the claim, else read.
    pub async fn queue_of(&self, step: StepId, token: &str) -> Result<Option<String>> {
        let token = LeaseToken::parse(token)?;
        if let Some(attempt) = self.inner.attempts.get(step, token.attempt, &token.owner) {
            return Ok(attempt.queue);
        }
        let record = self
            .engine()
            .store()
            .step(step)
            .await?
            .ok_or(crate::Error::StepNotFound(step))?;
        Ok(record.queue)
    }

    /// Why a call for `step` under `token` changed nothing: the step does not exist, or the
    /// lease is lost.
    pub(crate) async fn lost(&self, step: StepId, token: &LeaseToken) -> crate::Error {
        match self.engine().store().step(step).await {
            Ok(None) => crate::Error::StepNotFound(step),
            Ok(Some(_)) | Err(_) => crate::Error::LeaseLost {
                step,
                attempt: token.attempt,
                why: super::outcome::LOST,
            },
        }
    }
}
