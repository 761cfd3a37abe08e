//! `/v1/worker`: the protocol of workers in any language. They claim steps of a queue (a long
//! poll), renew their leases with heartbeats, and report each attempt's outcome. The engine
//! does the work (`tasker_engine::workers`); these handlers read bodies, check scopes and
//! shape answers.
//!
//! Scope: `workers` (or `admin`); limited to namespace `ns`, it allows the queues `ns` and
//! `ns.*`.

use crate::auth::{Authorized, needs};
use crate::extract::{Json, Path};
use crate::problem::{Problem, ProblemDocument};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tasker_engine::workers::{Recorded, WorkerClaim, WorkerFailure, WorkerStep, limits};
use tasker_model::{StepId, Timestamp};
use utoipa::ToSchema;

/// Claim steps of a queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The queue, as templates name it in `queue:`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,128}$", example = "payments")]
    pub queue: String,
    /// Only steps of these handlers; left out: every handler of the queue.
    #[schema(min_items = 1, max_items = 100, value_type = Option<Vec<String>>, example = json!(["charge_card"]))]
    pub handlers: Option<Vec<HandlerName>>,
    /// Steps to claim at most, 1 to 100 (default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub max: Option<i64>,
    /// How long to wait for a step when none is runnable, 0 to 60000 ms (default 0); the
    /// server caps it further (`tasker serve --worker-max-wait-ms`, 30000 by default).
    #[schema(minimum = 0, maximum = 60000)]
    pub wait_ms: Option<i64>,
    /// The lease on each claimed step, 1000 to 3600000 ms (default 30000): heartbeats renew
    /// it; when it runs out, the step is rescued as a failed attempt.
    #[schema(minimum = 1000, maximum = 3600000)]
    pub lease_ms: Option<i64>,
    /// The worker's name (in its leases and in `task show`).
    #[schema(pattern = "^[A-Za-z0-9_.:@-]{1,128}$", example = "billing-1")]
    pub worker: String,
}

/// A handler name: 1 to 128 characters, no control characters.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]{1,128}$")]
#[serde(transparent)]
pub struct HandlerName(pub String);

/// The steps a worker claimed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimResponse {
    /// Empty when nothing became runnable within the wait.
    pub steps: Vec<WorkerStep>,
}

/// A worker's renewal of its lease on a step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The step's `lease_token` from the claim.
    #[schema(min_length = 1, max_length = 256)]
    pub lease_token: String,
    /// The lease from now on, 1000 to 3600000 ms (default 30000).
    #[schema(minimum = 1000, maximum = 3600000)]
    pub lease_ms: Option<i64>,
}

/// The renewed lease.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatResponse {
    /// The step's id.
    #[schema(value_type = i64)]
    pub step_id: StepId,
    /// The lease runs out then unless renewed again.
    #[schema(value_type = String, format = DateTime)]
    pub lease_expires_at: Timestamp,
}

/// A worker's report that a step succeeded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The step's `lease_token` from the claim.
    #[schema(min_length = 1, max_length = 256)]
    pub lease_token: String,
    /// The step's result (any JSON; `null` when left out), given to its children as a parent
    /// result. At most the engine's `max_result_bytes` (1 MiB by default), no NUL character.
    #[serde(default)]
    pub result: Value,
}

/// A worker's report that a step's attempt failed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    /// The step's `lease_token` from the claim.
    #[schema(min_length = 1, max_length = 256)]
    pub lease_token: String,
    /// What went wrong, at most 65536 bytes.
    #[schema(max_length = 16384)]
    pub error: String,
    /// `false`: a permanent failure: the step is not retried and its task is blocked
    /// (default `true`).
    pub retryable: Option<bool>,
    /// Retry no sooner than this, 0 to 86400000 ms (as an in-process handler's retry-after:
    /// it overrides the backoff, up to the server's `max_retry_after`).
    #[schema(minimum = 0, maximum = 86400000)]
    pub retry_after_ms: Option<i64>,
}

