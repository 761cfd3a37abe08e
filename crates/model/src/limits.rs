//! What every backend can store, checked before anything is written, so that both backends
//! accept and refuse the same values and a refusal names what is wrong and where.

use serde_json::Value;

/// The largest step result (serialized JSON) stored by default: 1 MiB.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 1024 * 1024;

/// The largest task context (serialized JSON) accepted by default: 1 MiB.
pub const DEFAULT_MAX_CONTEXT_BYTES: usize = 1024 * 1024;

/// The most a `command` step may write to stdout, and separately to stderr, by default: 4 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// The largest template file (YAML text) that is parsed at all: 4 MiB. Checked before parsing.
pub const MAX_TEMPLATE_BYTES: usize = 4 * 1024 * 1024;
/// YAML aliases (`*name`) may replay at most this many parser events in one template, so a
/// few hundred bytes of nested aliases ("billion laughs") cannot make the parser build
/// millions of nodes.
pub const MAX_YAML_ALIAS_EVENTS: usize = 20_000;
/// The most steps a template may have: room for a fan-out of 10,000 steps between a root and
/// a join, and more.
pub const MAX_STEPS: usize = 20_000;
/// Namespaces and template names: at most this many characters of `[A-Za-z0-9_.-]`.
pub const MAX_IDENTIFIER_CHARS: usize = 128;
/// Template versions: at most this many characters, each numeric part at most `i64::MAX`
/// (both backends store the parts as 64-bit integers).
pub const MAX_VERSION_CHARS: usize = 64;
/// Step names and handler names.
pub const MAX_STEP_NAME_CHARS: usize = 128;
/// Template and step descriptions.
pub const MAX_DESCRIPTION_CHARS: usize = 4_096;
/// Entries in one step's `depends_on`: a join may wait for a fan-out of 10,000 steps.
pub const MAX_DEPENDS_ON: usize = 10_000;
/// The ceiling on `max_attempts`.
pub const MAX_ATTEMPTS: u32 = 1_000;
/// The ceiling on `base_ms` and `max_ms` of a backoff: one day.
pub const MAX_BACKOFF_MS: u64 = 24 * 3_600 * 1_000;
/// The ceiling on a backoff's `multiplier`.
pub const MAX_MULTIPLIER: f64 = 100.0;
/// The ceiling on a step's `timeout_ms` (and the `command` and `sleep` handlers' own
/// `timeout_ms` / `ms`): seven days.
pub const MAX_TIMEOUT_MS: u64 = 7 * 24 * 3_600 * 1_000;
/// Idempotency keys: 1 to 255 characters, no NUL.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// Checks a caller's idempotency key: not empty, at most [`MAX_IDEMPOTENCY_KEY_CHARS`]
/// characters, no NUL character. The error says which rule it breaks.
pub fn check_idempotency_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the idempotency key must not be empty".to_owned());
    }
    let chars = key.chars().count();
    if chars > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(format!(
            "the idempotency key is {chars} characters long, more than the limit of {MAX_IDEMPOTENCY_KEY_CHARS}"
        ));
    }
    if key.contains('\0') {
        return Err("the idempotency key contains a NUL character (\\u0000)".to_owned());
    }
    Ok(())
}

/// Why a JSON value cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnstorableJson {
    /// PostgreSQL's `jsonb` and `text` refuse the NUL character (`\u0000`); SQLite would keep
    /// it, so it is refused everywhere.
    #[error("{what} contains a NUL character (\\u0000) at {pointer}")]
    Nul {
        /// What was checked, as the caller named it (e.g. "the step result").
        what: &'static str,
        /// The JSON pointer of the first string or key holding the NUL (see [`find_nul`]).
        pointer: String,
    },
    /// The value serializes to more than the limit.
    #[error("{what} is {size} bytes of JSON, more than the limit of {limit} bytes")]
    TooLarge {
        /// What was checked, as the caller named it (e.g. "the task context").
        what: &'static str,
        /// Bytes counted, more than `limit`. Counting stops a little past the limit, so this
        /// may be less than the value's full serialized size.
        size: usize,
        /// The limit, in bytes of serialized JSON.
        limit: usize,
    },
}

