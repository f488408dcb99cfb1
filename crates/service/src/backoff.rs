//! The one retry policy: exponential backoff `base · 2ⁿ`, capped, with optional jitter and an
//! optional `Retry-After` floor. Refresh, revocation and webhook delivery each keep their own
//! numbers (see their `Backoff` values), but the rule is written once, here.

use time::Duration;

/// Doublings counted at most; every policy reaches its cap well before (2 s · 2¹⁶ > 1 day).
const MAX_DOUBLINGS: i64 = 16;
/// A provider's `Retry-After` is honoured up to an hour; a longer one is treated as an hour.
const RETRY_AFTER_CAP_SECS: u64 = 3600;

/// Delay before the next attempt after `attempt` failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    /// The first delay (attempt 0).
    pub base: std::time::Duration,
    /// No delay is longer than this (before jitter).
    pub cap: std::time::Duration,
    /// Up to this fraction is added at random (0.25: +0–25 %), so that many retries scheduled
    /// together do not hit a recovering provider together. 0: none.
    pub jitter: f64,
}

impl Backoff {
    /// `min(base · 2^attempt, cap)` plus a random share of the jitter.
    pub fn delay(&self, attempt: i64) -> Duration {
        let sample = if self.jitter > 0.0 { patchbay_domain::random::unit() } else { 0.0 };
        self.delay_with(attempt, sample)
    }

    /// [`Backoff::delay`], but never sooner than the provider's `Retry-After` (seconds, capped at
    /// an hour): a floor, not a replacement.
    pub fn delay_at_least(&self, attempt: i64, retry_after: Option<u64>) -> Duration {
        let floor = Duration::seconds(retry_after.unwrap_or(0).min(RETRY_AFTER_CAP_SECS) as i64);
        self.delay(attempt).max(floor)
    }

    /// The delay for a given jitter sample in `[0, 1]` (the pure rule, for tests).
    pub fn delay_with(&self, attempt: i64, sample: f64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.clamp(0, MAX_DOUBLINGS) as u32);
        let nominal = self.base.saturating_mul(factor).min(self.cap);
        let jittered = nominal + nominal.mul_f64(self.jitter * sample.clamp(0.0, 1.0));
        Duration::try_from(jittered).unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as Std;

    use super::*;

    const JITTERED: Backoff = Backoff { base: Std::from_secs(2), cap: Std::from_secs(600), jitter: 0.25 };
    const PLAIN: Backoff = Backoff { base: Std::from_secs(5), cap: Std::from_secs(3600), jitter: 0.0 };

    #[test]
    fn doubles_from_the_base_up_to_the_cap() {
        let secs = |n| PLAIN.delay_with(n, 0.0).whole_seconds();
        assert_eq!([secs(0), secs(1), secs(2), secs(9)], [5, 10, 20, 2560]);
        assert_eq!(secs(10), 3600, "5 s · 2¹⁰ passes the cap");
        assert_eq!(secs(1000), 3600);
        assert_eq!(secs(-3), 5, "negative counts start at the base");
    }

    #[test]
    fn jitter_adds_at_most_its_share() {
        assert_eq!(JITTERED.delay_with(0, 0.0), Duration::seconds(2));
        assert_eq!(JITTERED.delay_with(0, 1.0), Duration::milliseconds(2500));
        assert_eq!(JITTERED.delay_with(30, 1.0), Duration::seconds(750), "jitter applies on top of the cap");
        assert_eq!(PLAIN.delay_with(0, 1.0), Duration::seconds(5), "no jitter configured, none added");
        for n in 0..12 {
            let d = JITTERED.delay(n);
            let nominal = JITTERED.delay_with(n, 0.0);
            assert!(d >= nominal && d <= nominal * 5 / 4, "{n}: {d}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_an_hour() {
        assert!(JITTERED.delay_at_least(0, Some(120)) >= Duration::seconds(120));
        assert!(JITTERED.delay_at_least(0, None) < Duration::seconds(3));
        assert_eq!(PLAIN.delay_at_least(0, Some(1_000_000)), Duration::hours(1));
        assert_eq!(PLAIN.delay_at_least(3, Some(1)), Duration::seconds(40), "a short Retry-After changes nothing");
    }
}
