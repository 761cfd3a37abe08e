//! JSON bodies: 415 for another media type, 400 with the JSON pointer of the field at fault for
//! bad syntax, wrong types, missing or unknown fields.

use super::body;
use crate::problem::{Problem, escape_pointer_token};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// A JSON body of type `T`. Types used with it deny unknown fields.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let media_type = body::media_type(request.headers());
        if !media_type.as_deref().is_some_and(body::is_json) {
            return Err(body::unsupported(media_type.as_deref(), "application/json"));
        }
        let bytes = body::read(request, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses `bytes` as a `T`, naming the offending field as a JSON pointer.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = pointer_of(e.path());
        let inner = e.into_inner();
        let detail = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not valid JSON: {inner}")
        } else if pointer.is_empty() {
            format!("the body does not have the expected shape: {inner}")
        } else {
            format!("{pointer}: {inner}")
        };
        Problem::validation(detail).with_pointer(pointer)
    })?;
    deserializer
        .end()
        .map_err(|e| Problem::validation(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The path serde was at, as a JSON pointer (`/tasks/3/context`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_token(key));
            }
            Segment::Enum { variant } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer_token(variant));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read by the deserializer only
    struct Outer {
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn the_pointer_names_the_field_at_fault() {
        let err = parse_json::<Outer>(br#"{"items": [{"n": 1}, {"n": "x"}]}"#).unwrap_err();
        assert_eq!(err.pointer.as_deref(), Some("/items/1/n"));
        let err = parse_json::<Outer>(br#"{"items": [{"n": 1, "m": 2}]}"#).unwrap_err();
        assert_eq!(err.pointer.as_deref(), Some("/items/0/m"));
        assert!(err.detail.contains("unknown field `m`"), "{}", err.detail);
        let err = parse_json::<Outer>(br#"{"items": [{"n": 1}"#).unwrap_err();
        assert!(
            err.detail.starts_with("the body is not valid JSON"),
            "{}",
            err.detail
        );
        let err = parse_json::<Outer>(br#"{"items": []} x"#).unwrap_err();
        assert!(
            err.detail.starts_with("the body is not valid JSON"),
            "{}",
            err.detail
        );
    }
}
