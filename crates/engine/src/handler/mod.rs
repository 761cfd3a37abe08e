//! Step handlers: the code a step runs, the context it gets and the errors it reports.

pub mod builtin;
mod context;
pub(crate) mod panics;
mod registry;
mod result_ext;

pub use context::StepContextBuilder;
pub use registry::HandlerRegistry;
pub use result_ext::ResultExt;

/// The attribute a handler written as a struct puts on its `impl StepHandler for ...` block
/// (re-exported from the `async-trait` crate, so that no dependency on it is needed): see
/// [`StepHandler`].
pub use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tasker_model::{StepId, TaskId};
pub use tokio_util::sync::CancellationToken;

/// The code behind a step. Handlers run concurrently and may be called again for the same step
/// (a retry, or a second attempt after a crash), so they should be idempotent.
///
/// A handler is an async function or closure taking a [`StepContext`] (wrap a closure in
/// [`handler_fn`] so that its argument and result types need no annotation), or a struct that
/// implements this trait. The trait is used as `dyn StepHandler`, so its `impl` blocks carry
/// the [`async_trait`](macro@async_trait) attribute, re-exported here and as
/// `tasker::async_trait`: no dependency on the `async-trait` crate is needed.
///
/// A struct handler, with `?` on ordinary errors through [`ResultExt`]:
///
/// ```
/// use tasker_engine::handler::{ResultExt, StepContext, StepHandler, StepResult};
/// use serde_json::json;
///
/// struct Greeter {
///     greeting: String,
/// }
///
/// #[tasker_engine::async_trait] // `#[tasker::async_trait]` with the facade crate
/// impl StepHandler for Greeter {
///     async fn call(&self, ctx: StepContext) -> StepResult {
///         let name: String = serde_json::from_value(ctx.context["name"].clone()).permanent()?;
///         Ok(json!({ "message": format!("{}, {name}!", self.greeting) }))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let greeter = Greeter { greeting: "Hello".into() };
/// let ctx = StepContext::builder().context(json!({ "name": "Ada" })).build();
/// assert_eq!(greeter.call(ctx).await.unwrap(), json!({ "message": "Hello, Ada!" }));
/// # });
/// ```
///
/// A closure, registered with [`HandlerRegistry::register_fn`] (or wrapped in [`handler_fn`]):
///
/// ```
/// use tasker_engine::handler::HandlerRegistry;
/// use serde_json::json;
///
/// let mut registry = HandlerRegistry::with_builtins();
/// registry.register_fn("greet", |ctx| async move {
///     Ok(json!({ "hello": ctx.context["name"] }))
/// });
/// assert!(registry.contains("greet"));
/// ```
#[async_trait]
pub trait StepHandler: Send + Sync + 'static {
    /// Runs one attempt of a step. `Ok` carries the step's result (what its children see in
    /// [`StepContext::parent_results`]); `Err` says whether another attempt is worth it.
    async fn call(&self, ctx: StepContext) -> StepResult;

    /// Checks a step's `config` when a template naming this handler is registered, so that a
    /// config the handler cannot use is refused then rather than failing every task at run
    /// time. An error that concerns one field starts with its name and a colon
    /// (`"timeout_ms: must be ..."`); it is reported at `steps[i].config.timeout_ms`. When
    /// the value at that field is a boolean, the report adds that YAML reads an unquoted `yes`,
    /// `no`, `on` or `n` as one ([`tasker_model::yaml_boolean_hint`]).
    /// The default accepts any config.
    fn check_config(&self, _config: &Value) -> Result<(), String> {
        Ok(())
    }
}

