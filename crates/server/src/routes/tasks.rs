//! `/v1/tasks`: create (one or a batch), list, show, wait, history, cancel, retry.

use crate::auth::{Authorized, Caller, Permission, Reach, needs};
use crate::extract::{Cursor, IdempotencyKey, Json, Path, Query, Traceparent, no_nul};
use crate::problem::{Problem, ProblemDocument};
use crate::state::{AppState, DEFAULT_WAIT, MAX_WAIT};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tasker_engine::{CreateTask, Engine, Error, HistoryItem, TaskDocument, TemplateRef};
use tasker_model::{State as TaskState, TaskId, TaskRecord};
use tasker_store::TaskFilter;
use utoipa::{IntoParams, ToSchema};

/// The most tasks one batch may create.
pub const MAX_BATCH: usize = 1_000;
/// The largest page of a list.
pub const MAX_LIMIT: i64 = 1_000;
/// The page size of a list when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A task to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskRequest {
    /// `namespace/name` (the latest version) or `namespace/name@version`.
    #[schema(
        example = "examples/diamond",
        pattern = "^[^/@\\u0000]+/[^/@\\u0000]+(@[^\\u0000]+)?$"
    )]
    pub template: String,
    /// The task's input, checked against the template's input schema (defaults filled in).
    /// `{}` when left out.
    #[serde(default = "empty_object")]
    pub context: Value,
}

/// The task a creation named, and whether the request created it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTaskResponse {
    /// `false`: the idempotency key or the template's identity named a task that exists; it is
    /// returned and nothing was created.
    pub created: bool,
    /// Set when `created` is `false`: what named the existing task, the `Idempotency-Key` or
    /// the template's identity (the same context under a `strict` identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<Matched>,
    /// The task as stored, with its context.
    pub task: TaskRecord,
}

/// What named an existing task instead of creating one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    /// The idempotency key (header, or the batch item's `idempotency_key`) created it.
    IdempotencyKey,
    /// The template's identity: the same context under a `strict` identity.
    Identity,
}

impl Matched {
    /// What matched for a creation that returned an existing task (`None` when it created
    /// one). A request with a key is found by its key alone (the key replaces the identity).
    fn of(created: bool, had_key: bool) -> Option<Matched> {
        match (created, had_key) {
            (true, _) => None,
            (false, true) => Some(Matched::IdempotencyKey),
            (false, false) => Some(Matched::Identity),
        }
    }
}

/// One task of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// `namespace/name` or `namespace/name@version`.
    #[schema(
        example = "examples/diamond",
        pattern = "^[^/@\\u0000]+/[^/@\\u0000]+(@[^\\u0000]+)?$"
    )]
    pub template: String,
    /// The task's input, checked against the template's input schema (defaults filled in). An empty
    /// object when left out.
    #[serde(default = "empty_object")]
    pub context: Value,
    /// As the `Idempotency-Key` header of a single creation.
    #[schema(min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$")]
    pub idempotency_key: Option<String>,
}

/// Several tasks to create at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1,000 tasks, created in one transaction: all or none.
    #[schema(min_items = 1, max_items = 1000)]
    pub tasks: Vec<BatchItem>,
}

/// What the creation of one task of a batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchCreated {
    /// The task's id.
    #[schema(value_type = i64)]
    pub id: TaskId,
    /// `false`: an existing task was named (key or identity); nothing was created for it.
    pub created: bool,
    /// Set when `created` is `false`: what named the existing task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<Matched>,
}

/// What a batch creation did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per requested task, in request order.
    pub tasks: Vec<BatchCreated>,
}

/// Query parameters of `GET /v1/tasks`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only tasks in this state.
    pub state: Option<TaskState>,
    /// Only tasks of this namespace.
    pub namespace: Option<String>,
    /// Only tasks of this template: `name` (within `namespace` when given) or `namespace/name`;
    /// any version.
    #[param(pattern = "^[^/\\u0000]+(/[^/\\u0000]+)?$")]
    pub template: Option<String>,
    /// Only tasks created at or after this time (RFC 3339; write `+` as `%2B`).
    pub created_after: Option<DateTime<Utc>>,
    /// Only tasks created before this time (RFC 3339).
    pub created_before: Option<DateTime<Utc>>,
    /// Tasks per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(pattern = "^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$")]
    pub cursor: Option<String>,
}

