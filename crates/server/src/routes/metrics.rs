//! `/metrics`: the Prometheus text format.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The content type of Prometheus' text exposition format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metrics
///
/// Every metric of this process in the Prometheus text format: tasks, steps, claims,
/// completions, database errors, HTTP requests.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "health",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain"),
        (status = 404, description = "This router was built without a metrics recorder.", body = crate::problem::ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub async fn render(State(state): State<AppState>) -> Response {
    match &state.prometheus {
        Some(handle) => {
            ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], handle.render()).into_response()
        }
        None => Problem::not_found("this router serves no metrics (AppState::with_metrics)")
            .into_response(),
    }
}
