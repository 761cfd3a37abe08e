//! `/v1/steps`: one step, and resolving it by hand.

use crate::auth::{Authorized, Permission, needs};
use crate::extract::Path;
use crate::problem::{Problem, ProblemDocument};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use tasker_engine::{Error, StepDocument};
use tasker_model::{StepId, StepRecord};
use utoipa::ToSchema;

/// One step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepResponse {
    /// The step as stored.
    pub step: StepRecord,
}

/// Show a step
///
/// The step with its readiness, results and explanation (as in `GET /v1/tasks/{id}`), the task
/// it belongs to, and its last error: the most recent failed attempt's error text.
#[utoipa::path(
    get,
    path = "/v1/steps/{id}",
    operation_id = "show_step",
    tag = "steps",
    params(("id" = i64, Path, description = "The step's id.")),
    responses(
        (status = 200, description = "The step.", body = StepDocument),
        (status = 404, description = "No such step.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksRead>,
    Path(id): Path<StepId>,
) -> Result<Json<StepDocument>, Problem> {
    let document = state.engine.step_document(id).await?;
    auth.caller
        .require_for_task(Permission::TasksRead, &document.task.namespace)?;
    Ok(Json(document))
}

/// Resolve a step by hand
///
/// Marks a `pending` or `error` step as `resolved_manually`: its children may run, and its task
/// may complete or be unblocked. 409 for a step in another state.
#[utoipa::path(
    post,
    path = "/v1/steps/{id}/resolve",
    operation_id = "resolve_step",
    tag = "steps",
    params(("id" = i64, Path, description = "The step's id.")),
    responses(
        (status = 200, description = "Resolved.", body = StepResponse),
        (status = 404, description = "No such step.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The step's state does not allow it.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:write"]))
)]
pub async fn resolve(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksWrite>,
    Path(id): Path<StepId>,
) -> Result<Json<StepResponse>, Problem> {
    let step = state
        .engine
        .store()
        .step(id)
        .await?
        .ok_or(Error::StepNotFound(id))?;
    let task = state.engine.task(step.task_id).await?;
    auth.caller
        .require_for_task(Permission::TasksWrite, &task.namespace)?;
    let actor = auth.caller.actor();
    let step = state.engine.resolve_step_as(id, actor.as_ref()).await?;
    Ok(Json(StepResponse { step }))
}
