use super::config_u64;
use crate::handler::{StepContext, StepError, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::json;
use std::time::Duration;

/// Waits `config.ms` milliseconds (default 0), then succeeds with `{"slept_ms": ms}`. A cancelled
/// attempt stops waiting and fails retryably.
#[derive(Debug, Clone, Copy)]
pub struct Sleep;

#[async_trait]
impl StepHandler for Sleep {
    async fn call(&self, ctx: StepContext) -> StepResult {
        let ms = config_u64(&ctx.config, "ms")?.unwrap_or(0);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => Ok(json!({ "slept_ms": ms })),
            () = ctx.cancellation.cancelled() => Err(StepError::retryable(format!(
                "sleep of {ms} ms cancelled"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ctx(ms: u64) -> StepContext {
        StepContext {
            task_id: 1,
            step_id: 2,
            step_name: "nap".into(),
            attempt: 1,
            context: json!({}).into(),
            config: json!({ "ms": ms }),
            parent_results: BTreeMap::new(),
            cancellation: Default::default(),
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn sleeps_then_succeeds() {
        assert_eq!(Sleep.call(ctx(1)).await, Ok(json!({"slept_ms": 1})));
    }

    #[tokio::test]
    async fn a_cancelled_attempt_stops_sleeping_with_a_retryable_error() {
        let context = ctx(300_000);
        let token = context.cancellation.clone();
        let call = tokio::spawn(async move { Sleep.call(context).await });
        token.cancel();
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("the sleep ignored the cancellation")
            .unwrap();
        assert!(
            matches!(&result, Err(StepError::Retryable { message, .. }) if message.contains("cancelled")),
            "{result:?}"
        );
    }
}
