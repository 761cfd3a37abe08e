//! The one error type of the API, rendered as an RFC 9457 problem document
//! (`application/problem+json`) with a stable `type` URI per kind.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tasker_engine::Error;
use tasker_model::limits::UnstorableJson;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Where the problem `type` URIs live; each kind appends its slug.
pub const TYPE_BASE: &str = "https://tasker.dev/problems/";
/// Seconds a client should wait after a 503 before it tries again.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// What went wrong, as a client can act on it. Each kind has one status and one `type` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// 400: the request is malformed: JSON syntax, a wrong type, an unknown field, a parameter
    /// out of range. `pointer` (body) or `parameter` (path, query, header) names the field.
    Validation,
    /// 401: no token, or one that is unknown or revoked.
    Unauthenticated,
    /// 403: the token lacks the scope (or the namespace) the request needs.
    Forbidden,
    /// 404: no such task, step, template or route.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: the request clashes with what is stored (a template version with another
    /// definition, an idempotency key used for another context).
    Conflict,
    /// 409: the task or step is in a state that does not allow the action.
    InvalidTransition,
    /// 409: a worker's lease on a step is lost (expired, rescued, or the step ended
    /// otherwise); nothing was written and the worker must drop the step.
    LeaseLost,
    /// 413: the body (or the task context) is larger than allowed.
    TooLarge,
    /// 415: the body is not in a media type the route reads.
    UnsupportedMediaType,
    /// 422: the context does not match the template's input schema (or cannot be stored).
    ContextInvalid,
    /// 500: a fault on our side; the details are logged, not shown.
    Internal,
    /// 503: the database cannot be reached or is not ready; try again after `Retry-After`.
    Unavailable,
}

impl ProblemKind {
    /// Every kind, in the order above.
    pub const ALL: [ProblemKind; 13] = [
        ProblemKind::Validation,
        ProblemKind::Unauthenticated,
        ProblemKind::Forbidden,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Conflict,
        ProblemKind::InvalidTransition,
        ProblemKind::LeaseLost,
        ProblemKind::TooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::ContextInvalid,
        ProblemKind::Internal,
        ProblemKind::Unavailable,
    ];

    /// The HTTP status the kind is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::Validation => StatusCode::BAD_REQUEST,
            ProblemKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Conflict | ProblemKind::InvalidTransition | ProblemKind::LeaseLost => {
                StatusCode::CONFLICT
            }
            ProblemKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::ContextInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The last part of the `type` URI: stable, clients may match on it.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::Validation => "validation",
            ProblemKind::Unauthenticated => "unauthenticated",
            ProblemKind::Forbidden => "forbidden",
            ProblemKind::NotFound => "not-found",
            ProblemKind::MethodNotAllowed => "method-not-allowed",
            ProblemKind::Conflict => "conflict",
            ProblemKind::InvalidTransition => "invalid-transition",
            ProblemKind::LeaseLost => "lease-lost",
            ProblemKind::TooLarge => "too-large",
            ProblemKind::UnsupportedMediaType => "unsupported-media-type",
            ProblemKind::ContextInvalid => "context-invalid",
            ProblemKind::Internal => "internal",
            ProblemKind::Unavailable => "unavailable",
        }
    }

    /// The problem document's `title`: the same for every problem of the kind.
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::Validation => "The request is not valid",
            ProblemKind::Unauthenticated => "A valid token is required",
            ProblemKind::Forbidden => "The token does not allow this",
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Conflict => "Conflict with what is stored",
            ProblemKind::InvalidTransition => "The current state does not allow this",
            ProblemKind::LeaseLost => "The lease is lost",
            ProblemKind::TooLarge => "Too large",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::ContextInvalid => "The context is not accepted",
            ProblemKind::Internal => "Internal error",
            ProblemKind::Unavailable => "Service unavailable",
        }
    }

    /// The problem document's `type`: [`TYPE_BASE`] followed by the kind's slug.
    pub fn type_uri(self) -> String {
        format!("{TYPE_BASE}{}", self.slug())
    }
}

/// One of several problems of a request (every schema violation of a context, every error
/// of a template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer into the request body.
    pub pointer: String,
    /// What is wrong with it, in words.
    pub message: String,
}

