//! `/health/live` and `/health/ready`, for load balancers and orchestrators (no token needed).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// How long a readiness check waits for the database before it says it did not answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer of `GET /health/live`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `live`: the process answers.
    pub status: String,
}

/// The answer of `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when every check passes, else `not_ready`.
    pub status: String,
    /// Each check and its result.
    pub checks: Checks,
}

/// The readiness checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    /// The database answers.
    pub database: Check,
    /// The database's schema is the one this binary expects (no pending migration).
    pub migrations: Check,
    /// The orchestrator running beside the API is alive; absent on an API-only node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orchestrator: Option<Check>,
}

/// The result of one readiness check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// Whether the check passed.
    pub ok: bool,
    /// What was found, in words (the error when it failed).
    pub detail: String,
}

impl Check {
    fn pass(detail: impl Into<String>) -> Check {
        Check {
            ok: true,
            detail: detail.into(),
        }
    }

    fn fail(detail: impl Into<String>) -> Check {
        Check {
            ok: false,
            detail: detail.into(),
        }
    }
}

/// Liveness
///
/// The process is up and answering.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "liveness",
    tag = "health",
    responses((status = 200, description = "Alive.", body = Liveness))
)]
pub async fn live() -> Json<Liveness> {
    Json(Liveness {
        status: "live".to_owned(),
    })
}

/// Readiness
///
/// Whether this node can serve requests: the database answers, its schema is current, and the
/// orchestrator beside the API (if one runs) is alive. 503 with the same document when not.
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "readiness",
    tag = "health",
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready; `checks` says why.", body = Readiness),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = state.engine.store();
    let database = match tokio::time::timeout(CHECK_TIMEOUT, store.database_time()).await {
        Ok(Ok(_)) => Check::pass(format!("{} answers", store.backend_name())),
        Ok(Err(e)) => Check::fail(e.to_string()),
        Err(_) => Check::fail(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    };
    let migrations =
        match tokio::time::timeout(CHECK_TIMEOUT, state.engine.pending_migrations()).await {
            Ok(Ok(pending)) if pending.is_empty() => Check::pass("schema is current"),
            Ok(Ok(pending)) => Check::fail(format!(
                "pending migrations: {}; run `tasker migrate`",
                pending.join(", ")
            )),
            Ok(Err(e)) => Check::fail(e.to_string()),
            Err(_) => Check::fail(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
    let orchestrator = state.orchestrator.as_ref().map(|probe| {
        if probe.is_alive() {
            Check::pass("running")
        } else {
            Check::fail("the orchestrator has stopped")
        }
    });
    let ok = database.ok && migrations.ok && orchestrator.as_ref().is_none_or(|c| c.ok);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ok { "ready" } else { "not_ready" }.to_owned(),
            checks: Checks {
                database,
                migrations,
                orchestrator,
            },
        }),
    )
}
