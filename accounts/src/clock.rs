//! The clock port: every "now" in the backend comes from here, so tests can fix it.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A source of the current instant (UTC).
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told: for tests and dry runs.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(now))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// The system clock moved to start at a chosen instant, then running at normal speed: for
/// demos and end-to-end tests that need a particular local time of day.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(chrono::Duration);

impl OffsetClock {
    /// A clock that reads `start` now and runs forward from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        OffsetClock(start - Utc::now())
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}
