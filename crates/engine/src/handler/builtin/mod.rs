//! The handlers every engine knows: enough to run the example workloads, benchmarks and demos
//! without writing Rust, and to call out to any program or HTTP service.

mod command;
mod config_checks;
mod fail;
mod http;
mod noop;
mod sleep;

pub use command::Command;
pub use fail::Fail;
pub use http::Http;
pub use noop::Noop;
pub use sleep::Sleep;

pub(crate) use config_checks::Checked;

use super::StepError;
use serde_json::Value;

/// An optional non-negative integer field of a step's config.
fn config_u64(config: &Value, field: &str) -> Result<Option<u64>, StepError> {
    match config.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            StepError::permanent(format!(
                "config.{field} must be a non-negative integer, got {v}"
            ))
        }),
    }
}