/// One page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    /// Newest first, without contexts (`context` is null; `GET /v1/tasks/{id}` has it).
    pub tasks: Vec<TaskRecord>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query parameters of `GET /v1/tasks/{id}/wait`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// How long to wait for the task to finish, 0 to 60000 ms (default 30000).
    #[param(minimum = 0, maximum = 60000)]
    pub timeout_ms: Option<i64>,
}

/// The history of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskHistory {
    /// Every transition of the task and its steps, in order.
    pub history: Vec<HistoryItem>,
}

/// One task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResponse {
    /// The task as stored, with its context.
    pub task: TaskRecord,
}

fn parse_template(text: &str) -> Result<TemplateRef, Problem> {
    if text.contains('\0') {
        return Err(
            Problem::validation("template contains a NUL character (\\u0000)")
                .with_pointer("/template"),
        );
    }
    text.parse::<TemplateRef>()
        .map_err(|e| Problem::from(e).with_pointer("/template"))
}

/// Create a task
///
/// From a registered template. With an `Idempotency-Key`, sending the same request again
/// returns the task the key created (200, `created: false`); a key already used with another
/// context is a conflict (409). A template whose identity is `strict` returns the existing task
/// for the same context the same way.
#[utoipa::path(
    post,
    path = "/v1/tasks",
    operation_id = "create_task",
    tag = "tasks",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 characters: the same key (for the same template) returns the task it created.", min_length = 1, max_length = 255),
        ("traceparent" = Option<String>, Header, description = "W3C trace context, stored with the task: its steps' spans continue the trace.", pattern = "^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$"),
    ),
    request_body = NewTaskRequest,
    responses(
        (status = 201, description = "Created.", body = CreatedTaskResponse, links(
            ("show" = (operation_id = "show_task", parameters(("id" = "$response.body#/task/id")))),
            ("wait" = (operation_id = "wait_for_task", parameters(("id" = "$response.body#/task/id")))),
            ("history" = (operation_id = "task_history", parameters(("id" = "$response.body#/task/id")))),
            ("cancel" = (operation_id = "cancel_task", parameters(("id" = "$response.body#/task/id")))),
            ("retry" = (operation_id = "retry_task", parameters(("id" = "$response.body#/task/id")))),
        )),
        (status = 200, description = "The key or the identity named an existing task (`matched` says which).", body = CreatedTaskResponse),
        (status = 404, description = "No such template.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The idempotency key created a task with another context.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body or the context is too large.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The context does not match the template's input schema.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:write"]))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksWrite>,
    IdempotencyKey(key): IdempotencyKey,
    Traceparent(traceparent): Traceparent,
    Json(request): Json<NewTaskRequest>,
) -> Result<(StatusCode, axum::Json<CreatedTaskResponse>), Problem> {
    let template = parse_template(&request.template)?;
    auth.caller
        .require_in(Permission::TasksWrite, &template.namespace)?;
    // Written by a batch writer, outside this request's span: its trace context goes along.
    let traceparent = traceparent.or_else(|| {
        let hook = state.engine.config().trace_context.as_ref()?;
        hook.traceparent(&tracing::Span::current())
    });
    let had_key = key.is_some();
    let created = state
        .creates
        .create(CreateTask {
            template,
            context: request.context,
            idempotency_key: key,
            traceparent,
        })
        .await
        .map_err(single_task_problem)?;
    let task = state.engine.task(created.id).await?;
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(CreatedTaskResponse {
            created: created.created,
            matched: Matched::of(created.created, had_key),
            task,
        }),
    ))
}

/// Problems about the idempotency key of one creation name the header it came from.
fn single_task_problem(e: Error) -> Problem {
    let from_header = matches!(
        e,
        Error::IdempotencyKeyRequired(_)
            | Error::InvalidIdempotencyKey(_)
            | Error::IdempotencyConflict { .. }
    );
    let mut problem = Problem::from(e);
    if from_header {
        problem.pointer = None;
        problem.parameter = Some(crate::extract::IDEMPOTENCY_KEY.to_owned());
    }
    problem
}

