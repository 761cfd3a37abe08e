//! Everything the CLI prints: human tables and `--json` documents. Commands gather data and hand
//! it here; nothing else formats.

/// `println!` that does not panic when stdout is closed early (`tasker task list | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::output::stdout_failed(e);
        }
    }};
}

/// `print!` that does not panic when stdout is closed early.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            $crate::output::stdout_failed(e);
        }
    }};
}

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
    outln!("{text}");
    Ok(())
}

/// A reader that went away (a closed pipe) wants no more output: stop quietly, as `cat` does.
/// Any other failure to write is an error worth an exit code.
pub fn stdout_failed(error: std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to stdout: {error}");
    std::process::exit(1);
}

/// JSON on one line, for metadata columns.
pub fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    }
}
