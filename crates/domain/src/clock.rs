//! The clock is a parameter (STYLE 11): expiry and scheduling logic take `now` from a [`Clock`]
//! so tests can fix or advance time.

use time::OffsetDateTime;

/// Source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