/// Create up to 1,000 tasks
///
/// In one transaction: when any task is refused, none is created, and the problem's `pointer`
/// names the task at fault (`/tasks/3/context/email`). A `traceparent` header applies to every
/// task of the batch.
#[utoipa::path(
    post,
    path = "/v1/tasks/batch",
    operation_id = "create_tasks",
    tag = "tasks",
    params(
        ("traceparent" = Option<String>, Header, description = "W3C trace context, stored with every task of the batch.", pattern = "^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$"),
    ),
    request_body = BatchRequest,
    responses(
        (status = 201, description = "Created (some tasks may have existed already: see each `created`).", body = BatchResponse),
        (status = 200, description = "Every task existed already; nothing was created.", body = BatchResponse),
        (status = 404, description = "A template does not exist.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "An idempotency key created a task with another context.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body or a context is too large.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A context does not match its template's input schema.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:write"]))
)]
pub async fn create_batch(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksWrite>,
    Traceparent(traceparent): Traceparent,
    Json(batch): Json<BatchRequest>,
) -> Result<(StatusCode, axum::Json<BatchResponse>), Problem> {
    if batch.tasks.is_empty() || batch.tasks.len() > MAX_BATCH {
        return Err(Problem::validation(format!(
            "a batch holds 1 to {MAX_BATCH} tasks, not {}",
            batch.tasks.len()
        ))
        .with_pointer("/tasks"));
    }
    let mut requests = Vec::with_capacity(batch.tasks.len());
    for (i, item) in batch.tasks.into_iter().enumerate() {
        let template = parse_template(&item.template).map_err(|p| p.within(&at(i)))?;
        auth.caller
            .require_in(Permission::TasksWrite, &template.namespace)
            .map_err(|p| p.with_pointer(format!("{}/template", at(i))))?;
        requests.push(CreateTask {
            template,
            context: item.context,
            idempotency_key: item.idempotency_key,
            traceparent: traceparent.clone(),
        });
    }
    let created = match state.engine.create_tasks(requests.clone()).await {
        Ok(created) => created,
        Err(e) => return Err(batch_problem(&state.engine, &requests, e).await),
    };
    let status = if created.iter().any(|c| c.created) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let tasks = created
        .into_iter()
        .zip(&requests)
        .map(|(c, request)| BatchCreated {
            id: c.id,
            created: c.created,
            matched: Matched::of(c.created, request.idempotency_key.is_some()),
        })
        .collect();
    Ok((status, axum::Json(BatchResponse { tasks })))
}

/// `/tasks/3`: where item `i` is in the batch body.
fn at(i: usize) -> String {
    format!("/tasks/{i}")
}

/// The problem of a refused batch, said of the task at fault. The engine stops at the first
/// bad request without saying which it was; each is checked again (nothing is written) until
/// one fails the same way. Only refused batches pay for this.
async fn batch_problem(engine: &Engine, requests: &[CreateTask], e: Error) -> Problem {
    if let Error::IdempotencyConflict { key, .. } = &e {
        let index = requests
            .iter()
            .position(|r| r.idempotency_key.as_deref() == Some(key.as_str()));
        let problem = Problem::from(e);
        return match index {
            Some(i) => problem.within(&at(i)),
            None => problem,
        };
    }
    let per_request = matches!(
        e,
        Error::Context { .. }
            | Error::ContextUnstorable { .. }
            | Error::TemplateNotFound(_)
            | Error::IdempotencyKeyRequired(_)
            | Error::InvalidIdempotencyKey(_)
    );
    if per_request {
        for (i, request) in requests.iter().enumerate() {
            if let Err(item_error) = engine.check_task(request).await {
                return Problem::from(item_error).within(&at(i));
            }
        }
    }
    Problem::from(e)
}

