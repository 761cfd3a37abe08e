//! The router: one module per resource, and what every route shares (fallbacks, limits,
//! metrics, traces).

pub mod analytics;
pub mod docs;
pub mod health;
pub mod metrics;
pub mod steps;
pub mod tasks;
pub mod templates;
pub mod workers;

use crate::layers;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{get, post};

/// Every route of the API, over `state`'s engine. An application that embeds Tasker can nest
/// it in its own router; `tasker serve` serves it as it is.
pub fn router(state: AppState) -> Router {
    let max_body = state.limits.max_body;
    Router::new()
        .route(
            "/v1/templates",
            get(templates::list).post(templates::register),
        )
        .route("/v1/templates/{namespace}/{name}", get(templates::show))
        .route("/v1/tasks", get(tasks::list).post(tasks::create))
        .route("/v1/tasks/batch", post(tasks::create_batch))
        .route("/v1/tasks/{id}", get(tasks::show))
        .route("/v1/tasks/{id}/wait", get(tasks::wait))
        .route("/v1/tasks/{id}/history", get(tasks::history))
        .route("/v1/tasks/{id}/cancel", post(tasks::cancel))
        .route("/v1/tasks/{id}/retry", post(tasks::retry))
        .route("/v1/steps/{id}", get(steps::show))
        .route("/v1/steps/{id}/resolve", post(steps::resolve))
        .route("/v1/worker/claim", post(workers::claim))
        .route("/v1/worker/steps/{id}/heartbeat", post(workers::heartbeat))
        .route("/v1/worker/steps/{id}/complete", post(workers::complete))
        .route("/v1/worker/steps/{id}/fail", post(workers::fail))
        .route("/v1/analytics/throughput", get(analytics::throughput))
        .route("/v1/analytics/steps", get(analytics::steps))
        .route("/v1/analytics/slowest-tasks", get(analytics::slowest_tasks))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(docs::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(layers::record_metrics))
        .layer(layers::trace())
        .layer(layers::catch_panic())
        .with_state(state)
}

async fn not_found(uri: Uri) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        format!("no route {}; see /openapi.json", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::new(
        ProblemKind::MethodNotAllowed,
        format!("{} does not answer {method}; see /openapi.json", uri.path()),
    )
}
