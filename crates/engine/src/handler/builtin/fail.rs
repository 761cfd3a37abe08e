use super::config_u64;
use crate::handler::{StepContext, StepError, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::time::Duration;

/// Fails on purpose, to exercise retries and blocking.
///
/// - `permanent: true`: every attempt fails permanently.
/// - `times: n`: the first n attempts fail retryably, later ones succeed. Without `times` every
///   attempt fails.
/// - `retry_after_ms`: ask for this wait before the next attempt.
#[derive(Debug, Clone, Copy)]
pub struct Fail;

#[async_trait]
impl StepHandler for Fail {
    async fn call(&self, ctx: StepContext) -> StepResult {
        let attempt = u64::try_from(ctx.attempt).unwrap_or(0);
        if ctx.config.get("permanent").and_then(Value::as_bool) == Some(true) {
            return Err(StepError::permanent(format!(
                "failing permanently as configured (attempt {attempt})"
            )));
        }
        let times = config_u64(&ctx.config, "times")?;
        if times.is_some_and(|n| attempt > n) {
            return Ok(json!({ "failed_attempts": attempt - 1 }));
        }
        let message = match times {
            Some(n) => format!("failing attempt {attempt} of the first {n} as configured"),
            None => format!("failing every attempt as configured (attempt {attempt})"),
        };
        Err(match config_u64(&ctx.config, "retry_after_ms")? {
            Some(ms) => StepError::retry_after(message, Duration::from_millis(ms)),
            None => StepError::retryable(message),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ctx(attempt: i32, config: Value) -> StepContext {
        StepContext {
            task_id: 1,
            step_id: 1,
            step_name: "s".into(),
            attempt,
            context: json!({}).into(),
            config,
            parent_results: BTreeMap::new(),
            cancellation: Default::default(),
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn fails_the_first_n_attempts_then_succeeds() {
        let config = json!({"times": 2, "retry_after_ms": 50});
        for attempt in 1..=2 {
            let err = Fail.call(ctx(attempt, config.clone())).await.unwrap_err();
            assert_eq!(
                err,
                StepError::retry_after(
                    format!("failing attempt {attempt} of the first 2 as configured"),
                    Duration::from_millis(50)
                )
            );
        }
        assert_eq!(
            Fail.call(ctx(3, config)).await,
            Ok(json!({"failed_attempts": 2}))
        );
    }

    #[tokio::test]
    async fn permanent_wins_and_bad_config_is_permanent() {
        let err = Fail
            .call(ctx(1, json!({"permanent": true, "times": 0})))
            .await
            .unwrap_err();
        assert!(matches!(err, StepError::Permanent { .. }), "{err:?}");
        let err = Fail.call(ctx(1, json!({"times": "x"}))).await.unwrap_err();
        assert!(matches!(err, StepError::Permanent { .. }), "{err:?}");
    }
}
