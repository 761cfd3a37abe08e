//! The request headers of task creation: `Idempotency-Key` and `traceparent`.

use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::HeaderName;
use axum::http::request::Parts;

/// The `Idempotency-Key` header, if given; its rules (1-255 characters, no NUL) are the
/// engine's.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

/// The W3C `traceparent` header, if given; the engine checks its format.
#[derive(Debug, Clone, Default)]
pub struct Traceparent(pub Option<String>);

/// As clients write them; HTTP header names are case-insensitive.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
pub const TRACEPARENT: &str = "traceparent";

/// The header's one value as text. Sent twice, or with bytes that are not visible ASCII, it is
/// a 400 naming the header.
fn text_header(parts: &Parts, lower: &'static str, name: &str) -> Result<Option<String>, Problem> {
    let mut values = parts.headers.get_all(HeaderName::from_static(lower)).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Problem::parameter(
            name,
            format!("header {name} is given more than once"),
        ));
    }
    let text = value.to_str().map_err(|_| {
        Problem::parameter(name, format!("header {name} must be visible ASCII text"))
    })?;
    Ok(Some(text.to_owned()))
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        text_header(parts, "idempotency-key", IDEMPOTENCY_KEY).map(IdempotencyKey)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Traceparent {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        text_header(parts, "traceparent", TRACEPARENT).map(Traceparent)
    }
}
