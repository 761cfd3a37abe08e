//! Path parameters: 400 naming the parameter that does not parse (`/v1/tasks/abc`).

use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A path parameter parsed into `T`; one that does not parse is answered 400 with a problem
/// naming the parameter.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.into_kind() {
                ErrorKind::ParseErrorAtKey {
                    key,
                    value,
                    expected_type,
                } => Problem::parameter(
                    &key,
                    format!(
                        "path parameter {key}: {value:?} is not {}",
                        describe(expected_type)
                    ),
                ),
                ErrorKind::ParseErrorAtIndex {
                    index,
                    value,
                    expected_type,
                } => Problem::validation(format!(
                    "path segment {index}: {value:?} is not {}",
                    describe(expected_type)
                )),
                ErrorKind::ParseError {
                    value,
                    expected_type,
                } => {
                    // A lone parameter is deserialized without its name: find it by its value.
                    let key = axum::extract::RawPathParams::from_request_parts(parts, state)
                        .await
                        .ok()
                        .and_then(|raw| {
                            raw.iter()
                                .find(|(_, v)| *v == value)
                                .map(|(k, _)| k.to_owned())
                        })
                        .unwrap_or_else(|| "path".to_owned());
                    Problem::parameter(
                        &key,
                        format!(
                            "path parameter {key}: {value:?} is not {}",
                            describe(expected_type)
                        ),
                    )
                }
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    Problem::parameter(&key, format!("path parameter {key} is not UTF-8"))
                }
                other => Problem::validation(format!("the path is not valid: {other}")),
            }),
            Err(other) => Err(Problem::internal(&other)),
        }
    }
}

/// `i64` as people say it.
fn describe(expected_type: &str) -> String {
    match expected_type {
        "i64" => "an integer id (1 to 9223372036854775807)".to_owned(),
        other => format!("a valid {other}"),
    }
}
