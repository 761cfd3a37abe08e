use crate::handler::{StepContext, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::json;

/// Succeeds at once with `{}`.
#[derive(Debug, Clone, Copy)]
pub struct Noop;

#[async_trait]
impl StepHandler for Noop {
    async fn call(&self, _ctx: StepContext) -> StepResult {
        Ok(json!({}))
    }
}
