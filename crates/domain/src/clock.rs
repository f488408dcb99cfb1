//! The clock is a parameter (docs/architecture.md, "Time"): expiry and scheduling logic take
//! `now` from a [`Clock`] so tests can fix or advance time. [`SystemClock`] is the real one;
//! [`FixedClock`] stands still until a test moves it.

use std::sync::Mutex;

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

/// A clock that only moves when told to: a test shares it (`Arc<FixedClock>`, one clone handed
/// to the service as `Arc<dyn Clock>`) and advances it instead of sleeping, so time-dependent
/// behaviour (expiry, backoff, scheduling) is tested without waiting and without flakiness.
#[derive(Debug)]
pub struct FixedClock {
    // A mutex rather than an atomic: `OffsetDateTime` is not a primitive, and contention is nil.
    now: Mutex<OffsetDateTime>,
}

impl FixedClock {
    /// A clock standing at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        FixedClock { now: Mutex::new(at) }
    }

    /// A clock standing at the current wall-clock time, whole seconds (so that stored
    /// timestamps round-trip through either database engine unchanged).
    pub fn starting_now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::new(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Moves the clock to `at` (backwards too: a test may simulate a clock step).
    pub fn set(&self, at: OffsetDateTime) {
        *self.lock() = at;
    }

    /// Moves the clock forward by `by` and returns the new time.
    pub fn advance(&self, by: time::Duration) -> OffsetDateTime {
        let mut now = self.lock();
        *now += by;
        *now
    }

    /// [`advance`](Self::advance) by a `std` duration (what tests would otherwise `sleep`).
    pub fn advance_std(&self, by: std::time::Duration) -> OffsetDateTime {
        self.advance(time::Duration::try_from(by).unwrap_or(time::Duration::MAX))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        // A panic while holding the lock cannot leave a half-written time: take it anyway.
        self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_set_or_advanced_and_every_share_sees_it() {
        let clock = Arc::new(FixedClock::new(datetime!(2030-01-01 00:00 UTC)));
        let shared: Arc<dyn Clock> = clock.clone();
        assert_eq!(shared.now(), datetime!(2030-01-01 00:00 UTC));
        assert_eq!(shared.now(), shared.now(), "it does not tick on its own");

        assert_eq!(clock.advance(time::Duration::seconds(90)), datetime!(2030-01-01 00:01:30 UTC));
        assert_eq!(shared.now(), datetime!(2030-01-01 00:01:30 UTC));
        clock.advance_std(std::time::Duration::from_millis(2600));
        assert_eq!(shared.now(), datetime!(2030-01-01 00:01:32.6 UTC));

        clock.set(datetime!(2029-12-31 23:00 UTC));
        assert_eq!(shared.now(), datetime!(2029-12-31 23:00 UTC), "set may move it backwards");
    }

    #[test]
    fn starting_now_is_close_to_the_wall_clock_in_whole_seconds() {
        let clock = FixedClock::starting_now();
        let now = clock.now();
        assert_eq!(now.nanosecond(), 0);
        assert!((OffsetDateTime::now_utc() - now).abs() < time::Duration::seconds(5));
    }
}
