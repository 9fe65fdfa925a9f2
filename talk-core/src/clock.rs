//! Time, injected so that tests run on a manual clock and never sleep.

use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A timestamp as Talk keeps it: UTC, microsecond precision.
pub type Timestamp = DateTime<Utc>;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time. Talk truncates it to microseconds.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to. Every reading is also one microsecond
/// later than the one before, so that timestamps stay distinct without sleeping.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self { now: Mutex::new(start.trunc_subsecs(6)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(DateTime::UNIX_EPOCH + Duration::days(20_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += Duration::microseconds(1);
        *now
    }
}
