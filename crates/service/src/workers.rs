//! The loop every background worker runs: one pass, then sleep, until shutdown. A failed pass is
//! logged and the loop goes on — a database hiccup must not stop refreshes for good.

use std::future::Future;

use crate::ServiceResult;

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
    loop {
        match pass().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(worker = name, count = n, "worker pass"),
            Err(e) => tracing::warn!(worker = name, error = %e, "worker pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}
