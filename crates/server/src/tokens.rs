//! The admin endpoints for API tokens: `POST /v1/tokens` (the token is in the answer once),
//! `GET /v1/tokens`, `DELETE /v1/tokens/{id}`. Their answers are never cached.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use patchbay_service::tokens::{CreateTokenRequest, CreatedToken, TokenList};

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, Authed};
use crate::headers::no_store;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tokens", get(list_tokens).post(create_token))
        .route("/v1/tokens/{id}", delete(delete_token))
}

#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    summary = "Create an API token (admins)",
    responses((status = 201, body = CreatedToken, description = "Created; `token` is shown only now"),
        (status = 400, body = ErrorEnvelope, description = "A bad name, role, limit or expiry"),
        (status = 403, body = ErrorEnvelope, description = "Not an admin")),
    security(("bearer" = [])))]
pub(crate) async fn create_token(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    let created = s.patchbay.create_api_token(&who, body).await?;
    let mut response = (StatusCode::CREATED, Json(created)).into_response();
    no_store(&mut response);
    Ok(response)
}

#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", summary = "List the team's API tokens (admins)",
    responses((status = 200, body = TokenList, description = "The team's tokens with their limits and last use; never a secret"),
        (status = 403, body = ErrorEnvelope, description = "Not an admin")),
    security(("bearer" = [])))]
pub(crate) async fn list_tokens(State(s): State<AppState>, Authed(who): Authed) -> Result<Response, ApiError> {
    let mut response = Json(s.patchbay.list_api_tokens(&who).await?).into_response();
    no_store(&mut response);
    Ok(response)
}

#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", summary = "Revoke an API token (admins)",
    params(("id" = String, Path, description = "Token id (`tok_…`)")),
    responses((status = 204, description = "Revoked: it stops working at once"),
        (status = 403, body = ErrorEnvelope, description = "Not an admin"),
        (status = 404, body = ErrorEnvelope, description = "No such token in your team")),
    security(("bearer" = [])))]
pub(crate) async fn delete_token(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.patchbay.delete_api_token(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
