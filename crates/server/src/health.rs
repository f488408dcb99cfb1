//! Liveness, readiness and metrics.
//!
//! `/healthz` answers while the process runs. `/readyz` answers 503 when the database is
//! unreachable or the key ring is sealed, with the reason, so a load balancer routes around a
//! node that cannot serve secrets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use patchbay_service::Readiness;
use serde_json::json;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "health", summary = "Liveness", responses((status = 200, description = "The process is alive")))]
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "health", summary = "Readiness (database and key ring)", responses(
    (status = 200, description = "Ready to serve secrets"),
    (status = 503, description = "Sealed or database unreachable, with the reason")))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    match state.patchbay.readiness().await {
        Readiness::Ready => {}
        Readiness::Sealed(reason) => {
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "sealed", "reason": reason})))
                .into_response();
        }
        Readiness::DatabaseUnavailable(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database_unavailable", "reason": "the database does not answer"})),
            )
                .into_response();
        }
    }
    Json(json!({"status": "ready"})).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "health", summary = "Prometheus metrics", responses(
    (status = 200, description = "Prometheus text format"),
    (status = 404, description = "Metrics are not enabled on this server")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => {
            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}