/// List tasks
///
/// Newest first, one page at a time: pass `next_cursor` back as `cursor`, with the same
/// filters, for the next page. A token limited to namespaces lists one of them: the one
/// `namespace` names, or its only one.
#[utoipa::path(
    get,
    path = "/v1/tasks",
    operation_id = "list_tasks",
    tag = "tasks",
    params(ListQuery),
    responses((status = 200, description = "A page of tasks.", body = TaskList)),
    security(("bearer" = ["tasks:read"]))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksRead>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<TaskList>, Problem> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::parameter(
            "limit",
            format!("limit must be from 1 to {MAX_LIMIT}, not {limit}"),
        ));
    }
    let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
    for (name, value) in [
        ("namespace", &query.namespace),
        ("template", &query.template),
    ] {
        if let Some(value) = value {
            no_nul(name, value)?;
        }
    }
    if query.template.as_deref() == Some("") {
        return Err(Problem::parameter(
            "template",
            "template must be NAME or NAMESPACE/NAME, not empty",
        ));
    }
    let (mut namespace, template) = match query.template.as_deref() {
        Some(text) => match text.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                if query.namespace.as_deref().is_some_and(|n| n != ns) {
                    // A template of another namespace has no task in this one.
                    readable_namespace(&auth.caller, query.namespace.clone())?;
                    return Ok(axum::Json(TaskList {
                        tasks: Vec::new(),
                        next_cursor: None,
                    }));
                }
                (Some(ns.to_owned()), Some(name.to_owned()))
            }
            Some(_) => {
                return Err(Problem::parameter(
                    "template",
                    format!("template must be NAME or NAMESPACE/NAME, not {text:?}"),
                ));
            }
            None => (query.namespace.clone(), Some(text.to_owned())),
        },
        None => (query.namespace.clone(), None),
    };
    namespace = readable_namespace(&auth.caller, namespace)?;
    let page = u32::try_from(limit).unwrap_or(1);
    let mut tasks = state
        .engine
        .list_tasks(TaskFilter {
            state: query.state,
            namespace,
            template,
            created_after: query.created_after,
            created_before: query.created_before,
            before_id: cursor.map(|c| c.0),
            // One more than the page says whether another page follows.
            limit: page + 1,
        })
        .await?;
    let next_cursor = if tasks.len() > page as usize {
        tasks.truncate(page as usize);
        tasks.last().map(|t| Cursor(t.id).encode())
    } else {
        None
    };
    Ok(axum::Json(TaskList { tasks, next_cursor }))
}

/// The namespace a list is limited to: the one asked for if the token may read it, else the
/// token's only namespace.
fn readable_namespace(caller: &Caller, asked: Option<String>) -> Result<Option<String>, Problem> {
    match (caller.reach(Permission::TasksRead), asked) {
        (Reach::Everywhere, asked) => Ok(asked),
        (_, Some(namespace)) => {
            caller.require_in(Permission::TasksRead, &namespace)?;
            Ok(Some(namespace))
        }
        (Reach::Namespaces(mut only), None) if only.len() == 1 => Ok(only.pop()),
        (Reach::Namespaces(only), None) => Err(Problem::forbidden(format!(
            "this token reads tasks of namespaces {} only; choose one with namespace=",
            only.join(", ")
        ))),
        (Reach::Nowhere, None) => Err(Problem::forbidden("this token does not have tasks:read")),
    }
}

/// The task, once the caller may see it.
async fn readable_task(
    state: &AppState,
    caller: &Caller,
    id: TaskId,
    permission: Permission,
) -> Result<TaskRecord, Problem> {
    let task = state.engine.task(id).await?;
    caller.require_for_task(permission, &task.namespace)?;
    Ok(task)
}

/// Show a task
///
/// The same document as `tasker --json task show ID`: the task (with its context), its
/// execution context, and every step with its readiness, results, attempts and explanation.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}",
    operation_id = "show_task",
    tag = "tasks",
    params(("id" = i64, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "The task.", body = TaskDocument, links(
            ("step" = (operation_id = "show_step", parameters(("id" = "$response.body#/steps/0/id")))),
            ("resolve" = (operation_id = "resolve_step", parameters(("id" = "$response.body#/steps/0/id")))),
        )),
        (status = 404, description = "No such task.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:read"]))
)]
pub async fn show(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksRead>,
    Path(id): Path<TaskId>,
) -> Result<axum::Json<TaskDocument>, Problem> {
    let document = state.engine.task_document(id).await?;
    auth.caller
        .require_for_task(Permission::TasksRead, &document.task.namespace)?;
    Ok(axum::Json(document))
}