/// Checks that `value` (named `what` in the error, e.g. "the step result") can be stored:
/// no NUL character in any string or key, at most `limit` bytes once serialized (compact
/// JSON, as `serde_json::to_string` writes it). A NUL is reported before the size.
///
/// ```
/// use tasker_model::limits::{UnstorableJson, check_storable_json};
/// use serde_json::json;
///
/// assert!(check_storable_json("the step result", &json!({ "ok": true }), 1024).is_ok());
///
/// let err = check_storable_json("the step result", &json!({ "note": "a\u{0}b" }), 1024).unwrap_err();
/// assert_eq!(err.to_string(), "the step result contains a NUL character (\\u0000) at /note");
///
/// let err = check_storable_json("the step result", &json!("x".repeat(100)), 10).unwrap_err();
/// assert!(matches!(err, UnstorableJson::TooLarge { limit: 10, .. }));
/// ```
pub fn check_storable_json(
    what: &'static str,
    value: &Value,
    limit: usize,
) -> Result<(), UnstorableJson> {
    if let Some(pointer) = find_nul(value) {
        return Err(UnstorableJson::Nul { what, pointer });
    }
    let size = serialized_len(value, limit);
    if size > limit {
        return Err(UnstorableJson::TooLarge { what, size, limit });
    }
    Ok(())
}

/// Replaces NUL characters in a text that is about to be stored (an error message) with
/// U+FFFD (`�`); borrows the text unchanged when it has none.
pub fn storable_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The JSON pointer (RFC 6901) of the first string or key that holds a NUL character (`/`
/// for a top-level string; a NUL in the pointer's own keys is written `\u0000`).
pub fn find_nul(value: &Value) -> Option<String> {
    fn escape(token: &str) -> String {
        token.replace('~', "~0").replace('/', "~1")
    }
    fn walk(value: &Value) -> Option<String> {
        match value {
            Value::String(s) if s.contains('\0') => Some(String::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item).map(|rest| format!("/{i}{rest}"))),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    return Some(format!("/{}", escape(&key.replace('\0', "\\u0000"))));
                }
                walk(item).map(|rest| format!("/{}{rest}", escape(key)))
            }),
            _ => None,
        }
    }
    walk(value).map(|p| if p.is_empty() { "/".to_owned() } else { p })
}

/// The serialized size of `value`, counted without building the text; stops counting a little
/// past `limit` (the answer is then only known to exceed it).
fn serialized_len(value: &Value, limit: usize) -> usize {
    struct Counter {
        bytes: usize,
        stop_after: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes += buf.len();
            if self.bytes > self.stop_after {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter {
        bytes: 0,
        stop_after: limit,
    };
    let _ = serde_json::to_writer(&mut counter, value);
    counter.bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_characters_are_found_with_their_pointer() {
        assert_eq!(
            find_nul(&json!({"a": [1, {"b/c": "x\u{0}y"}]})),
            Some("/a/1/b~1c".into())
        );
        assert_eq!(find_nul(&json!("\u{0}")), Some("/".into()));
        assert_eq!(find_nul(&json!({"ok": "fine", "n": 1})), None);
        let err = check_storable_json("the step result", &json!({"k\u{0}": 1}), 100).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the step result contains a NUL character (\\u0000) at /k\\u0000"
        );
    }

    #[test]
    fn sizes_are_counted_against_the_limit() {
        let value = json!({"text": "x".repeat(100)});
        assert!(check_storable_json("the step result", &value, 200).is_ok());
        let err = check_storable_json("the step result", &value, 50).unwrap_err();
        assert!(
            matches!(err, UnstorableJson::TooLarge { limit: 50, .. }),
            "{err}"
        );
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(check_idempotency_key("order-1").is_ok());
        assert!(check_idempotency_key(&"k".repeat(255)).is_ok());
        assert!(
            check_idempotency_key("")
                .unwrap_err()
                .contains("must not be empty")
        );
        assert!(
            check_idempotency_key(&"k".repeat(256))
                .unwrap_err()
                .contains("256 characters long, more than the limit of 255")
        );
        assert!(
            check_idempotency_key("a\u{0}b")
                .unwrap_err()
                .contains("NUL")
        );
    }

    #[test]
    fn error_texts_lose_their_nul_characters() {
        assert_eq!(storable_text("a\u{0}b"), "a\u{FFFD}b");
        assert!(matches!(storable_text("ab"), std::borrow::Cow::Borrowed(_)));
    }
}
