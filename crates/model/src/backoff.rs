//! Retry rules and backoff.
//!
//! The first attempt always runs. After a failure a step may run again while it is `retryable`
//! and `attempts < max_attempts`. The default backoff waits a random time in
//! `[base * multiplier^(n-1), base * multiplier^n]` after the n-th failure, capped at `max_ms`:
//! with the defaults (1 s, x2, 30 s cap) the first failure waits 1-2 s, the second 2-4 s, ...
//! `n` counts the failures of the step's current set of attempts: after `task retry` the
//! backoff starts again from the first failure ([`attempt_in_set`]).
//!
//! A handler that asks for a retry-after gets exactly that wait, whatever the backoff's `max_ms`,
//! up to a separate ceiling ([`DEFAULT_MAX_RETRY_AFTER`], one hour, unless the engine's
//! configuration says otherwise).

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Attempts a step gets in all, counting the first, when neither the step nor the template's
/// `defaults` say otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The default exponential backoff's first wait, in milliseconds: after the first failure the
/// wait lies in `[1 s, 2 s]`.
pub const DEFAULT_BASE_MS: u64 = 1_000;
/// The default factor by which each wait grows over the one before.
pub const DEFAULT_MULTIPLIER: f64 = 2.0;
/// The default ceiling on a computed wait, in milliseconds (30 s). When a template sets a
/// larger `base_ms` and no `max_ms`, the ceiling is `base_ms` instead.
pub const DEFAULT_MAX_MS: u64 = 30_000;
/// The longest wait a handler's retry-after may ask for, unless configured otherwise.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// How long a failed step waits before its next attempt. Serialized with a `kind` tag:
/// `{"kind": "none"}` or `{"kind": "exponential", "base_ms": 1000, ...}`.
///
/// The default is exponential from 1 s, doubling, capped at 30 s, with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backoff {
    /// Retry as soon as the failure is recorded.
    None,
    /// Waits that grow by `multiplier` from `base_ms` up to `max_ms`: after the n-th failure
    /// the wait lies in `[base_ms * multiplier^(n-1), base_ms * multiplier^n]`, each bound
    /// capped at `max_ms`.
    Exponential {
        /// The lower bound of the first wait, in milliseconds.
        base_ms: u64,
        /// The factor by which each window grows over the one before (at least 1 in a
        /// validated template).
        multiplier: f64,
        /// The ceiling on any computed wait, in milliseconds.
        max_ms: u64,
        /// Spread the wait uniformly over `[lower, upper]` of the attempt's window; without
        /// jitter the wait is the lower bound.
        jitter: bool,
    },
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::Exponential {
            base_ms: DEFAULT_BASE_MS,
            multiplier: DEFAULT_MULTIPLIER,
            max_ms: DEFAULT_MAX_MS,
            jitter: true,
        }
    }
}

impl Backoff {
    /// The wait after the `failed_attempt`-th attempt failed (1-based; 0 counts as 1),
    /// rounded to whole milliseconds. [`Backoff::None`] always waits zero; an exponential
    /// backoff never waits more than its `max_ms`. `rng` is only drawn from when jitter applies.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tasker_model::Backoff;
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let steady = Backoff::Exponential { base_ms: 100, multiplier: 3.0, max_ms: 1_000, jitter: false };
    /// let waits: Vec<Duration> = (1..=4).map(|n| steady.delay(n, &mut rng)).collect();
    /// assert_eq!(waits, [100, 300, 900, 1_000].map(Duration::from_millis));
    ///
    /// // With jitter, the wait after the 2nd failure lies anywhere in [2 s, 4 s].
    /// let wait = Backoff::default().delay(2, &mut rng);
    /// assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(4));
    ///
    /// assert_eq!(Backoff::None.delay(5, &mut rng), Duration::ZERO);
    /// ```
    pub fn delay<R: Rng + ?Sized>(&self, failed_attempt: u32, rng: &mut R) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Exponential {
                base_ms,
                multiplier,
                max_ms,
                jitter,
            } => {
                let n = failed_attempt.max(1) as i32;
                let cap = max_ms as f64;
                let lower = (base_ms as f64 * multiplier.powi(n - 1)).min(cap);
                let upper = (base_ms as f64 * multiplier.powi(n)).min(cap);
                let ms = if jitter && upper > lower {
                    rng.random_range(lower..=upper)
                } else {
                    lower
                };
                Duration::from_millis(ms.round() as u64)
            }
        }
    }

    /// The ceiling on any computed wait (a handler's retry-after is not bound by it); `None`
    /// for [`Backoff::None`], whose waits are all zero.
    pub fn max_delay(&self) -> Option<Duration> {
        match *self {
            Backoff::None => None,
            Backoff::Exponential { max_ms, .. } => Some(Duration::from_millis(max_ms)),
        }
    }
}

