//! `/openapi.json`: the document the API is described by.

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::OnceLock;

/// The OpenAPI document
///
/// This API described as OpenAPI 3.1.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "health",
    responses((status = 200, description = "The document.", body = Object))
)]
pub async fn openapi() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(crate::openapi::json).clone();
    ([(header::CONTENT_TYPE, "application/json")], body)
}
