//! Query strings: 400 naming the parameter at fault (unknown ones included).

use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// The query string as a `T`. Types used with it deny unknown fields.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Parses a query string into `T`; a field that does not parse is a 400 problem naming the
/// parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let name = e.path().iter().find_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            _ => None,
        });
        let inner = e.into_inner();
        match name {
            Some(name) => Problem::parameter(&name, format!("query parameter {name}: {inner}")),
            None => Problem::validation(format!("the query string is not valid: {inner}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Page {
        limit: Option<i64>,
        cursor: Option<String>,
    }

    #[test]
    fn names_the_parameter_at_fault() {
        assert_eq!(
            parse_query::<Page>("limit=5&cursor=a%2Bb").unwrap(),
            Page {
                limit: Some(5),
                cursor: Some("a+b".into())
            }
        );
        assert_eq!(
            parse_query::<Page>("").unwrap(),
            Page {
                limit: None,
                cursor: None
            }
        );
        let err = parse_query::<Page>("limit=ten").unwrap_err();
        assert_eq!(err.parameter.as_deref(), Some("limit"));
        let err = parse_query::<Page>("colour=red").unwrap_err();
        assert!(
            err.detail.contains("unknown field `colour`"),
            "{}",
            err.detail
        );
    }
}
