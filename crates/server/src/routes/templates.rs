//! `/v1/templates`: register, list, show.

use crate::auth::{Authorized, Permission, needs};
use crate::extract::{Path, Query, TemplateBody, no_nul};
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tasker_engine::{TemplateDocument, TemplateRef, TemplateSummary};
use utoipa::{IntoParams, ToSchema};

/// The template as stored, and whether this request stored it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    /// `false`: the identical version was registered before; nothing changed.
    pub created: bool,
    /// The template as stored, with its steps.
    pub template: TemplateDocument,
}

/// The templates.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// Every version of every template the token may read, by namespace, name and version.
    pub templates: Vec<TemplateSummary>,
}

/// Query parameters of `GET /v1/templates/{namespace}/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// A version (`1.2.0`); the latest when left out.
    pub version: Option<String>,
}

/// Register a template
///
/// The body is the template file: YAML (`application/yaml`, `application/x-yaml`, `text/yaml`)
/// or the same shape as JSON. Its handlers must be known to this server. Registering a version
/// again with the identical definition changes nothing (200); with another definition it is a
/// conflict (409): a new definition needs a new version.
#[utoipa::path(
    post,
    path = "/v1/templates",
    operation_id = "register_template",
    tag = "templates",
    request_body(
        description = "The template, as YAML or JSON.",
        content(
            (tasker_model::template::TemplateSpec = "application/json"),
            (tasker_model::template::TemplateSpec = "application/yaml"),
            (tasker_model::template::TemplateSpec = "application/x-yaml"),
            (tasker_model::template::TemplateSpec = "text/yaml"),
        )
    ),
    responses(
        (status = 201, description = "Registered.", body = Registered),
        (status = 200, description = "The identical version was registered before.", body = Registered),
        (status = 409, description = "The version exists with another definition.", body = crate::problem::ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["templates:write"]))
)]
pub async fn register(
    State(state): State<AppState>,
    auth: Authorized<needs::TemplatesWrite>,
    TemplateBody(template): TemplateBody,
) -> Result<(StatusCode, Json<Registered>), Problem> {
    auth.caller
        .require_in(Permission::TemplatesWrite, &template.namespace)?;
    let registered = state.engine.register_template(&template).await?;
    let reference = TemplateRef::new(&template.namespace, &template.name)
        .with_version(template.version.to_string());
    let document = state.engine.template_document(&reference).await?;
    let status = if registered.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Registered {
            created: registered.created,
            template: document,
        }),
    ))
}

/// List templates
///
/// Every version of every template in the namespaces the token may read.
#[utoipa::path(
    get,
    path = "/v1/templates",
    operation_id = "list_templates",
    tag = "templates",
    responses((status = 200, description = "The templates.", body = TemplateList)),
    security(("bearer" = ["templates:read"]))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<needs::TemplatesRead>,
) -> Result<Json<TemplateList>, Problem> {
    let templates = state
        .engine
        .list_templates()
        .await?
        .iter()
        .filter(|t| {
            auth.caller
                .require_in(Permission::TemplatesRead, &t.namespace)
                .is_ok()
        })
        .map(TemplateSummary::from)
        .collect();
    Ok(Json(TemplateList { templates }))
}

/// Show a template
///
/// One version (the latest unless `version` names one), with its steps grouped by dependency
/// level: level 0 has no parents, level n depends on level n-1.
#[utoipa::path(
    get,
    path = "/v1/templates/{namespace}/{name}",
    operation_id = "show_template",
    tag = "templates",
    params(
        ("namespace" = String, Path, description = "The template's namespace."),
        ("name" = String, Path, description = "The template's name."),
        ShowQuery,
    ),
    responses(
        (status = 200, description = "The template.", body = TemplateDocument),
        (status = 404, description = "No such template (or version).", body = crate::problem::ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["templates:read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    auth: Authorized<needs::TemplatesRead>,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Result<Json<TemplateDocument>, Problem> {
    no_nul("namespace", &namespace)?;
    no_nul("name", &name)?;
    if let Some(version) = &query.version {
        no_nul("version", version)?;
    }
    auth.caller
        .require_in(Permission::TemplatesRead, &namespace)?;
    let mut reference = TemplateRef::new(namespace, name);
    reference.version = query.version;
    let document = state
        .engine
        .template_document(&reference)
        .await
        .map_err(|e| {
            // A missing template here is the resource of the path, not a field of a body.
            let mut problem = Problem::from(e);
            problem.pointer = None;
            problem
        })?;
    Ok(Json(document))
}