/// What a handler gets for one attempt of a step. The engine makes it; a unit test makes one
/// with [`StepContext::builder`].
#[derive(Debug, Clone)]
pub struct StepContext {
    /// The task the step belongs to.
    pub task_id: TaskId,
    /// The step.
    pub step_id: StepId,
    /// The step's name in its template.
    pub step_name: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The task's context (after defaults from the input schema). Shared, not copied, among
    /// the steps of the task that run at once: a large context costs its size once per task,
    /// not once per running step. Read it as a `Value` (`ctx.context["order_id"]`).
    pub context: std::sync::Arc<Value>,
    /// The step's `config` from the template (null when it has none).
    pub config: Value,
    /// Results of the parent steps, by step name.
    pub parent_results: BTreeMap<String, Value>,
    /// Cancelled when this attempt must stop: its lease was lost (the step may already run
    /// elsewhere, and this attempt's outcome would be refused), or the orchestrator is stopping
    /// and its grace period ran out. A handler that runs for long should watch it
    /// (`ctx.cancellation.cancelled().await` in a `select!`) and stop its side effects; the
    /// orchestrator also drops the handler's future right after cancelling it.
    pub cancellation: CancellationToken,
    /// The W3C `traceparent` of this attempt, to pass on to whatever the handler calls (an
    /// HTTP header, a child's environment) so that its work joins the task's trace: the
    /// attempt's own span when the engine has a
    /// [`TraceContext`](crate::telemetry::TraceContext), else the one the task was created
    /// with; `None` when the task has none.
    pub traceparent: Option<String>,
}

/// What a handler returns: the step's result, or why the attempt failed.
pub type StepResult = Result<Value, StepError>;

/// Why an attempt failed, and whether another is worth it. [`ResultExt`] makes one from any
/// ordinary error (`.retryable()?`, `.permanent()?`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    /// Worth another attempt, if the step's retry policy allows one. `retry_after` overrides the
    /// computed backoff and its `max_ms`, bounded only by `EngineConfig::max_retry_after`
    /// (default 1 hour).
    #[error("{message}")]
    Retryable {
        /// What went wrong, kept in the step's history.
        message: String,
        /// How long to wait before the next attempt, instead of the step's backoff.
        retry_after: Option<Duration>,
    },
    /// Never worth another attempt: the step fails for good and blocks its task.
    #[error("{message}")]
    Permanent {
        /// What went wrong, kept in the step's history.
        message: String,
    },
}

impl StepError {
    /// A failure worth another attempt, after the step's backoff.
    pub fn retryable(message: impl Into<String>) -> Self {
        StepError::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failure not worth another attempt: the step fails for good.
    pub fn permanent(message: impl Into<String>) -> Self {
        StepError::Permanent {
            message: message.into(),
        }
    }

    /// A failure worth another attempt after `wait` (bounded by
    /// `EngineConfig::max_retry_after`), whatever the step's backoff says.
    pub fn retry_after(message: impl Into<String>, wait: Duration) -> Self {
        StepError::Retryable {
            message: message.into(),
            retry_after: Some(wait),
        }
    }

    /// Whether another attempt is worth it.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StepError::Retryable { .. })
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        match self {
            StepError::Retryable { message, .. } | StepError::Permanent { message } => message,
        }
    }
}

/// Returns the closure unchanged, with the bounds a handler needs spelled out, so that Rust
/// infers its argument (a [`StepContext`]) and the error type of its `Ok(..)`: without it a
/// closure given where any [`StepHandler`] is accepted needs `|ctx: StepContext|` and
/// `StepResult::Ok(..)`, because the compiler infers a closure's types only from a bound that
/// names `Fn` directly.
///
/// ```
/// use tasker_engine::handler::{HandlerRegistry, handler_fn};
/// use serde_json::json;
///
/// let mut registry = HandlerRegistry::empty();
/// registry.register("greet", handler_fn(|ctx| async move {
///     Ok(json!({ "hello": ctx.context["name"] }))
/// }));
/// ```
pub fn handler_fn<F, Fut>(f: F) -> F
where
    F: Fn(StepContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = StepResult> + Send + 'static,
{
    f
}

/// Handlers may be plain async functions and closures: `|ctx: StepContext| async move {
/// StepResult::Ok(json!({})) }` (see [`handler_fn`] to drop the annotations).
#[async_trait]
impl<F, Fut> StepHandler for F
where
    F: Fn(StepContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = StepResult> + Send + 'static,
{
    async fn call(&self, ctx: StepContext) -> StepResult {
        (self)(ctx).await
    }
}
