//! The JSON API of docs/api.md: providers, connections, scenarios, the audit trail, events and
//! webhooks (the runtime endpoints are in `runtime`). Each handler is parse → one use-case →
//! render.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use patchbay_service::connections::{CreateConnection, Created, DeleteReceipt, ListFilter, Verified};
use patchbay_service::oauth::{AuthorizeStart, ReauthorizeRequest};
use patchbay_service::scenarios::{ReplaceRequest, ReplaceResult, ScenarioRequest, ScenarioView};
use patchbay_service::views::{ConnectionView, ProviderView};
use patchbay_service::webhooks::{CreateWebhook, WebhookView};
use patchbay_store::{AuditEntry, AuditQuery, EventQuery, EventRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, ApiQuery, Authed};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/providers", get(list_providers))
        .route("/v1/providers/{id}", get(get_provider))
        .route("/v1/connections", get(list_connections).post(create_connection))
        .route("/v1/connections/{id}", get(get_connection).patch(rename_connection).delete(delete_connection))
        .route("/v1/connections/{id}/verify", post(verify_connection))
        .route("/v1/connections/{id}/reauthorize", post(reauthorize_connection))
        .route("/v1/connections/{id}/replace", post(replace_connection))
        .route("/v1/scenarios", get(list_scenarios).post(create_scenario))
        .route("/v1/scenarios/{id}", get(get_scenario).patch(update_scenario).delete(delete_scenario))
        .route("/v1/scenarios/{id}/steps/{position}/connection", post(connect_step))
        .route("/v1/audit", get(list_audit))
        .route("/v1/events", get(list_events))
        .route("/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/v1/webhooks/{id}", axum::routing::delete(delete_webhook))
}

/// A list response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Items<T> {
    /// The items.
    pub items: Vec<T>,
}

#[utoipa::path(get, path = "/v1/providers", tag = "providers",
    responses((status = 200, body = Items<ProviderView>), (status = 401, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn list_providers(State(s): State<AppState>, Authed(_who): Authed) -> Json<Items<ProviderView>> {
    Json(Items { items: s.patchbay.list_providers() })
}

#[utoipa::path(get, path = "/v1/providers/{id}", tag = "providers",
    params(("id" = String, Path, description = "Provider id")),
    responses((status = 200, body = ProviderView), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn get_provider(
    State(s): State<AppState>,
    Authed(_who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, ApiError> {
    Ok(Json(s.patchbay.get_provider(&id)?))
}

#[utoipa::path(post, path = "/v1/connections", tag = "connections", request_body = CreateConnection,
    responses(
        (status = 201, body = Created, description = "Created (API key/basic: verified unless `verify: false`)"),
        (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "Name taken"),
        (status = 422, body = ErrorEnvelope, description = "The provider rejected the credential; nothing saved"),
        (status = 502, body = ErrorEnvelope, description = "The provider could not be reached; nothing saved"),
        (status = 503, body = ErrorEnvelope, description = "Sealed")),
    security(("bearer" = [])))]
pub(crate) async fn create_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(req): ApiJson<CreateConnection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_connection(&who, req).await?)))
}

#[utoipa::path(get, path = "/v1/connections", tag = "connections", params(ListParams),
    responses((status = 200, body = Items<ConnectionView>)), security(("bearer" = [])))]
pub(crate) async fn list_connections(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiQuery(filter): ApiQuery<ListFilter>,
) -> Result<Json<Items<ConnectionView>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_connections(&who, &filter).await? }))
}

/// Query parameters of `GET /v1/connections` (documentation twin of `ListFilter`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ListParams {
    /// Only this provider.
    provider: Option<String>,
    /// Only this status.
    status: Option<String>,
    /// Case-insensitive match on name or account.
    q: Option<String>,
}

#[utoipa::path(get, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn get_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(s.patchbay.get_connection(&who, &id).await?))
}

/// Body of `PATCH /v1/connections/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    /// The new name.
    pub name: String,
}

#[utoipa::path(patch, path = "/v1/connections/{id}", tag = "connections", request_body = Rename,
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn rename_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(s.patchbay.rename_connection(&who, &id, &body.name).await?))
}

/// Query of `DELETE /v1/connections/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteParams {
    /// Delete even when scenario steps use the connection (they are unbound).
    #[serde(default)]
    force: bool,
}

#[utoipa::path(delete, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id"), DeleteParams),
    responses((status = 200, body = DeleteReceipt), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope, description = "Used by scenarios (listed); retry with ?force=true")),
    security(("bearer" = [])))]
pub(crate) async fn delete_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<DeleteParams>,
) -> Result<Json<DeleteReceipt>, ApiError> {
    Ok(Json(s.patchbay.delete_connection_with(&who, &id, p.force).await?))
}

/// Query of `POST /v1/connections/{id}/replace`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DryRun {
    /// Only report what would move.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(post, path = "/v1/connections/{id}/replace", tag = "connections", request_body = ReplaceRequest,
    params(("id" = String, Path, description = "The connection to replace"), DryRun),
    responses((status = 200, body = ReplaceResult), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn replace_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DryRun>,
    ApiJson(body): ApiJson<ReplaceRequest>,
) -> Result<Json<ReplaceResult>, ApiError> {
    Ok(Json(s.patchbay.replace_connection(&who, &id, body, q.dry_run).await?))
}

