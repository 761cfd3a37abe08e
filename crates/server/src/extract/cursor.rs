//! The opaque cursor of keyset pagination: base64url of the last id of the page before.

use crate::problem::Problem;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tasker_model::TaskId;

/// Where the next page starts: after (below) this id, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub TaskId);

impl Cursor {
    /// The opaque text a response's `next_cursor` carries.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_be_bytes())
    }

    /// 400 naming the `cursor` parameter for anything this API did not hand out.
    pub fn decode(text: &str) -> Result<Cursor, Problem> {
        let bad = || {
            Problem::parameter(
                "cursor",
                "cursor is not one this API handed out; pass next_cursor from the previous page",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| bad())?;
        // Any eight bytes are some id: one below every task's gives an empty page.
        Ok(Cursor(TaskId::from_be_bytes(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_the_rest() {
        for id in [1, 42, i64::MAX] {
            assert_eq!(Cursor::decode(&Cursor(id).encode()), Ok(Cursor(id)));
        }
        // Any eight bytes are an id; one of no task gives an empty page.
        assert_eq!(Cursor::decode("AAAAAAAAAAA"), Ok(Cursor(0)));
        assert_eq!(Cursor::decode("__________8"), Ok(Cursor(-1)));
        // Whatever the documented pattern allows decodes (its last character carries four
        // bits and two zero bits).
        for last in "AEIMQUYcgkosw048".chars() {
            assert!(
                Cursor::decode(&format!("-_09azAZ-_{last}")).is_ok(),
                "{last}"
            );
        }
        for bad in [
            "",
            "abc",
            "!!!!",
            "AAAAAAAAAAB",
            "_____________",
            "AAAAAAAAAAE=",
        ] {
            let err = Cursor::decode(bad).unwrap_err();
            assert_eq!(err.parameter.as_deref(), Some("cursor"), "{bad:?}");
        }
    }
}
