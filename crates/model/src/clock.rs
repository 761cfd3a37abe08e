//! Injected time. The engine never reads the system clock directly, so tests move time instead
//! of sleeping. Backends receive `now` as a parameter and never call the database's `now()`.

use crate::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the engine reads the time. Every timestamp it writes (creation, claims, leases,
/// retry times) comes from its clock, so replacing the clock moves all of them together.
///
/// ```
/// use std::sync::Arc;
/// use tasker_model::{Clock, ManualClock, SystemClock};
///
/// // What an engine configuration holds: any clock, shared.
/// let clock: Arc<dyn Clock> = Arc::new(SystemClock);
/// assert!(clock.follows_real_time());
///
/// let start = "2026-01-01T00:00:00Z".parse().unwrap();
/// let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start));
/// assert_eq!(clock.now(), start);
/// assert!(!clock.follows_real_time());
/// ```
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, in UTC.
    fn now(&self) -> Timestamp;

    /// Whether this clock follows real time, so that comparing it with the database's clock
    /// means something. A [`ManualClock`] does not: tests move it at will, and the
    /// orchestrator's clock-skew check leaves it alone.
    fn follows_real_time(&self) -> bool {
        true
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// A clock that only moves when told to, for tests: a retry's backoff or a lease's expiry
/// passes when the test advances the clock, not after a real wait. Clones share the same time,
/// so a test keeps a clone and moves the clock it gave the engine.
///
/// Moving it only changes what [`Clock::now`] answers; by itself it wakes nothing that is
/// waiting for time to pass.
///
/// ```
/// use std::time::Duration;
/// use tasker_model::{Clock, ManualClock};
///
/// let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
/// let engines_copy = clock.clone();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(engines_copy.now().to_rfc3339(), "2026-01-01T00:01:30+00:00");
///
/// clock.set("2026-06-01T12:00:00Z".parse().unwrap());
/// assert_eq!(engines_copy.now().to_rfc3339(), "2026-06-01T12:00:00+00:00");
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock that reads `start` until it is moved.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the time forward by `by`, for this clock and all its clones.
    ///
    /// # Panics
    ///
    /// When the new time is beyond what a [`Timestamp`] can hold (around the year 262,000).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }

    /// Sets the time to `to`, for this clock and all its clones. It may move backwards.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn follows_real_time(&self) -> bool {
        false
    }
}

/// The wall clock shifted by a fixed offset: a machine whose clock is wrong, for tests of what
/// clock skew does (and of the check that refuses to run with too much of it).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    /// Added to the wall clock: positive runs ahead of real time, negative behind.
    pub offset: chrono::Duration,
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now() + self.offset
    }
}