/// The body of every error answer (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// A URI per kind of problem, `https://tasker.dev/problems/<kind>`; stable.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the kind of problem, the same for every problem of that kind.
    pub title: String,
    /// The HTTP status code of the answer.
    pub status: u16,
    /// What was wrong with this request, in words.
    pub detail: String,
    /// JSON pointer of the offending field of the body (`/tasks/3/context/email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The offending path or query parameter, or header (`limit`, `Idempotency-Key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Every problem found, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answer. Build one with a kind and a detail, then name the field at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What went wrong, which gives the status, title and type URI.
    pub kind: ProblemKind,
    /// What was wrong with this request, in words.
    pub detail: String,
    /// The JSON pointer of the offending body field, if one is at fault.
    pub pointer: Option<String>,
    /// The offending path or query parameter, or header, if one is at fault.
    pub parameter: Option<String>,
    /// Every problem found, when there are several.
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem of `kind` with `detail`, naming no field.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            pointer: None,
            parameter: None,
            errors: Vec::new(),
        }
    }

    /// A 400 problem ([`ProblemKind::Validation`]).
    pub fn validation(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::Validation, detail)
    }

    /// A bad path or query parameter, or header, named in the answer.
    pub fn parameter(name: &str, detail: impl Into<String>) -> Problem {
        Problem::validation(detail).with_parameter(name)
    }

    /// A 403 problem ([`ProblemKind::Forbidden`]).
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::Forbidden, detail)
    }

    /// A 404 problem ([`ProblemKind::NotFound`]).
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::NotFound, detail)
    }

    /// A fault on our side: logged here with its cause, answered with a generic detail.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error while answering a request");
        Problem::new(
            ProblemKind::Internal,
            "the server could not answer this request; the cause is in its log",
        )
    }

    /// Names the body field at fault, as a JSON pointer (`/context/email`).
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Problem {
        self.pointer = Some(pointer.into());
        self
    }

    /// Names the path or query parameter, or header, at fault.
    pub fn with_parameter(mut self, name: impl Into<String>) -> Problem {
        self.parameter = Some(name.into());
        self
    }

    /// Puts `prefix` (a JSON pointer such as `/tasks/3`) before every pointer of the problem:
    /// what was said of one item is then said of the item within the whole body.
    pub fn within(mut self, prefix: &str) -> Problem {
        if let Some(pointer) = &mut self.pointer {
            pointer.insert_str(0, prefix);
        }
        for error in &mut self.errors {
            error.pointer.insert_str(0, prefix);
        }
        self
    }

    /// The body the problem is answered with.
    pub fn document(&self) -> ProblemDocument {
        ProblemDocument {
            type_uri: self.kind.type_uri(),
            title: self.kind.title().to_owned(),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            pointer: self.pointer.clone(),
            parameter: self.parameter.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.kind.status(),
            self.kind.slug(),
            self.detail
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        let body = serde_json::to_vec(&self.document()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self.kind {
            ProblemKind::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            ProblemKind::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// `steps[2].depends_on[0]` (a template's field path) as the JSON pointer
/// `/steps/2/depends_on/0`.
pub fn field_path_to_pointer(path: &str) -> String {
    let mut pointer = String::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            pointer.push('/');
            pointer.push_str(&escape_pointer_token(name));
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            pointer.push('/');
            pointer.push_str(index.trim_end_matches(']'));
        }
    }
    pointer
}

/// A key as one token of a JSON pointer (RFC 6901: `~` is `~0`, `/` is `~1`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl From<tasker_store::Error> for Problem {
    fn from(e: tasker_store::Error) -> Problem {
        use tasker_store::Error as S;
        match e {
            S::NotFound { .. } => Problem::not_found(e.to_string()),
            S::InvalidTransition { .. } => {
                Problem::new(ProblemKind::InvalidTransition, e.to_string())
            }
            // A compare-and-set lost to a concurrent writer: the same request may succeed
            // when sent again.
            S::Conflict(_) | S::TemplateMismatch(_) => {
                Problem::new(ProblemKind::Conflict, e.to_string())
            }
            S::Unavailable(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Problem::new(
                    ProblemKind::Unavailable,
                    "the database cannot be reached right now; try again shortly",
                )
            }
            S::MigrationsPending(_) => {
                tracing::warn!(error = %e, "database schema is not current");
                Problem::new(
                    ProblemKind::Unavailable,
                    "the database schema is not current; the operator must run `tasker migrate`",
                )
            }
            S::Database(_) | S::Corrupt(_) => Problem::internal(&e),
            _ => Problem::internal(&e),
        }
    }
}

impl From<Error> for Problem {
    /// Pointers are relative to one task request (`/context/...`, `/template`); the batch
    /// route puts its item's place before them ([`Problem::within`]).
    fn from(e: Error) -> Problem {
        match e {
            Error::Template(errors) => {
                let errors: Vec<FieldError> = errors
                    .0
                    .iter()
                    .map(|e| FieldError {
                        pointer: field_path_to_pointer(&e.path),
                        message: e.message.clone(),
                    })
                    .collect();
                let mut problem = Problem::validation(format!(
                    "the template is not valid: {}",
                    errors
                        .iter()
                        .map(|e| if e.pointer.is_empty() {
                            e.message.clone()
                        } else {
                            format!("{}: {}", e.pointer, e.message)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                problem.pointer = errors.first().map(|e| e.pointer.clone());
                problem.errors = errors;
                problem
            }
            Error::Context { template, errors } => {
                let errors: Vec<FieldError> = errors
                    .0
                    .iter()
                    .map(|e| FieldError {
                        pointer: format!("/context{}", e.pointer),
                        message: e.message.clone(),
                    })
                    .collect();
                let mut problem = Problem::new(
                    ProblemKind::ContextInvalid,
                    format!(
                        "the context does not match the input schema of {template}: {}",
                        errors
                            .iter()
                            .map(|e| format!("{}: {}", e.pointer, e.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
                problem.pointer = errors.first().map(|e| e.pointer.clone());
                problem.errors = errors;
                problem
            }
            Error::ContextUnstorable { template, why } => match why {
                UnstorableJson::TooLarge { .. } => {
                    Problem::new(ProblemKind::TooLarge, format!("template {template}: {why}"))
                        .with_pointer("/context")
                }
                UnstorableJson::Nul { ref pointer, .. } => {
                    let at = format!("/context{pointer}");
                    Problem::new(
                        ProblemKind::ContextInvalid,
                        format!("template {template}: {why}"),
                    )
                    .with_pointer(at)
                }
                _ => Problem::new(
                    ProblemKind::ContextInvalid,
                    format!("template {template}: {why}"),
                )
                .with_pointer("/context"),
            },
            Error::TemplateNotFound(_) => {
                Problem::not_found(e.to_string()).with_pointer("/template")
            }
            Error::InvalidTemplateRef(_) => {
                Problem::validation(e.to_string()).with_pointer("/template")
            }
            Error::TaskNotFound(_) | Error::StepNotFound(_) => Problem::not_found(e.to_string()),
            Error::IdempotencyKeyRequired(_) | Error::InvalidIdempotencyKey(_) => {
                Problem::validation(e.to_string()).with_pointer("/idempotency_key")
            }
            Error::IdempotencyConflict { .. } => {
                Problem::new(ProblemKind::Conflict, e.to_string()).with_pointer("/idempotency_key")
            }
            Error::InvalidTraceparent(_) => {
                Problem::parameter(crate::extract::TRACEPARENT, e.to_string())
            }
            Error::Config(_) | Error::InvalidRange(_) => Problem::validation(e.to_string()),
            Error::InvalidWorkerRequest { field, .. } => {
                Problem::validation(e.to_string()).with_pointer(format!("/{field}"))
            }
            Error::InvalidLeaseToken(_) => {
                Problem::validation(e.to_string()).with_pointer("/lease_token")
            }
            Error::LeaseLost { .. } => Problem::new(ProblemKind::LeaseLost, e.to_string()),
            Error::ResultUnstorable(ref why) => match why {
                UnstorableJson::TooLarge { .. } => {
                    Problem::new(ProblemKind::TooLarge, e.to_string()).with_pointer("/result")
                }
                UnstorableJson::Nul { pointer, .. } => {
                    let at = format!("/result{pointer}");
                    Problem::validation(e.to_string()).with_pointer(at)
                }
                _ => Problem::validation(e.to_string()).with_pointer("/result"),
            },
            Error::Store(e) => Problem::from(e),
            // Faults of the deployment or of stored data, not of the request.
            Error::StoredTemplateInvalid { .. }
            | Error::Timeout(_)
            | Error::UnsupportedDatabaseUrl(_)
            | Error::ClockSkew { .. }
            | Error::Orchestrator(_) => Problem::internal(&e),
            _ => Problem::internal(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_json_pointers() {
        assert_eq!(
            field_path_to_pointer("steps[2].depends_on[0]"),
            "/steps/2/depends_on/0"
        );
        assert_eq!(field_path_to_pointer("namespace"), "/namespace");
        assert_eq!(field_path_to_pointer(""), "");
        assert_eq!(field_path_to_pointer("a[1][2].b/c"), "/a/1/2/b~1c");
    }

    #[test]
    fn every_kind_has_its_own_type() {
        let mut slugs: Vec<&str> = ProblemKind::ALL.iter().map(|k| k.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemKind::ALL.len());
    }

    #[test]
    fn batch_items_prefix_their_pointers() {
        let mut problem = Problem::validation("x").with_pointer("/context/a");
        problem.errors.push(FieldError {
            pointer: "/context/b".into(),
            message: "m".into(),
        });
        let problem = problem.within("/tasks/3");
        assert_eq!(problem.pointer.as_deref(), Some("/tasks/3/context/a"));
        assert_eq!(problem.errors[0].pointer, "/tasks/3/context/b");
    }
}
