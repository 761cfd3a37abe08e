//! How a failed attempt becomes a stored outcome: retry now, later, or never.

use crate::config::EngineConfig;
use serde_json::json;
use std::time::Duration;
use tasker_model::backoff::{DEFAULT_MAX_RETRY_AFTER, attempt_in_set, retry_eligible};
use tasker_model::{RetryPolicy, Timestamp};
use tasker_store::OutcomeKind;

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// The handler said so.
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    Permanent {
        message: String,
    },
    /// The handler ran past the step's `timeout_ms`.
    Timeout {
        limit: Duration,
    },
    /// The handler panicked.
    Panic {
        message: String,
    },
    /// The owner of the lease stopped renewing it (it died or lost the database).
    LeaseExpired {
        owner: String,
    },
}

impl Failure {
    fn describe(&self) -> (String, &'static str, bool, Option<Duration>) {
        match self {
            Failure::Retryable {
                message,
                retry_after,
            } => (message.clone(), "handler", true, *retry_after),
            Failure::Permanent { message } => (message.clone(), "permanent", false, None),
            Failure::Timeout { limit } => (
                format!("timed out after {} ms", limit.as_millis()),
                "timeout",
                true,
                None,
            ),
            Failure::Panic { message } => {
                (format!("handler panicked: {message}"), "panic", true, None)
            }
            Failure::LeaseExpired { owner } => (
                format!("lease expired (owner {owner})"),
                "lease_expired",
                true,
                None,
            ),
        }
    }
}

/// The step's side of the decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptFacts<'a> {
    pub(crate) attempt: i32,
    pub(crate) max_attempts: i32,
    pub(crate) retryable: bool,
    /// The step's template policy: its `max_attempts` is the step's `retry_limit` (a task is
    /// pinned to its template version), which places `attempt` within its set of attempts.
    pub(crate) policy: &'a RetryPolicy,
}

impl AttemptFacts<'_> {
    /// The backoff's `n`: this attempt's rank in the current set, so that the backoff starts
    /// again from the first failure after `task retry`.
    fn failed_in_set(&self) -> u32 {
        let retry_limit = i32::try_from(self.policy.max_attempts).unwrap_or(i32::MAX);
        attempt_in_set(self.attempt, self.max_attempts, retry_limit)
    }
}

/// The engine's side of the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryRules {
    /// Retry at once (`EngineConfig::retry_backoff_disabled`).
    pub(crate) backoff_disabled: bool,
    /// The ceiling on a handler's retry-after (`EngineConfig::max_retry_after`).
    pub(crate) max_retry_after: Duration,
}

impl From<&EngineConfig> for RetryRules {
    fn from(config: &EngineConfig) -> Self {
        RetryRules {
            backoff_disabled: config.retry_backoff_disabled,
            max_retry_after: config.max_retry_after,
        }
    }
}

