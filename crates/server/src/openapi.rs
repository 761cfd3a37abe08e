//! The OpenAPI 3.1 document of the API, generated from the handlers' own types; committed as
//! `docs/openapi.json` (a test fails when the two differ).

use crate::problem::{FieldError, PROBLEM_JSON, ProblemDocument};
use crate::routes;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

/// The name of the security scheme every `/v1` route requires.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tasker",
        description = "The REST API of `tasker serve`: templates, tasks and steps, the worker protocol, analytics, health and metrics. Errors are RFC 9457 problem documents (`application/problem+json`) whose `type` is stable per kind.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::templates::register,
        routes::templates::list,
        routes::templates::show,
        routes::tasks::create,
        routes::tasks::create_batch,
        routes::tasks::list,
        routes::tasks::show,
        routes::tasks::wait,
        routes::tasks::history,
        routes::tasks::cancel,
        routes::tasks::retry,
        routes::steps::show,
        routes::steps::resolve,
        routes::workers::claim,
        routes::workers::heartbeat,
        routes::workers::complete,
        routes::workers::fail,
        routes::analytics::throughput,
        routes::analytics::steps,
        routes::analytics::slowest_tasks,
        routes::health::live,
        routes::health::ready,
        routes::metrics::render,
        routes::docs::openapi,
    ),
    components(schemas(ProblemDocument, FieldError)),
    modifiers(&Security, &CommonResponses),
    tags(
        (name = "templates", description = "Task templates: versioned DAGs of steps."),
        (name = "tasks", description = "Tasks: runs of a template with a context."),
        (name = "steps", description = "Single steps of a task."),
        (name = "workers", description = "The worker protocol: workers in any language claim the steps of a queue (a long poll), renew their leases with heartbeats and report each attempt's outcome. Scope `workers`; limited to namespace `ns`, it allows the queues `ns` and `ns.*`."),
        (name = "analytics", description = "Finished tasks over a time range: throughput, per-step statistics, the slowest tasks. Each answer is bounded by its range and a cap it reports."),
        (name = "health", description = "Liveness, readiness, metrics and this document; no token needed."),
    )
)]
/// The OpenAPI document of the HTTP API (`utoipa::OpenApi::openapi()`), served at
/// `/openapi.json` and committed as `docs/openapi.json`.
pub struct ApiDoc;

/// The document as pretty JSON with a final newline: the committed form.
pub fn json() -> String {
    let mut value = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(value) => value,
        Err(e) => return format!("{{\"error\": \"cannot render the document: {e}\"}}\n"),
    };
    camel_case_links(&mut value);
    non_null_headers(&mut value);
    let mut text = serde_json::to_string_pretty(&value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the document: {e}\"}}"));
    text.push('\n');
    text
}

/// utoipa 5 makes an optional header parameter nullable (`["string", "null"]`), but a header
/// is either sent or not: there is no null to send.
fn non_null_headers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if map.get("in").and_then(Value::as_str) == Some("header")
                && let Some(Value::Array(types)) = map
                    .get_mut("schema")
                    .and_then(|schema| schema.get_mut("type"))
            {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map["schema"]["type"] = only;
                }
            }
            map.values_mut().for_each(non_null_headers);
        }
        Value::Array(items) => items.iter_mut().for_each(non_null_headers),
        _ => {}
    }
}

/// utoipa 5 writes the fields of a Link Object in snake case (`operation_id`); OpenAPI names
/// them in camel case (`operationId`), and clients that follow links (schemathesis' stateful
/// tests) read only those.
fn camel_case_links(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(links)) = map.get_mut("links") {
                for link in links.values_mut() {
                    if let Value::Object(fields) = link {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = fields.remove(from) {
                                fields.insert(to.to_owned(), v);
                            }
                        }
                    }
                }
            }
            map.values_mut().for_each(camel_case_links);
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `tasker token create` (`tsk_...`). The scopes listed on an operation are the ones it needs (any one of them, in the namespace it concerns).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds to every operation the problems any request to it may answer, so that each route's
/// own attributes list only what is particular to it.
struct CommonResponses;

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn with_header(mut response: Response, name: &str, description: &str, schema: Type) -> Response {
    response.headers.insert(
        name.to_owned(),
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(schema))
            .description(Some(description))
            .build(),
    );
    response
}

fn add(operation: &mut Operation, status: u16, response: Response) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert(RefOr::T(response));
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/v1/");
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                if api {
                    add(
                        operation,
                        400,
                        problem(
                            "A parameter or the body is not valid; `pointer` or `parameter` names it.",
                        ),
                    );
                }
                if secured {
                    add(
                        operation,
                        401,
                        with_header(
                            problem("No token, or one that is unknown or revoked."),
                            "WWW-Authenticate",
                            "`Bearer`.",
                            Type::String,
                        ),
                    );
                    add(
                        operation,
                        403,
                        problem("The token lacks the scope, or the namespace, this request needs."),
                    );
                }
                if operation.request_body.is_some() {
                    add(
                        operation,
                        413,
                        problem("The body is larger than the server accepts."),
                    );
                    add(
                        operation,
                        415,
                        problem("The body's Content-Type is not one this route reads."),
                    );
                }
                add(
                    operation,
                    500,
                    problem("A fault of the server; the cause is in its log."),
                );
                if api {
                    add(
                        operation,
                        503,
                        with_header(
                            problem(
                                "The database cannot be reached or is not migrated; try again later.",
                            ),
                            "Retry-After",
                            "Seconds to wait before trying again.",
                            Type::Integer,
                        ),
                    );
                }
            }
        }
    }
}