#[utoipa::path(get, path = "/v1/scenarios", tag = "scenarios",
    responses((status = 200, body = Items<ScenarioView>)), security(("bearer" = [])))]
pub(crate) async fn list_scenarios(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<Items<ScenarioView>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_scenarios(&who).await? }))
}

#[utoipa::path(post, path = "/v1/scenarios", tag = "scenarios", request_body = ScenarioRequest,
    responses((status = 201, body = ScenarioView), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn create_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Result<(StatusCode, Json<ScenarioView>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_scenario(&who, body).await?)))
}

#[utoipa::path(get, path = "/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 200, body = ScenarioView, description = "With each step's readiness"), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn get_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ScenarioView>, ApiError> {
    Ok(Json(s.patchbay.get_scenario(&who, &id).await?))
}

#[utoipa::path(patch, path = "/v1/scenarios/{id}", tag = "scenarios", request_body = ScenarioRequest,
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 200, body = ScenarioView), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn update_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Result<Json<ScenarioView>, ApiError> {
    Ok(Json(s.patchbay.update_scenario(&who, &id, body).await?))
}

#[utoipa::path(delete, path = "/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 204, description = "Deleted; its connections stay"), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn delete_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.patchbay.delete_scenario(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/scenarios/{id}/steps/{position}/connection", tag = "scenarios", request_body = CreateConnection,
    params(("id" = String, Path, description = "Scenario id"), ("position" = usize, Path, description = "Step position (0-based)")),
    responses((status = 201, body = Created, description = "Created with exactly the step's scopes and bound to the step")),
    security(("bearer" = [])))]
pub(crate) async fn connect_step(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path((id, position)): Path<(String, usize)>,
    ApiJson(body): ApiJson<CreateConnection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.connect_step(&who, &id, position, body).await?)))
}

#[utoipa::path(post, path = "/v1/connections/{id}/verify", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = Verified, description = "Checked; `ok` says whether the provider accepted it"),
        (status = 404, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn verify_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<Verified>, ApiError> {
    Ok(Json(s.patchbay.verify_connection(&who, &id).await?))
}

#[utoipa::path(post, path = "/v1/connections/{id}/reauthorize", tag = "connections", request_body = ReauthorizeRequest,
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = AuthorizeStart, description = "Send the user to `authorize_url`; the connection keeps its id"),
        (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn reauthorize_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AuthorizeStart>, ApiError> {
    // The body is optional: an empty POST asks for the scopes already granted.
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        ReauthorizeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the JSON body does not match the expected shape: {}",
                crate::error::redact_serde_message(&e.to_string())
            ))
        })?
    };
    Ok(Json(s.patchbay.reauthorize_connection(&who, &id, req, None).await?))
}

/// Query parameters of `GET /v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Only records about this connection.
    connection: Option<String>,
    /// Paging cursor: records older than this id.
    before: Option<i64>,
    /// Page size (default 100, at most 500).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Items<Object>), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn list_audit(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Items<AuditEntry>>, ApiError> {
    let q = AuditQuery { connection_id: p.connection, before_id: p.before, limit: p.limit.unwrap_or(100) };
    Ok(Json(Items { items: s.patchbay.list_audit(&who, &q).await? }))
}

/// Query parameters of `GET /v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventParams {
    /// Only events about this connection.
    connection: Option<String>,
    /// Only this type, e.g. `connection.needs_reauth`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Only at or after this time (RFC 3339).
    since: Option<String>,
    /// Only before this time (RFC 3339).
    until: Option<String>,
    /// Paging cursor: events older than this id.
    before: Option<i64>,
    /// Page size (default 100, at most 500).
    limit: Option<u32>,
}

fn parse_time(name: &str, v: Option<&str>) -> Result<Option<time::OffsetDateTime>, ApiError> {
    v.map(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|_| {
            ApiError::bad_request(format!("`{name}` is not an RFC 3339 time: write e.g. 2026-11-28T12:00:00Z"))
        })
    })
    .transpose()
}

#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = Items<Object>), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn list_events(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiQuery(p): ApiQuery<EventParams>,
) -> Result<Json<Items<EventRow>>, ApiError> {
    let q = EventQuery {
        connection_id: p.connection,
        event_type: p.event_type,
        since: parse_time("since", p.since.as_deref())?,
        until: parse_time("until", p.until.as_deref())?,
        before_id: p.before,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(Items { items: s.patchbay.list_events(&who, &q).await? }))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "events",
    responses((status = 200, body = Items<WebhookView>)), security(("bearer" = [])))]
pub(crate) async fn list_webhooks(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<Items<WebhookView>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_webhooks(&who).await? }))
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "events", request_body = CreateWebhook,
    responses((status = 201, body = WebhookView, description = "Created; `secret` is shown only now"), (status = 400, body = ErrorEnvelope)),
    security(("bearer" = [])))]
pub(crate) async fn create_webhook(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_webhook(&who, body).await?)))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "events",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)), security(("bearer" = [])))]
pub(crate) async fn delete_webhook(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.patchbay.delete_webhook(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
