//! Retry rules and backoff.
//!
//! The first attempt always runs. After a failure a step may run again while it is `retryable`
//! and `attempts < max_attempts`. The default backoff waits a random time in
//! `[base * multiplier^(n-1), base * multiplier^n]` after the n-th failure, capped at `max_ms`:
//! with the defaults (1 s, x2, 30 s cap) the first failure waits 1-2 s, the second 2-4 s, ...

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
pub const DEFAULT_BASE_MS: u64 = 1_000;
pub const DEFAULT_MULTIPLIER: f64 = 2.0;
pub const DEFAULT_MAX_MS: u64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backoff {
    /// Retry as soon as the failure is recorded.
    None,
    Exponential {
        base_ms: u64,
        multiplier: f64,
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
    /// The wait after the `failed_attempt`-th attempt failed (1-based).
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

    /// The ceiling on any wait, which also caps a handler's explicit retry-after.
    pub fn max_delay(&self) -> Option<Duration> {
        match *self {
            Backoff::None => None,
            Backoff::Exponential { max_ms, .. } => Some(Duration::from_millis(max_ms)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub retryable: bool,
    pub max_attempts: u32,
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
/// The first attempt always runs, whatever `retryable` says.
pub fn retry_eligible(attempts: i32, max_attempts: i32, retryable: bool) -> bool {
    attempts == 0 || (retryable && attempts < max_attempts)
}

impl RetryPolicy {
    /// How long to wait before the next attempt, given that attempt `failed_attempt` just failed.
    /// A handler's explicit `retry_after` wins over the computed backoff, capped at `max_ms`.
    /// `backoff_disabled` (a test-environment switch) makes every retry eligible at once.
    pub fn next_delay<R: Rng + ?Sized>(
        &self,
        failed_attempt: u32,
        retry_after: Option<Duration>,
        backoff_disabled: bool,
        rng: &mut R,
    ) -> Duration {
        if backoff_disabled {
            return Duration::ZERO;
        }
        match retry_after {
            Some(wait) => match self.backoff.max_delay() {
                Some(cap) => wait.min(cap),
                None => wait,
            },
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
    fn retry_after_wins_but_is_capped() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default();
        let wait = policy.next_delay(1, Some(Duration::from_millis(250)), false, &mut rng);
        assert_eq!(ms(wait), 250);
        let wait = policy.next_delay(1, Some(Duration::from_secs(120)), false, &mut rng);
        assert_eq!(ms(wait), 30_000);
    }

    #[test]
    fn disabled_backoff_retries_at_once() {
        let mut rng = StdRng::seed_from_u64(1);
        let policy = RetryPolicy::default();
        let wait = policy.next_delay(2, Some(Duration::from_secs(5)), true, &mut rng);
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
