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
pub mod token;

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

/// Text from templates, contexts or the database, made safe for a terminal: control characters
/// (C0, DEL and C1, including newlines and ESC) are written as escapes (`\n`, `\t`, `\r`,
/// `\u{1b}`), so a step name cannot draw a fake table row or send terminal commands. Every
/// human printer passes such text through here (tables do it for every cell); `--json` output
/// is left exact.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || c == '\u{7f}';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// JSON on one line, for metadata columns.
pub fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        // JSON escapes C0 controls but not DEL or C1 (U+009B starts a terminal command).
        other => clean(&other.to_string()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("plain é"), "plain é");
        assert_eq!(
            clean("a\nb\tc\rd\u{1b}[31m\u{0}\u{7f}\u{9b}"),
            "a\\nb\\tc\\rd\\u{1b}[31m\\u{0}\\u{7f}\\u{9b}"
        );
    }
}
