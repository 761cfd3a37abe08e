//! [`StepContext::builder`]: a context made by hand, to call a handler in a unit test.

use super::{CancellationToken, StepContext};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tasker_model::{StepId, TaskId};

/// Builds a [`StepContext`] without an engine, to call a handler directly in a unit test. Every
/// field has a default: task and step id 1, step name `"step"`, attempt 1, an empty object as
/// the task's context, a null config, no parent results, a fresh cancellation token, no
/// `traceparent`.
///
/// ```
/// use tasker_engine::handler::{CancellationToken, StepContext, StepResult};
/// use serde_json::json;
///
/// async fn total(ctx: StepContext) -> StepResult {
///     let price = ctx.parent_results["price"]["amount"].as_u64().unwrap_or(0);
///     let quantity = ctx.context["quantity"].as_u64().unwrap_or(1);
///     Ok(json!({ "total": price * quantity, "attempt": ctx.attempt }))
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let token = CancellationToken::new();
/// let ctx = StepContext::builder()
///     .context(json!({ "quantity": 3 }))
///     .parent_result("price", json!({ "amount": 5 }))
///     .attempt(2)
///     .cancellation(token.clone())
///     .build();
/// assert_eq!(total(ctx).await.unwrap(), json!({ "total": 15, "attempt": 2 }));
/// # });
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the StepContext"]
pub struct StepContextBuilder {
    ctx: StepContext,
}

impl StepContext {
    /// A builder for a context made by hand, for handler unit tests (see
    /// [`StepContextBuilder`]).
    pub fn builder() -> StepContextBuilder {
        StepContextBuilder {
            ctx: StepContext {
                task_id: 1,
                step_id: 1,
                step_name: "step".to_owned(),
                attempt: 1,
                context: Arc::new(json!({})),
                config: Value::Null,
                parent_results: BTreeMap::new(),
                cancellation: CancellationToken::new(),
                traceparent: None,
            },
        }
    }
}

impl StepContextBuilder {
    /// The task's id (default 1).
    pub fn task_id(mut self, id: TaskId) -> Self {
        self.ctx.task_id = id;
        self
    }

    /// The step's id (default 1).
    pub fn step_id(mut self, id: StepId) -> Self {
        self.ctx.step_id = id;
        self
    }

    /// The step's name in its template (default `"step"`).
    pub fn step_name(mut self, name: impl Into<String>) -> Self {
        self.ctx.step_name = name.into();
        self
    }

    /// The attempt, 1 for the first (the default).
    pub fn attempt(mut self, attempt: i32) -> Self {
        self.ctx.attempt = attempt;
        self
    }

    /// The task's context (default `{}`).
    pub fn context(mut self, context: Value) -> Self {
        self.ctx.context = Arc::new(context);
        self
    }

    /// The step's `config` from its template (default null).
    pub fn config(mut self, config: Value) -> Self {
        self.ctx.config = config;
        self
    }

    /// The result of the parent step `name`; call once per parent.
    pub fn parent_result(mut self, name: impl Into<String>, result: Value) -> Self {
        self.ctx.parent_results.insert(name.into(), result);
        self
    }

    /// The token the handler watches; keep a clone to cancel it from the test (default: a
    /// fresh token nobody cancels).
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.ctx.cancellation = token;
        self
    }

    /// The W3C `traceparent` the handler passes on (default none).
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.ctx.traceparent = Some(traceparent.into());
        self
    }

    /// The context.
    pub fn build(self) -> StepContext {
        self.ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let ctx = StepContext::builder().build();
        assert_eq!((ctx.task_id, ctx.step_id, ctx.attempt), (1, 1, 1));
        assert_eq!(ctx.step_name, "step");
        assert_eq!(*ctx.context, json!({}));
        assert!(ctx.config.is_null() && ctx.parent_results.is_empty());
        assert!(!ctx.cancellation.is_cancelled() && ctx.traceparent.is_none());

        let token = CancellationToken::new();
        let ctx = StepContext::builder()
            .task_id(7)
            .step_id(70)
            .step_name("charge")
            .config(json!({ "limit": 3 }))
            .parent_result("a", json!(1))
            .parent_result("b", json!(2))
            .cancellation(token.clone())
            .traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .build();
        token.cancel();
        assert!(ctx.cancellation.is_cancelled());
        assert_eq!((ctx.task_id, ctx.step_id), (7, 70));
        assert_eq!(ctx.step_name, "charge");
        assert_eq!(ctx.config["limit"], 3);
        assert_eq!(ctx.parent_results.len(), 2);
        assert!(ctx.traceparent.is_some());
    }
}