/// Wait for a task to finish
///
/// Long poll: answers as `GET /v1/tasks/{id}` does as soon as the task is `complete`, `error`
/// or `cancelled`, or when `timeout_ms` has passed (then the task's `state` says it is not
/// finished), or at once when the server is stopping.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}/wait",
    operation_id = "wait_for_task",
    tag = "tasks",
    params(("id" = i64, Path, description = "The task's id."), WaitQuery),
    responses(
        (status = 200, description = "The task, finished or as it is at the time-out.", body = TaskDocument),
        (status = 404, description = "No such task.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:read"]))
)]
pub async fn wait(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksRead>,
    Path(id): Path<TaskId>,
    Query(query): Query<WaitQuery>,
) -> Result<axum::Json<TaskDocument>, Problem> {
    let max_ms = MAX_WAIT.as_millis() as i64;
    let timeout = match query.timeout_ms {
        None => DEFAULT_WAIT,
        Some(ms) if (0..=max_ms).contains(&ms) => Duration::from_millis(ms as u64),
        Some(ms) => {
            return Err(Problem::parameter(
                "timeout_ms",
                format!("timeout_ms must be from 0 to {max_ms}, not {ms}"),
            ));
        }
    };
    let timeout = timeout.min(state.task_max_wait);
    readable_task(&state, &auth.caller, id, Permission::TasksRead).await?;
    tokio::select! {
        waited = state.engine.wait_for_task(id, Some(timeout)) => match waited {
            Ok(_) | Err(Error::Timeout(_)) => {}
            Err(e) => return Err(e.into()),
        },
        () = state.shutdown.cancelled() => {}
    }
    Ok(axum::Json(state.engine.task_document(id).await?))
}

/// A task's history
///
/// Every transition of the task and of its steps, in order; an operator action's transitions
/// name the token that performed it (`metadata.actor`).
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}/history",
    operation_id = "task_history",
    tag = "tasks",
    params(("id" = i64, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "The transitions.", body = TaskHistory),
        (status = 404, description = "No such task.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:read"]))
)]
pub async fn history(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksRead>,
    Path(id): Path<TaskId>,
) -> Result<axum::Json<TaskHistory>, Problem> {
    readable_task(&state, &auth.caller, id, Permission::TasksRead).await?;
    let history = state.engine.history_items(id).await?;
    Ok(axum::Json(TaskHistory { history }))
}

/// Cancel a task
///
/// `pending`, `in_progress` or `error` becomes `cancelled`: nothing new starts, pending and
/// failed steps are cancelled, running steps finish. 409 for a task that is finished.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/cancel",
    operation_id = "cancel_task",
    tag = "tasks",
    params(("id" = i64, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "Cancelled.", body = TaskResponse),
        (status = 404, description = "No such task.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The task's state does not allow it.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:write"]))
)]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksWrite>,
    Path(id): Path<TaskId>,
) -> Result<axum::Json<TaskResponse>, Problem> {
    readable_task(&state, &auth.caller, id, Permission::TasksWrite).await?;
    let actor = auth.caller.actor();
    let task = state.engine.cancel_task_as(id, actor.as_ref()).await?;
    Ok(axum::Json(TaskResponse { task }))
}

/// Retry a task
///
/// Gives every permanently failed step of a task in `error` a fresh set of attempts. 409 for a
/// task that is not in `error`.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/retry",
    operation_id = "retry_task",
    tag = "tasks",
    params(("id" = i64, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "Retried.", body = TaskResponse),
        (status = 404, description = "No such task.", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The task's state does not allow it.", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tasks:write"]))
)]
pub async fn retry(
    State(state): State<AppState>,
    auth: Authorized<needs::TasksWrite>,
    Path(id): Path<TaskId>,
) -> Result<axum::Json<TaskResponse>, Problem> {
    readable_task(&state, &auth.caller, id, Permission::TasksWrite).await?;
    let actor = auth.caller.actor();
    let task = state.engine.retry_task_as(id, actor.as_ref()).await?;
    Ok(axum::Json(TaskResponse { task }))
}