/// A step's retry rules, resolved: the step's `retry` settings over the template's
/// `defaults.retry` over the engine's defaults (retryable, 3 attempts, exponential backoff
/// from 1 s, doubling, capped at 30 s, with jitter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetryPolicy {
    /// Whether a failed attempt may be retried at all. `false`: the first failure is final.
    pub retryable: bool,
    /// Attempts in all, counting the first (at least 1 in a validated template).
    pub max_attempts: u32,
    /// The wait between a failure and the next attempt.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retryable: true,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: Backoff::default(),
        }
    }
}

/// May a step that has made `attempts` attempts run again?
/// The first attempt always runs, whatever `retryable` says; after that the step needs
/// `retryable` and `attempts < max_attempts`.
pub fn retry_eligible(attempts: i32, max_attempts: i32, retryable: bool) -> bool {
    attempts == 0 || (retryable && attempts < max_attempts)
}

/// The rank (1-based) of `attempt` within the step's current set of attempts, the `n` of the
/// backoff. A step starts with `retry_limit` attempts; each `task retry` gives a step that failed
/// for good `max_attempts = attempts + retry_limit`, so its current set started after attempt
/// `max_attempts - retry_limit`. When the facts do not fit (a rank below 1), the attempt number
/// itself is used. The answer is at least 1.
///
/// ```
/// use tasker_model::backoff::attempt_in_set;
///
/// // A step with 3 attempts, never retried by hand: the rank is the attempt number.
/// assert_eq!(attempt_in_set(2, 3, 3), 2);
/// // It failed 3 times, then `task retry` raised max_attempts to 6: attempt 4 is the first
/// // of the new set, so the backoff starts from its shortest wait again.
/// assert_eq!(attempt_in_set(4, 6, 3), 1);
/// ```
pub fn attempt_in_set(attempt: i32, max_attempts: i32, retry_limit: i32) -> u32 {
    let in_set = i64::from(attempt) - (i64::from(max_attempts) - i64::from(retry_limit));
    let rank = if in_set >= 1 {
        in_set
    } else {
        i64::from(attempt)
    };
    u32::try_from(rank.max(1)).unwrap_or(u32::MAX)
}

