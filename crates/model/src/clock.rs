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

    /// Asks to be told each time this clock is moved by hand, so that whatever waits for a
    /// time (a retry's backoff) looks again at once instead of at its next poll. Returns
    /// whether this clock will call `listener`: a clock that only follows real time never jumps
    /// and returns `false` (the default). The engine listens to its clock when it is made.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    /// use tasker_model::{Clock, ManualClock, SystemClock};
    ///
    /// let moves = Arc::new(AtomicUsize::new(0));
    /// let counter = moves.clone();
    /// let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
    /// assert!(clock.listen(Box::new(move || {
    ///     counter.fetch_add(1, Ordering::Relaxed);
    ///     true // keep calling me
    /// })));
    /// clock.advance(Duration::from_secs(5));
    /// clock.set("2026-02-01T00:00:00Z".parse().unwrap());
    /// assert_eq!(moves.load(Ordering::Relaxed), 2);
    ///
    /// assert!(!SystemClock.listen(Box::new(|| true)));
    /// ```
    fn listen(&self, listener: ClockListener) -> bool {
        let _ = listener;
        false
    }
}

/// Called after a clock was moved by hand (see [`Clock::listen`]). It returns `false` once it
/// wants no more calls (what it would wake is gone), and the clock then forgets it. It runs on
/// the thread that moved the clock, so it must be quick and must not move the clock itself.
pub type ClockListener = Box<dyn Fn() -> bool + Send + Sync>;

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
/// Moving it wakes whoever [listens](Clock::listen): an engine made with this clock looks for
/// work at once, so a step whose retry time the clock just passed runs without waiting for the
/// orchestrator's next poll.
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
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
    listeners: Arc<Mutex<Vec<ClockListener>>>,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

impl ManualClock {
    /// A clock that reads `start` until it is moved.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
            listeners: Arc::default(),
        }
    }

    /// Tells the listeners the time moved; forgets those that want no more calls.
    fn moved(&self) {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|listener| listener());
    }

    /// Moves the time forward by `by`, for this clock and all its clones.
    ///
    /// # Panics
    ///
    /// When the new time is beyond what a [`Timestamp`] can hold (around the year 262,000).
    pub fn advance(&self, by: Duration) {
        {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        }
        self.moved();
    }

    /// Sets the time to `to`, for this clock and all its clones. It may move backwards.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
        self.moved();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn follows_real_time(&self) -> bool {
        false
    }

    fn listen(&self, listener: ClockListener) -> bool {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
        true
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_listener_that_wants_no_more_calls_is_forgotten() {
        let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        clock.listen(Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed) == 0
        }));
        // Clones share the listeners, as they share the time.
        let other = clock.clone();
        other.advance(Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }
}
