//! Lease tokens: `<attempt>:<owner>`, where the owner is `worker:<name>:<random>`, one per
//! claim request. Opaque to workers; to the server, exactly the fence the store checks
//! (owner and attempt), so that no table of tokens is needed.

use crate::error::{Error, Result};

/// The owner prefix of leases taken for HTTP workers.
pub(crate) const OWNER_PREFIX: &str = "worker:";

/// The longest token accepted (the owner is bounded by the worker name's limit).
pub const MAX_TOKEN_CHARS: usize = 256;

/// A parsed lease token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseToken {
    /// The attempt the lease is for.
    pub attempt: i32,
    /// The lease's owner (`worker:<name>:<random>`).
    pub owner: String,
}

impl LeaseToken {
    pub(crate) fn new(attempt: i32, owner: &str) -> LeaseToken {
        LeaseToken {
            attempt,
            owner: owner.to_owned(),
        }
    }

    /// The owner of a claim made for worker `name`: unique per claim request.
    pub(crate) fn owner_for(name: &str) -> String {
        let suffix: u64 = rand::random();
        format!("{OWNER_PREFIX}{name}:{suffix:016x}")
    }

    /// The worker name inside an owner made by [`LeaseToken::owner_for`].
    pub(crate) fn worker_name(&self) -> &str {
        let rest = &self.owner[OWNER_PREFIX.len()..];
        rest.rsplit_once(':').map_or(rest, |(name, _)| name)
    }

    /// Parses a token as handed out (`<attempt>:<owner>`); [`Error::InvalidLeaseToken`] says what
    /// is wrong.
    pub fn parse(text: &str) -> Result<LeaseToken> {
        let bad = |why: &str| Error::InvalidLeaseToken(why.to_owned());
        if text.chars().count() > MAX_TOKEN_CHARS {
            return Err(bad(&format!(
                "longer than {MAX_TOKEN_CHARS} characters; send the token a claim returned, unchanged"
            )));
        }
        let Some((attempt, owner)) = text.split_once(':') else {
            return Err(bad(
                "not a lease token; send the token a claim returned, unchanged",
            ));
        };
        let attempt = attempt
            .parse::<i32>()
            .ok()
            .filter(|&a| a > 0 && !attempt.starts_with('+'))
            .ok_or_else(|| bad("not a lease token (bad attempt); send it unchanged"))?;
        let Some(rest) = owner.strip_prefix(OWNER_PREFIX) else {
            return Err(bad(
                "not a lease token of a worker claim; send the token a claim returned, unchanged",
            ));
        };
        if !rest.contains(':') || rest.starts_with(':') {
            return Err(bad("not a lease token (bad owner); send it unchanged"));
        }
        Ok(LeaseToken::new(attempt, owner))
    }
}

impl std::fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.attempt, self.owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_name_their_worker() {
        let owner = LeaseToken::owner_for("billing-1:a");
        let token = LeaseToken::new(3, &owner).to_string();
        let parsed = LeaseToken::parse(&token).unwrap();
        assert_eq!(parsed.attempt, 3);
        assert_eq!(parsed.owner, owner);
        assert_eq!(parsed.worker_name(), "billing-1:a");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "abc",
            "0:worker:w:1",
            "-1:worker:w:1",
            "+1:worker:w:1",
            "1:host-1-abc",
            "1:worker:",
            "1:worker:nameonly",
            &format!("1:worker:w:{}", "x".repeat(300)),
        ] {
            assert!(
                matches!(LeaseToken::parse(bad), Err(Error::InvalidLeaseToken(_))),
                "{bad:?}"
            );
        }
    }
}
