//! What the built-in handlers accept in a step's `config`, checked when a template is
//! registered. Each check returns `"field: problem"` for the first field it refuses.
//!
//! The checks live beside the handlers rather than in them: [`Checked`] pairs a handler with
//! its check, and the registry registers the pair, so a handler registered under a built-in's
//! name by an application replaces the check too.

use crate::handler::{StepContext, StepHandler, StepResult};
use async_trait::async_trait;
use serde_json::Value;
use tasker_model::limits::MAX_TIMEOUT_MS;

/// A handler with the config check it is registered with.
pub(crate) struct Checked<H> {
    handler: H,
    check: fn(&Value) -> Result<(), String>,
}

impl Checked<super::Command> {
    pub(crate) fn command() -> Self {
        Self {
            handler: super::Command,
            check: command,
        }
    }
}

impl Checked<super::Sleep> {
    pub(crate) fn sleep() -> Self {
        Self {
            handler: super::Sleep,
            check: sleep,
        }
    }
}

impl Checked<super::Fail> {
    pub(crate) fn fail() -> Self {
        Self {
            handler: super::Fail,
            check: fail,
        }
    }
}

impl Checked<super::Http> {
    pub(crate) fn http() -> Self {
        Self {
            handler: super::Http::new(),
            check: http,
        }
    }
}

#[async_trait]
impl<H: StepHandler> StepHandler for Checked<H> {
    async fn call(&self, ctx: StepContext) -> StepResult {
        self.handler.call(ctx).await
    }

    fn check_config(&self, config: &Value) -> Result<(), String> {
        (self.check)(config)?;
        self.handler.check_config(config)
    }
}

/// `command`: `program` a non-empty string, `args` an array of strings, `timeout_ms` an integer
/// from 1 to [`MAX_TIMEOUT_MS`].
pub(crate) fn command(config: &Value) -> Result<(), String> {
    object(config, true)?;
    match config.get("program") {
        None | Some(Value::Null) => return Err("program: is required (the program to run)".into()),
        Some(Value::String(p)) if p.trim().is_empty() => {
            return Err("program: must not be empty".into());
        }
        Some(Value::String(_)) => {}
        Some(other) => return Err(format!("program: must be a string, got {other}")),
    }
    match config.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_string()) {
                return Err(format!("args[{i}]: must be a string, got {item}"));
            }
        }
        Some(other) => return Err(format!("args: must be an array of strings, got {other}")),
    }
    millis(config, "timeout_ms", 1)
}

/// `sleep`: `ms` an integer from 0 to [`MAX_TIMEOUT_MS`].
pub(crate) fn sleep(config: &Value) -> Result<(), String> {
    object(config, false)?;
    millis(config, "ms", 0)
}

/// `fail`: `times` and `retry_after_ms` non-negative integers, `permanent` a boolean.
pub(crate) fn fail(config: &Value) -> Result<(), String> {
    object(config, false)?;
    for field in ["times", "retry_after_ms"] {
        match config.get(field) {
            None | Some(Value::Null) => {}
            Some(v) if v.as_u64().is_some() => {}
            Some(v) => return Err(format!("{field}: must be a non-negative integer, got {v}")),
        }
    }
    match config.get("permanent") {
        None | Some(Value::Null | Value::Bool(_)) => Ok(()),
        Some(v) => Err(format!("permanent: must be true or false, got {v}")),
    }
}

/// `http`: see [`super::http::HttpConfig::parse`], which reads the same config for each call.
pub(crate) fn http(config: &Value) -> Result<(), String> {
    super::http::HttpConfig::parse(config).map(drop)
}

/// The config must be a mapping (or, when `required` is false, may be left out).
pub(super) fn object(config: &Value, required: bool) -> Result<(), String> {
    match config {
        Value::Object(_) => Ok(()),
        Value::Null if !required => Ok(()),
        Value::Null => Err("is required".into()),
        other => Err(format!("must be a mapping, got {other}")),
    }
}

/// An optional integer number of milliseconds, at least `min`, at most [`MAX_TIMEOUT_MS`].
pub(super) fn millis(config: &Value, field: &str, min: u64) -> Result<(), String> {
    let Some(value) = config.get(field).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    match value.as_u64() {
        Some(ms) if ms < min => Err(format!("{field}: must be at least {min}, got {ms}")),
        Some(ms) if ms > MAX_TIMEOUT_MS => Err(format!(
            "{field}: {ms} is more than the limit of {MAX_TIMEOUT_MS} (seven days)"
        )),
        Some(_) => Ok(()),
        None => Err(format!(
            "{field}: must be a whole number of milliseconds, got {value}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn command_configs() {
        assert_eq!(command(&json!({"program": "echo"})), Ok(()));
        assert_eq!(
            command(&json!({"program": "echo", "args": ["a"], "timeout_ms": 5})),
            Ok(())
        );
        assert_eq!(command(&Value::Null), Err("is required".into()));
        assert_eq!(
            command(&json!({"args": ["x"]})),
            Err("program: is required (the program to run)".into())
        );
        assert_eq!(
            command(&json!({"program": 5})),
            Err("program: must be a string, got 5".into())
        );
        assert_eq!(
            command(&json!({"program": "echo", "args": "x"})),
            Err("args: must be an array of strings, got \"x\"".into())
        );
        assert_eq!(
            command(&json!({"program": "echo", "args": ["a", 1]})),
            Err("args[1]: must be a string, got 1".into())
        );
        assert_eq!(
            command(&json!({"program": "echo", "timeout_ms": -1})),
            Err("timeout_ms: must be a whole number of milliseconds, got -1".into())
        );
        assert_eq!(
            command(&json!({"program": "echo", "timeout_ms": "abc"})),
            Err("timeout_ms: must be a whole number of milliseconds, got \"abc\"".into())
        );
        assert_eq!(
            command(&json!({"program": "echo", "timeout_ms": 0})),
            Err("timeout_ms: must be at least 1, got 0".into())
        );
    }

    #[test]
    fn sleep_and_fail_configs() {
        assert_eq!(sleep(&Value::Null), Ok(()));
        assert_eq!(sleep(&json!({"ms": 0})), Ok(()));
        assert_eq!(
            sleep(&json!({"ms": -5})),
            Err("ms: must be a whole number of milliseconds, got -5".into())
        );
        assert_eq!(fail(&json!({"times": 2, "permanent": false})), Ok(()));
        assert_eq!(
            fail(&json!({"times": "two"})),
            Err("times: must be a non-negative integer, got \"two\"".into())
        );
    }
}
