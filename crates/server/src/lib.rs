//! Patchbay's HTTP surface: the JSON API (docs/api.md), the OAuth callback, the runtime
//! endpoints, health, metrics, the OpenAPI document and the web UI.
//!
//! Handlers only translate: parse the request, call one use-case with the authenticated
//! principal, render the result. Permission checks and every rule live in the service. Every
//! service error gets its status from one table ([`error::status_of`]); the API answers with one
//! envelope, `{"error": {"code", "message"}}`, and an internal cause is logged once, by a
//! middleware. Browser-facing answers carry the security headers of [`headers`].

pub(crate) mod api;
pub mod callback;
mod client_ip;
mod connect;
pub(crate) mod cookies;
pub mod error;
mod extract;
pub(crate) mod headers;
pub(crate) mod health;
mod metrics_layer;
pub mod openapi;
pub(crate) mod runtime;
pub(crate) mod team;
pub(crate) mod tokens;
pub mod ui;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use metrics_exporter_prometheus::PrometheusHandle;
use patchbay_service::Patchbay;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use client_ip::TrustedProxies;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The use-cases.
    pub patchbay: Arc<Patchbay>,
    /// Renders `/metrics`.
    pub metrics: Option<PrometheusHandle>,
    /// Proxies whose `X-Forwarded-For` names the client (`PATCHBAY_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
}

/// Largest request body accepted (a credential form is tiny; this bounds abuse). The proxy has
/// its own, larger cap (`PATCHBAY_PROXY_MAX_BODY_BYTES`).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Builds the whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(callback::routes())
        .merge(runtime::routes())
        .merge(tokens::routes())
        .merge(connect::routes())
        .merge(team::routes())
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(ui::routes())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // After the limit: the proxy streams its bodies within its own cap.
        .merge(runtime::proxy_routes())
        .fallback(error::not_found_fallback)
        // Outermost of the route layers: every answer, errors and fallbacks included.
        .layer(axum::middleware::from_fn(headers::api_headers))
        // Inside the trace span, so an internal error's cause is logged with its request.
        .layer(axum::middleware::from_fn(error::log_causes))
        .layer(axum::middleware::from_fn(metrics_layer::record))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, Duration::from_secs(60)))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // The span names the path only: query strings carry OAuth codes and states (the
        // callback), which must not reach a log line at any level.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }))
        // Marked sensitive before tracing sees them, so they are never logged.
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .with_state(state)
}
