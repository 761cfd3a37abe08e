//! Step handlers: the code a step runs, the context it gets and the errors it reports.

pub mod builtin;
mod registry;

pub use registry::HandlerRegistry;

use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tasker_model::{StepId, TaskId};
pub use tokio_util::sync::CancellationToken;

/// The code behind a step. Handlers run concurrently and may be called again for the same step
/// (a retry, or a second attempt after a crash), so they should be idempotent.
///
/// Any `Fn(StepContext) -> impl Future<Output = StepResult>` is a handler (an `async fn`, or
/// a closure whose argument type is written out); a struct implements the trait with
/// `#[async_trait]`:
///
/// ```
/// use async_trait::async_trait;
/// use serde_json::{Value, json};
/// use tasker_engine::{HandlerRegistry, StepContext, StepError, StepHandler, StepResult};
///
/// struct Greet {
///     greeting: String,
/// }
///
/// #[async_trait]
/// impl StepHandler for Greet {
///     async fn call(&self, ctx: StepContext) -> StepResult {
///         let name = ctx.context["name"]
///             .as_str()
///             .ok_or_else(|| StepError::permanent("name must be a string"))?;
///         Ok(json!({ "message": format!("{} {name}", self.greeting) }))
///     }
///
///     fn check_config(&self, config: &Value) -> Result<(), String> {
///         match config.get("loud") {
///             None | Some(Value::Bool(_)) => Ok(()),
///             Some(_) => Err("loud: must be true or false".into()),
///         }
///     }
/// }
///
/// let mut handlers = HandlerRegistry::empty();
/// handlers.register("greet", Greet { greeting: "hello".into() });
/// handlers.register("shout", |ctx: StepContext| async move {
///     Ok(json!({ "attempt": ctx.attempt }))
/// });
/// assert_eq!(handlers.names(), ["greet", "shout"]);
/// ```
#[async_trait]
pub trait StepHandler: Send + Sync + 'static {
    /// Runs one attempt of a step. `Ok(value)` completes the step with `value` as its result
    /// (passed to its children in [`StepContext::parent_results`]); an error fails the
    /// attempt as its [`StepError`] kind says. A panic fails the attempt retryably.
    async fn call(&self, ctx: StepContext) -> StepResult;

    /// Checks a step's `config` when a template naming this handler is registered, so that a
    /// config the handler cannot use is refused then rather than failing every task at run
    /// time. An error that concerns one field starts with its name and a colon
    /// (`"timeout_ms: must be ..."`); it is reported at `steps[i].config.timeout_ms`.
    /// The default accepts any config.
    fn check_config(&self, _config: &Value) -> Result<(), String> {
        Ok(())
    }
}

/// What a handler gets for one attempt of a step.
#[derive(Debug, Clone)]
pub struct StepContext {
    /// The step's task.
    pub task_id: TaskId,
    /// The step; the same across its attempts (a good idempotency key for what it calls).
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

/// Why an attempt failed, and whether another attempt is worth it. The message is kept in the
/// step's history and sent in [`Event::StepFailed`](crate::Event::StepFailed).
///
/// ```
/// use std::time::Duration;
/// use tasker_engine::StepError;
///
/// let busy = StepError::retry_after("rate limited", Duration::from_secs(30));
/// assert!(matches!(busy, StepError::Retryable { retry_after: Some(_), .. }));
/// assert_eq!(StepError::permanent("card declined").to_string(), "card declined");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    /// Worth another attempt, if the step's retry policy allows one. `retry_after` overrides the
    /// computed backoff and its `max_ms`, bounded only by `EngineConfig::max_retry_after`
    /// (default 1 hour).
    #[error("{message}")]
    Retryable {
        /// What went wrong.
        message: String,
        /// How long to wait before the next attempt; `None`: the step's backoff decides.
        retry_after: Option<Duration>,
    },
    /// Never worth another attempt: the step fails for good and blocks its task.
    #[error("{message}")]
    Permanent {
        /// What went wrong.
        message: String,
    },
}

impl StepError {
    /// A failure worth another attempt after the step's backoff.
    pub fn retryable(message: impl Into<String>) -> Self {
        StepError::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failure no attempt will fix: the step fails for good.
    pub fn permanent(message: impl Into<String>) -> Self {
        StepError::Permanent {
            message: message.into(),
        }
    }

    /// A failure worth another attempt after `wait` (a rate limit's `Retry-After`), instead of
    /// the computed backoff; bounded by `EngineConfig::max_retry_after`.
    pub fn retry_after(message: impl Into<String>, wait: Duration) -> Self {
        StepError::Retryable {
            message: message.into(),
            retry_after: Some(wait),
        }
    }
}

/// Handlers may be plain async closures, with the argument's type written out (Rust cannot
/// infer it from the bound): `|ctx: StepContext| async move { Ok(json!({})) }`.
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
