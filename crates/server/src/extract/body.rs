//! Reading a request body within the router's size limit, and checking its media type.

use crate::problem::{Problem, ProblemKind};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};

/// The body's bytes; 413 past the limit (`DefaultBodyLimit`, `--max-body`).
pub(crate) async fn read<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    ProblemKind::TooLarge,
                    "the request body is larger than this server accepts (--max-body)",
                )
            } else {
                Problem::validation(format!(
                    "cannot read the request body: {}",
                    rejection.body_text()
                ))
            }
        })
}

/// The media type of the body, lower-case, without parameters (`charset=utf-8`).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// `application/json` or any `application/*+json`.
pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

pub(crate) fn unsupported(found: Option<&str>, accepted: &str) -> Problem {
    let detail = match found {
        Some(found) => format!("the body is {found}; this route reads {accepted}"),
        None => format!("the request has no Content-Type; this route reads {accepted}"),
    };
    Problem::new(ProblemKind::UnsupportedMediaType, detail).with_parameter("Content-Type")
}
