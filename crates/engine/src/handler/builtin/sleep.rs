use super::config_u64;
use crate::handler::{StepContext, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::json;
use std::time::Duration;

/// Waits `config.ms` milliseconds (default 0), then succeeds with `{"slept_ms": ms}`.
#[derive(Debug, Clone, Copy)]
pub struct Sleep;

#[async_trait]
impl StepHandler for Sleep {
    async fn call(&self, ctx: StepContext) -> StepResult {
        let ms = config_u64(&ctx.config, "ms")?.unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(json!({ "slept_ms": ms }))
    }
}
