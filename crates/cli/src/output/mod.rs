//! Everything the CLI prints: human tables and `--json` documents. Commands gather data and hand
//! it here; nothing else formats.

pub mod demo;
pub mod run;
pub mod table;
pub mod task;
pub mod template;
pub mod time;

use anyhow::Context as _;
use serde::Serialize;

/// Print a JSON document on stdout.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode the output as JSON")?;
    println!("{text}");
    Ok(())
}

/// JSON on one line, for metadata columns.
pub fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    }
}
