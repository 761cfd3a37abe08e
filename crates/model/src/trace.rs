//! W3C trace context: the `traceparent` a task may be created with
//! (<https://www.w3.org/TR/trace-context/#traceparent-header>), checked before it is stored so
//! that whatever reads it back (span parents, a `command` step's `TRACEPARENT`) can trust it.

/// Why a `traceparent` was refused. The messages name the part at fault, never echo the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTraceparent {
    /// Not 55 characters long; holds the length found, in bytes.
    #[error(
        "traceparent must be 55 characters, 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>; got {0}"
    )]
    Length(usize),
    /// Holds a character outside ASCII.
    #[error("traceparent must hold only lowercase hex digits (0-9, a-f) and '-'")]
    NotAscii,
    /// A `-` is missing between version, trace id, parent id and flags.
    #[error("traceparent must separate version, trace id, parent id and flags with '-'")]
    Separators,
    /// The version is not `00`, the only version this check knows.
    #[error("traceparent version must be 00")]
    Version,
    /// The named part (`trace id`, `parent id` or `flags`) holds something other than
    /// lowercase hex digits.
    #[error("traceparent {0} must be lowercase hex digits (0-9, a-f)")]
    NotHex(&'static str),
    /// The named part (`trace id` or `parent id`) is all zeros, which W3C declares invalid.
    #[error("traceparent {0} must not be all zeros")]
    AllZeros(&'static str),
}

/// Checks a version-00 `traceparent`: `00-` + 32 lowercase hex digits (the trace id, not all
/// zeros) + `-` + 16 (the parent id, not all zeros) + `-` + 2 (the flags). Any flags are
/// accepted. Checks run in a fixed order (ASCII, length, separators, version, then each part),
/// and the first that fails is reported.
///
/// ```
/// use tasker_model::trace::{InvalidTraceparent, check_traceparent};
///
/// assert_eq!(check_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Ok(()));
/// assert_eq!(
///     check_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
///     Err(InvalidTraceparent::NotHex("trace id")),
/// );
/// assert_eq!(check_traceparent("00-abc"), Err(InvalidTraceparent::Length(6)));
/// ```
pub fn check_traceparent(value: &str) -> Result<(), InvalidTraceparent> {
    if !value.is_ascii() {
        return Err(InvalidTraceparent::NotAscii);
    }
    let bytes = value.as_bytes();
    if bytes.len() != 55 {
        return Err(InvalidTraceparent::Length(bytes.len()));
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return Err(InvalidTraceparent::Separators);
    }
    let lower_hex = |part: &[u8]| part.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if &bytes[..2] != b"00" {
        return Err(InvalidTraceparent::Version);
    }
    for (what, part, nonzero) in [
        ("trace id", &bytes[3..35], true),
        ("parent id", &bytes[36..52], true),
        ("flags", &bytes[53..], false),
    ] {
        if !lower_hex(part) {
            return Err(InvalidTraceparent::NotHex(what));
        }
        if nonzero && part.iter().all(|&b| b == b'0') {
            return Err(InvalidTraceparent::AllZeros(what));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{InvalidTraceparent as E, check_traceparent};

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn with(at: usize, text: &str) -> String {
        let mut s = VALID.to_owned();
        s.replace_range(at..at + text.len(), text);
        s
    }

    #[test]
    fn accepts_the_w3c_example_and_any_flags() {
        assert_eq!(check_traceparent(VALID), Ok(()));
        assert_eq!(check_traceparent(&with(53, "00")), Ok(()));
        assert_eq!(check_traceparent(&with(53, "ff")), Ok(()));
    }

    #[test]
    fn refuses_each_kind_of_bad_value() {
        let cases: Vec<(String, E)> = vec![
            (String::new(), E::Length(0)),
            (format!("{VALID}-"), E::Length(56)),
            (VALID[..54].to_owned(), E::Length(54)),
            (with(10, "é"), E::NotAscii),
            (format!("{VALID}\n"), E::Length(56)),
            (VALID.replace('-', "_"), E::Separators),
            (with(0, "01"), E::Version),
            (with(0, "ff"), E::Version),
            (with(3, "4B"), E::NotHex("trace id")),
            (with(3, "g"), E::NotHex("trace id")),
            (with(3, &"0".repeat(32)), E::AllZeros("trace id")),
            (with(36, "00F0"), E::NotHex("parent id")),
            (with(36, &"0".repeat(16)), E::AllZeros("parent id")),
            (with(53, "0x"), E::NotHex("flags")),
            (with(53, "A1"), E::NotHex("flags")),
        ];
        for (value, expected) in cases {
            assert_eq!(check_traceparent(&value), Err(expected), "{value:?}");
        }
    }

    #[test]
    fn messages_name_the_part_at_fault() {
        let message = |v: &str| check_traceparent(v).unwrap_err().to_string();
        assert_eq!(
            message(&with(3, &"0".repeat(32))),
            "traceparent trace id must not be all zeros"
        );
        assert_eq!(
            message(&with(53, "zz")),
            "traceparent flags must be lowercase hex digits (0-9, a-f)"
        );
        assert!(message("00-abc").contains("got 6"), "{}", message("00-abc"));
    }
}
