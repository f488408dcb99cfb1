//! The connect-session API: `POST /v1/connect/sessions`, with which a platform's backend lets one
//! of its own users add a connection on Patchbay's hosted page (docs/embedding.md). The answer
//! carries the session token once and is never cached.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use patchbay_service::connect_sessions::{ConnectSessionCreated, CreateConnectSession};

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, Authed};
use crate::headers::no_store;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/connect/sessions", post(create_session))
}

#[utoipa::path(post, path = "/v1/connect/sessions", tag = "connect", request_body = CreateConnectSession,
    summary = "Create a connect session for a platform's end user (admins, members)",
    description = "The hosted page at `url` lets the end user add one connection to your team, limited to the session's providers, without a Patchbay account. The token is shown only now and is stored as a digest.",
    responses((status = 201, body = ConnectSessionCreated, description = "Created; `token` and `url` are shown only now"),
        (status = 400, body = ErrorEnvelope, description = "A bad end user, provider, module, scope, origin, return URL or lifetime; nothing stored"),
        (status = 403, body = ErrorEnvelope, description = "The role may not add connections"),
        (status = 404, body = ErrorEnvelope, description = "`connection_id` is not a connection of your team")),
    security(("bearer" = [])))]
pub(crate) async fn create_session(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<CreateConnectSession>,
) -> Result<Response, ApiError> {
    let created: ConnectSessionCreated = s.patchbay.create_connect_session(&who, body).await?;
    let mut response = (StatusCode::CREATED, Json(created)).into_response();
    no_store(&mut response);
    Ok(response)
}