impl RetryPolicy {
    /// How long to wait before the next attempt, given that the `failed_attempt`-th attempt of
    /// the current set just failed. A handler's explicit `retry_after` wins over the computed
    /// backoff and its `max_ms`; it is only capped at `max_retry_after`.
    /// `backoff_disabled` (a test-environment switch) makes every retry eligible at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tasker_model::backoff::{DEFAULT_MAX_RETRY_AFTER, retry_eligible};
    /// use tasker_model::{Backoff, RetryPolicy};
    /// use rand::SeedableRng;
    ///
    /// let policy = RetryPolicy { backoff: Backoff::None, ..RetryPolicy::default() };
    /// assert_eq!(policy.max_attempts, 3);
    ///
    /// // The first attempt always runs; then the policy's budget decides.
    /// assert!(retry_eligible(0, 3, false));
    /// assert!(retry_eligible(2, 3, policy.retryable));
    /// assert!(!retry_eligible(3, 3, policy.retryable));
    ///
    /// // A handler's retry-after wins over the backoff, up to the ceiling.
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let asked = Some(Duration::from_secs(60));
    /// let wait = policy.next_delay(1, asked, DEFAULT_MAX_RETRY_AFTER, false, &mut rng);
    /// assert_eq!(wait, Duration::from_secs(60));
    /// // With backoff disabled (a test switch), every retry is due at once.
    /// assert_eq!(policy.next_delay(1, asked, DEFAULT_MAX_RETRY_AFTER, true, &mut rng), Duration::ZERO);
    /// ```
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        failed_attempt: u32,
        retry_after: Option<Duration>,
        max_retry_after: Duration,
        backoff_disabled: bool,
        rng: &mut R,
    ) -> Duration {
        if backoff_disabled {
            return Duration::ZERO;
        }
        match retry_after {
            Some(wait) => wait.min(max_retry_after),
            None => self.backoff.delay(failed_attempt, rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    #[test]
    fn default_backoff_doubles_within_its_window_and_caps_at_thirty_seconds() {
        let mut rng = StdRng::seed_from_u64(7);
        let backoff = Backoff::default();
        let windows = [
            (1, 1_000, 2_000),
            (2, 2_000, 4_000),
            (3, 4_000, 8_000),
            (5, 16_000, 30_000),
            (9, 30_000, 30_000),
        ];
        for (attempt, lo, hi) in windows {
            for _ in 0..200 {
                let d = ms(backoff.delay(attempt, &mut rng));
                assert!((lo..=hi).contains(&d), "attempt {attempt}: {d} ms");
            }
        }
    }

    #[test]
    fn jitter_actually_spreads_the_wait() {
        let mut rng = StdRng::seed_from_u64(1);
        let seen: std::collections::BTreeSet<u64> = (0..50)
            .map(|_| ms(Backoff::default().delay(1, &mut rng)))
            .collect();
        assert!(seen.len() > 10, "{seen:?}");
    }

    #[test]
    fn without_jitter_the_wait_is_the_lower_bound() {
        let mut rng = StdRng::seed_from_u64(1);
        let b = Backoff::Exponential {
            base_ms: 100,
            multiplier: 3.0,
            max_ms: 1_000,
            jitter: false,
        };
        let waits: Vec<u64> = (1..=4).map(|n| ms(b.delay(n, &mut rng))).collect();
        assert_eq!(waits, vec![100, 300, 900, 1_000]);
    }

    #[test]
    fn no_backoff_means_no_wait() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(Backoff::None.delay(4, &mut rng), Duration::ZERO);
    }

    #[test]
    fn retry_after_wins_over_the_backoff_cap_up_to_the_ceiling() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default();
        let hour = DEFAULT_MAX_RETRY_AFTER;
        let wait = policy.next_delay(1, Some(Duration::from_millis(250)), hour, false, &mut rng);
        assert_eq!(ms(wait), 250);
        // A 429 asking for a minute waits a minute, although the backoff caps at 30 s.
        let wait = policy.next_delay(1, Some(Duration::from_secs(60)), hour, false, &mut rng);
        assert_eq!(ms(wait), 60_000);
        let wait = policy.next_delay(1, Some(Duration::from_secs(7_200)), hour, false, &mut rng);
        assert_eq!(wait, hour);
        let ceiling = Duration::from_secs(10);
        let wait = policy.next_delay(1, Some(Duration::from_secs(60)), ceiling, false, &mut rng);
        assert_eq!(wait, ceiling);
        let none = RetryPolicy {
            backoff: Backoff::None,
            ..RetryPolicy::default()
        };
        let wait = none.next_delay(1, Some(Duration::from_secs(90)), hour, false, &mut rng);
        assert_eq!(ms(wait), 90_000);
    }

    #[test]
    fn the_backoff_counts_failures_within_the_current_set_of_attempts() {
        // Never retried: the attempt number itself.
        assert_eq!(attempt_in_set(1, 3, 3), 1);
        assert_eq!(attempt_in_set(3, 3, 3), 3);
        // Failed for good after 3 of 3, then `task retry`: max_attempts 6.
        assert_eq!(attempt_in_set(4, 6, 3), 1);
        assert_eq!(attempt_in_set(5, 6, 3), 2);
        // Failed for good at its first attempt (max_attempts became 1), then `task retry`.
        assert_eq!(attempt_in_set(2, 4, 3), 1);
        // Two `task retry`s.
        assert_eq!(attempt_in_set(7, 9, 3), 1);
        // Inconsistent facts (a policy that changed): fall back to the attempt number.
        assert_eq!(attempt_in_set(2, 9, 3), 2);
        assert_eq!(attempt_in_set(0, 3, 3), 1);
    }

    #[test]
    fn disabled_backoff_retries_at_once() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default();
        let wait = policy.next_delay(
            2,
            Some(Duration::from_secs(5)),
            DEFAULT_MAX_RETRY_AFTER,
            true,
            &mut rng,
        );
        assert_eq!(wait, Duration::ZERO);
    }

    #[test]
    fn first_attempt_always_runs_then_retryable_and_budget_decide() {
        assert!(retry_eligible(0, 3, false));
        assert!(retry_eligible(0, 0, false));
        assert!(retry_eligible(2, 3, true));
        assert!(!retry_eligible(3, 3, true));
        assert!(!retry_eligible(1, 3, false));
    }
}
