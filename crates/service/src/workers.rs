//! The loop every background worker runs: one pass, then sleep, until shutdown. A failed pass is
//! logged and the loop goes on — a database hiccup must not stop refreshes for good — but
//! consecutive failures back off (1 s doubling up to 30 s, never sooner than the worker's own
//! interval), so that workers do not hammer a database that is down or failing over, and resume
//! at their normal pace with the first pass that succeeds.

use std::future::Future;

use crate::ServiceResult;
use crate::backoff::Backoff;

/// The pause after consecutive failed passes.
const FAILED_PASS_BACKOFF: Backoff =
    Backoff { base: std::time::Duration::from_secs(1), cap: std::time::Duration::from_secs(30), jitter: 0.25 };

/// How long to sleep after a pass: the interval, or longer after `failures` failed passes in a row.
fn pause_after(interval: std::time::Duration, failures: u32) -> std::time::Duration {
    if failures == 0 {
        return interval;
    }
    let backoff = FAILED_PASS_BACKOFF.delay(i64::from(failures) - 1);
    interval.max(std::time::Duration::try_from(backoff).unwrap_or(interval))
}

/// Runs `pass` every `interval` until `shutdown` changes. `name` labels the log lines.
pub async fn run_every<F, Fut>(
    name: &'static str,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ServiceResult<usize>>,
{
    let mut failures: u32 = 0;
    loop {
        match pass().await {
            Ok(n) => {
                if failures > 0 {
                    tracing::info!(worker = name, after = failures, "worker passes succeed again");
                }
                failures = 0;
                if n > 0 {
                    tracing::debug!(worker = name, count = n, "worker pass");
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(worker = name, error = %e, failures, "worker pass failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause_after(interval, failures)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn failed_passes_back_off_and_success_resets_the_pace() {
        let interval = Duration::from_millis(500);
        assert_eq!(pause_after(interval, 0), interval);
        let first = pause_after(interval, 1);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_millis(1250), "{first:?}");
        let later = pause_after(interval, 5);
        assert!(later >= Duration::from_secs(16), "{later:?}");
        assert!(pause_after(interval, 50) <= Duration::from_millis(37_500), "capped at 30 s plus jitter");
        let slow = Duration::from_secs(60);
        assert_eq!(pause_after(slow, 1), slow, "never sooner than the worker's own interval");
    }
}
