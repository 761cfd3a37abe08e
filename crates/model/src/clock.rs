//! Injected time. The engine never reads the system clock directly, so tests move time instead
//! of sleeping. Backends receive `now` as a parameter and never call the database's `now()`.

use crate::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub trait Clock: Send + Sync + std::fmt::Debug {
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

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }

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
    pub offset: chrono::Duration,
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now() + self.offset
    }
}