/// A field in milliseconds, checked against its range.
fn millis(
    field: &'static str,
    value: Option<i64>,
    default: u64,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<Duration, Problem> {
    let ms = match value {
        None => default,
        Some(ms) => u64::try_from(ms)
            .ok()
            .filter(|ms| range.contains(ms))
            .ok_or_else(|| {
                Problem::validation(format!(
                    "{field}: must be within {}..={}, got {ms}",
                    range.start(),
                    range.end()
                ))
                .with_pointer(format!("/{field}"))
            })?,
    };
    Ok(Duration::from_millis(ms))
}

/// Checks that the token may use the queue of the step a call names.
async fn require_step_queue(
    state: &AppState,
    auth: &Authorized<needs::Workers>,
    step: StepId,
    token: &str,
) -> Result<(), Problem> {
    if auth.caller.reach(crate::auth::Permission::Workers) == crate::auth::Reach::Everywhere {
        return Ok(());
    }
    match state.workers.queue_of(step, token).await? {
        Some(queue) => auth.caller.require_queue(&queue),
        None => Err(Problem::forbidden(
            "this step runs in-process, not on a worker queue",
        )),
    }
}

/// Claim steps
///
/// Claims up to `max` runnable steps of `queue` (of `handlers` only, when given) under a lease
/// of `lease_ms` each. When none is runnable, waits up to `wait_ms` and answers as soon as one
/// was claimed; an empty list when the wait ran out (or the server is stopping).
#[utoipa::path(
    post,
    path = "/v1/worker/claim",
    operation_id = "worker_claim",
    tag = "workers",
    request_body = ClaimBody,
    responses(
        (status = 200, description = "The claimed steps, perhaps none.", body = ClaimResponse),
        (status = 400, description = "A field is malformed or out of range.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token may not use this queue.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["workers"]))
)]
pub async fn claim(
    State(state): State<AppState>,
    auth: Authorized<needs::Workers>,
    Json(body): Json<ClaimBody>,
) -> Result<axum::Json<ClaimResponse>, Problem> {
    let max = body.max.unwrap_or(1);
    let max = u32::try_from(max)
        .ok()
        .filter(|m| (1..=limits::MAX_CLAIM).contains(m))
        .ok_or_else(|| {
            Problem::validation(format!(
                "max: must be within 1..={}, got {max}",
                limits::MAX_CLAIM
            ))
            .with_pointer("/max")
        })?;
    let request = WorkerClaim {
        queue: body.queue,
        handlers: body
            .handlers
            .map(|names| names.into_iter().map(|h| h.0).collect()),
        max,
        wait: millis("wait_ms", body.wait_ms, 0, &limits::WAIT_MS)?,
        lease: millis(
            "lease_ms",
            body.lease_ms,
            limits::DEFAULT_LEASE_MS,
            &limits::LEASE_MS,
        )?,
        worker: body.worker,
    };
    request.validate()?;
    auth.caller.require_queue(&request.queue)?;
    let steps = state.workers.claim(&request, &state.shutdown).await?;
    Ok(axum::Json(ClaimResponse { steps }))
}

/// Renew a lease
///
/// Extends the lease the token names by `lease_ms` from now. 409 when the lease is lost
/// (expired, rescued, or the step ended otherwise): stop working on the step and report
/// nothing for it.
#[utoipa::path(
    post,
    path = "/v1/worker/steps/{id}/heartbeat",
    operation_id = "worker_heartbeat",
    tag = "workers",
    params(("id" = i64, Path, description = "The step's id.")),
    request_body = HeartbeatBody,
    responses(
        (status = 200, description = "Renewed.", body = HeartbeatResponse),
        (status = 400, description = "A field is malformed or out of range.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token may not use this step's queue.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such step.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The lease is lost.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["workers"]))
)]
pub async fn heartbeat(
    State(state): State<AppState>,
    auth: Authorized<needs::Workers>,
    Path(id): Path<StepId>,
    Json(body): Json<HeartbeatBody>,
) -> Result<axum::Json<HeartbeatResponse>, Problem> {
    let lease = millis(
        "lease_ms",
        body.lease_ms,
        limits::DEFAULT_LEASE_MS,
        &limits::LEASE_MS,
    )?;
    require_step_queue(&state, &auth, id, &body.lease_token).await?;
    let lease_expires_at = state
        .workers
        .heartbeat(id, &body.lease_token, lease)
        .await?;
    Ok(axum::Json(HeartbeatResponse {
        step_id: id,
        lease_expires_at,
    }))
}

/// Complete a step
///
/// Records the attempt's success with its result; its children may run. The same call
/// repeated after it was recorded answers 200 again (`repeated: true`); a token whose lease is
/// lost is 409 and changes nothing.
#[utoipa::path(
    post,
    path = "/v1/worker/steps/{id}/complete",
    operation_id = "worker_complete",
    tag = "workers",
    params(("id" = i64, Path, description = "The step's id.")),
    request_body = CompleteBody,
    responses(
        (status = 200, description = "Recorded (or recorded before).", body = Recorded),
        (status = 400, description = "A field is malformed.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token may not use this step's queue.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such step.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The lease is lost; nothing was written.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The result is too large; nothing was written.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["workers"]))
)]
pub async fn complete(
    State(state): State<AppState>,
    auth: Authorized<needs::Workers>,
    Path(id): Path<StepId>,
    Json(body): Json<CompleteBody>,
) -> Result<axum::Json<Recorded>, Problem> {
    require_step_queue(&state, &auth, id, &body.lease_token).await?;
    let recorded = state
        .workers
        .complete(id, &body.lease_token, body.result)
        .await?;
    Ok(axum::Json(recorded))
}

/// Fail a step
///
/// Records the attempt's failure with the retry rules of in-process handlers: retried after
/// the step's backoff (or `retry_after_ms`) while it is retryable and has attempts left; with
/// `retryable: false` the failure is permanent and blocks the task. Repeated: 200 again
/// (`repeated: true`); a lost lease: 409, nothing written.
#[utoipa::path(
    post,
    path = "/v1/worker/steps/{id}/fail",
    operation_id = "worker_fail",
    tag = "workers",
    params(("id" = i64, Path, description = "The step's id.")),
    request_body = FailBody,
    responses(
        (status = 200, description = "Recorded (or recorded before).", body = Recorded),
        (status = 400, description = "A field is malformed or out of range.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The token may not use this step's queue.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such step.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The lease is lost; nothing was written.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["workers"]))
)]
pub async fn fail(
    State(state): State<AppState>,
    auth: Authorized<needs::Workers>,
    Path(id): Path<StepId>,
    Json(body): Json<FailBody>,
) -> Result<axum::Json<Recorded>, Problem> {
    let retry_after = match body.retry_after_ms {
        None => None,
        Some(ms) => Some(millis(
            "retry_after_ms",
            Some(ms),
            0,
            &limits::RETRY_AFTER_MS,
        )?),
    };
    let failure = WorkerFailure {
        error: body.error,
        retryable: body.retryable.unwrap_or(true),
        retry_after,
    };
    failure.validate()?;
    require_step_queue(&state, &auth, id, &body.lease_token).await?;
    let recorded = state.workers.fail(id, &body.lease_token, failure).await?;
    Ok(axum::Json(recorded))
}
