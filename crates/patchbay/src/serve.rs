//! `patchbay serve`: bind, serve, and shut down gracefully on SIGTERM or SIGINT (in-flight
//! requests finish, then the database pool closes).

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusBuilder;
use patchbay_server::{AppState, router};
use tokio::signal::unix::{SignalKind, signal};

use crate::app;
use crate::config::Config;

/// Runs the server until a shutdown signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let patchbay = app::build(&config).await?;
    run_app(config, patchbay).await
}

/// Serves an already built service until a shutdown signal (`serve` and `demo`).
pub async fn run_app(config: Config, patchbay: std::sync::Arc<patchbay_service::Patchbay>) -> anyhow::Result<()> {
    let metrics = PrometheusBuilder::new().install_recorder().ok();
    let state = AppState {
        patchbay: patchbay.clone(),
        metrics,
        trusted_proxies: std::sync::Arc::new(config.trusted_proxies.clone()),
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| {
        format!("cannot listen on {}: is another process using it? set PATCHBAY_LISTEN", config.listen)
    })?;
    tracing::info!(
        listen = %config.listen,
        public_url = %config.public_url,
        database = %redact_url(&config.database_url),
        providers = patchbay.catalog().len(),
        trusted_proxies = !config.trusted_proxies.is_empty(),
        sealed = patchbay.keys().sealed_reason().is_some(),
        "patchbay is serving"
    );
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let workers = [
        tokio::spawn(patchbay_service::revocations::run_worker(
            patchbay.clone(),
            std::time::Duration::from_secs(1).min(config.revocation_retry_base),
            workers_stop.clone(),
        )),
        tokio::spawn(patchbay_service::scheduler::run_worker(
            patchbay.clone(),
            config.scheduler_interval,
            workers_stop.clone(),
        )),
        tokio::spawn(patchbay_service::webhooks::run_worker(
            patchbay.clone(),
            config.scheduler_interval,
            workers_stop.clone(),
        )),
        // Abandoned never-granted connections: a minute's delay is fine against a day's rule.
        tokio::spawn(patchbay_service::connections::run_discard_worker(
            patchbay.clone(),
            std::time::Duration::from_secs(60).max(config.scheduler_interval),
            workers_stop.clone(),
        )),
        // Connect sessions that ran out unused: audited within a minute of their expiry.
        tokio::spawn(patchbay_service::connect_sessions::run_expiry_worker(
            patchbay.clone(),
            std::time::Duration::from_secs(60).max(config.scheduler_interval),
            workers_stop.clone(),
        )),
        tokio::spawn(patchbay_service::events::run_retention_worker(patchbay.clone(), workers_stop)),
    ];
    // With the peer address, the sign-in rate limit counts per login *and* client.
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    // In-flight requests are done; stop the workers before closing the pool they use.
    let _ = stop_workers.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    patchbay.close().await;
    tracing::info!("patchbay stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler cannot fail on Unix");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler cannot fail on Unix");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received: finishing in-flight requests"),
        _ = int.recv() => tracing::info!("SIGINT received: finishing in-flight requests"),
    }
}

/// Hides a password in a database URL for the start-up log.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