/// Only `backoff_disabled`, with the default ceiling on retry-after: callers that have the
/// engine's configuration pass it instead.
impl From<bool> for RetryRules {
    fn from(backoff_disabled: bool) -> Self {
        RetryRules {
            backoff_disabled,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

/// A failed attempt: when a retry is allowed, it is due after the policy's backoff (or the
/// handler's retry-after, up to `rules.max_retry_after`); the chosen wait goes into the
/// transition's metadata.
pub(crate) fn failed(
    failure: &Failure,
    facts: AttemptFacts<'_>,
    now: Timestamp,
    rules: impl Into<RetryRules>,
) -> OutcomeKind {
    let rules = rules.into();
    let (error, kind, retryable_failure, retry_after) = failure.describe();
    let backoff_request_seconds =
        retry_after.map(|d| i64::try_from(d.as_millis().div_ceil(1000)).unwrap_or(i64::MAX));
    let retry =
        retryable_failure && retry_eligible(facts.attempt, facts.max_attempts, facts.retryable);
    if !retry {
        return OutcomeKind::Failed {
            error,
            retry_at: None,
            backoff_request_seconds,
            metadata: json!({ "failure": kind }),
        };
    }
    let delay = facts.policy.next_delay(
        facts.failed_in_set(),
        retry_after,
        rules.max_retry_after,
        rules.backoff_disabled,
        &mut rand::rng(),
    );
    let wait = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    OutcomeKind::Failed {
        error,
        retry_at: Some(now.checked_add_signed(wait).unwrap_or(now)),
        backoff_request_seconds,
        metadata: json!({ "failure": kind, "backoff_ms": delay.as_millis() as u64 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EngineConfig;
    use chrono::TimeZone;
    use tasker_model::Backoff;

    fn now() -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap()
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retryable: true,
            max_attempts: 3,
            backoff: Backoff::Exponential {
                base_ms: 1_000,
                multiplier: 2.0,
                max_ms: 30_000,
                jitter: false,
            },
        }
    }

    fn facts(attempt: i32, retryable: bool, policy: &RetryPolicy) -> AttemptFacts<'_> {
        AttemptFacts {
            attempt,
            max_attempts: 3,
            retryable,
            policy,
        }
    }

    fn retry_at(kind: &OutcomeKind) -> Option<Timestamp> {
        match kind {
            OutcomeKind::Failed { retry_at, .. } => *retry_at,
            OutcomeKind::Succeeded { .. } => panic!("not a failure"),
        }
    }

    #[test]
    fn retryable_failures_wait_for_the_backoff_while_attempts_remain() {
        let p = policy();
        let timeout = Failure::Timeout {
            limit: Duration::from_millis(5),
        };
        let out = failed(&timeout, facts(2, true, &p), now(), false);
        assert_eq!(retry_at(&out), Some(now() + chrono::Duration::seconds(2)));
        let OutcomeKind::Failed {
            metadata, error, ..
        } = &out
        else {
            unreachable!()
        };
        assert_eq!(metadata, &json!({"failure": "timeout", "backoff_ms": 2000}));
        assert_eq!(error, "timed out after 5 ms");
        assert_eq!(
            retry_at(&failed(&timeout, facts(3, true, &p), now(), false)),
            None
        );
        assert_eq!(
            retry_at(&failed(&timeout, facts(1, false, &p), now(), false)),
            None
        );
    }

    #[test]
    fn permanent_failures_never_retry_and_retry_after_is_kept_in_seconds() {
        let p = policy();
        let permanent = Failure::Permanent {
            message: "no".into(),
        };
        assert_eq!(
            retry_at(&failed(&permanent, facts(1, true, &p), now(), false)),
            None
        );
        let later = Failure::Retryable {
            message: "busy".into(),
            retry_after: Some(Duration::from_millis(1_500)),
        };
        let out = failed(&later, facts(1, true, &p), now(), false);
        let OutcomeKind::Failed {
            retry_at,
            backoff_request_seconds,
            ..
        } = out
        else {
            unreachable!()
        };
        assert_eq!(
            retry_at,
            Some(now() + chrono::Duration::milliseconds(1_500))
        );
        assert_eq!(backoff_request_seconds, Some(2));
    }

    fn waits_for(out: &OutcomeKind) -> chrono::Duration {
        retry_at(out).expect("a retry") - now()
    }

    #[test]
    fn a_requested_retry_after_wins_over_max_ms_up_to_the_ceiling() {
        let p = policy();
        let asking = |secs| Failure::Retryable {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        // The backoff caps at 30 s; a 429 asking for 60 s is retried after 60 s.
        let out = failed(&asking(60), facts(1, true, &p), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::seconds(60));
        // The default ceiling is one hour.
        let out = failed(&asking(7_200), facts(1, true, &p), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::hours(1));
        // The engine's setting overrides it.
        let config = EngineConfig {
            max_retry_after: Duration::from_secs(600),
            ..EngineConfig::default()
        };
        let out = failed(&asking(7_200), facts(1, true, &p), now(), &config);
        assert_eq!(waits_for(&out), chrono::Duration::minutes(10));
        let OutcomeKind::Failed {
            backoff_request_seconds,
            ..
        } = out
        else {
            unreachable!()
        };
        assert_eq!(backoff_request_seconds, Some(7_200));
    }

    #[test]
    fn after_task_retry_the_backoff_starts_again_from_the_first_failure() {
        let p = policy();
        let boom = Failure::Panic {
            message: "boom".into(),
        };
        let retried = |attempt, max_attempts| AttemptFacts {
            attempt,
            max_attempts,
            retryable: true,
            policy: &p,
        };
        // 3 attempts failed, `task retry` gave 3 more (max_attempts 6): the 4th attempt is the
        // first of its set and waits 1 s, not 8 s; the 5th waits 2 s.
        let out = failed(&boom, retried(4, 6), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::seconds(1));
        let out = failed(&boom, retried(5, 6), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::seconds(2));
        // Failed for good at its first attempt (max_attempts 1), then retried (max_attempts 4).
        let out = failed(&boom, retried(2, 4), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::seconds(1));
        // Never retried: the attempt number.
        let out = failed(&boom, retried(2, 3), now(), false);
        assert_eq!(waits_for(&out), chrono::Duration::seconds(2));
    }

    #[test]
    fn disabled_backoff_retries_at_once() {
        let p = policy();
        let panic = Failure::Panic {
            message: "boom".into(),
        };
        assert_eq!(
            retry_at(&failed(&panic, facts(1, true, &p), now(), true)),
            Some(now())
        );
    }
}
