//! The request headers of task creation: `Idempotency-Key` and `traceparent`.

use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::HeaderName;
use axum::http::request::Parts;

/// The `Idempotency-Key` header, if given; its rules (1-255 characters, no NUL) are the
/// engine's.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

/// The W3C `traceparent` header, if given and well-formed
/// (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`).
#[derive(Debug, Clone, Default)]
pub struct Traceparent(pub Option<String>);

/// As clients write them; HTTP header names are case-insensitive.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The W3C trace context header.
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
        let value = text_header(parts, "traceparent", TRACEPARENT)?;
        if let Some(text) = &value {
            check_traceparent(text).map_err(|why| {
                Problem::parameter(TRACEPARENT, format!("header traceparent {why}"))
            })?;
        }
        Ok(Traceparent(value))
    }
}

/// Checks a `traceparent` against the W3C Trace Context format: a version other than `ff`
/// (`00` has exactly four fields; later versions may add fields after them), a trace id and a
/// parent id in lower-case hex that are not all zeros, and flags.
pub fn check_traceparent(text: &str) -> Result<(), String> {
    let expected = "must be 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>";
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let mut fields = text.split('-');
    let (Some(version), Some(trace_id), Some(parent_id), Some(flags)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(expected.to_owned());
    };
    if !hex(version, 2) || version == "ff" {
        return Err(format!("{expected}: version {version:?} is not valid"));
    }
    if version == "00" && fields.next().is_some() {
        return Err(format!("{expected}: version 00 has four fields"));
    }
    if !hex(trace_id, 32) || trace_id.bytes().all(|b| b == b'0') {
        return Err(format!("{expected}: the trace id is not valid"));
    }
    if !hex(parent_id, 16) || parent_id.bytes().all(|b| b == b'0') {
        return Err(format!("{expected}: the parent id is not valid"));
    }
    if !hex(flags, 2) {
        return Err(format!("{expected}: the flags are not valid"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_traceparent;

    #[test]
    fn accepts_w3c_trace_contexts_only() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(check_traceparent(good), Ok(()));
        assert_eq!(
            check_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"),
            Ok(())
        );
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert!(check_traceparent(bad).is_err(), "{bad:?}");
        }
    }
}
