//! The JSON API of docs/api.md: providers, connections, scenarios, the audit trail, events and
//! webhooks (the runtime endpoints are in `runtime`). Each handler is parse → one use-case →
//! render.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use patchbay_service::ServiceError;
use patchbay_service::audit::{AuditQuery, AuditRecord};
use patchbay_service::connections::{CreateConnection, Created, DeleteReceipt, ListFilter, UpdateCredential, Verified};
use patchbay_service::events::{EventQuery, EventView};
use patchbay_service::oauth::{AuthorizeStart, ReauthorizeRequest};
use patchbay_service::scenarios::{ConnectStepsRequest, ReplaceRequest, ReplaceResult, ScenarioRequest};
use patchbay_service::team_providers::DiscoverProvider;
use patchbay_service::views::{ConnectionView, ProviderView};
use patchbay_service::webhooks::{CreateWebhook, WebhookView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::wire::ScenarioBody;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/providers", get(list_providers))
        .route("/v1/providers/discover", post(discover_provider))
        .route("/v1/providers/{id}", get(get_provider).delete(delete_provider))
        .route("/v1/providers/{id}/rediscover", post(rediscover_provider))
        .route("/v1/connections", get(list_connections).post(create_connection))
        .route("/v1/connections/{id}", get(get_connection).patch(rename_connection).delete(delete_connection))
        .route("/v1/connections/{id}/verify", post(verify_connection))
        .route("/v1/connections/{id}/credentials", axum::routing::put(update_credential))
        .route("/v1/connections/{id}/reauthorize", post(reauthorize_connection))
        .route("/v1/connections/{id}/replace", post(replace_connection))
        .route("/v1/connections/{id}/discard", post(discard_connection))
        .route("/v1/scenarios", get(list_scenarios).post(create_scenario))
        .route("/v1/scenarios/{id}", get(get_scenario).patch(update_scenario).delete(delete_scenario))
        .route("/v1/scenarios/{id}/steps/{position}/connection", post(connect_step))
        .route("/v1/scenarios/{id}/connection", post(connect_steps))
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

#[utoipa::path(get, path = "/v1/providers", tag = "providers", summary = "List the provider catalog",
    responses((status = 200, body = Items<ProviderView>, description = "Every provider this server loads"),
        (status = 401, body = ErrorEnvelope, description = "No or an unknown API token")),
    security(("bearer" = [])))]
pub(crate) async fn list_providers(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<Items<ProviderView>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_providers_for(&who).await? }))
}

#[utoipa::path(post, path = "/v1/providers/discover", tag = "providers", request_body = DiscoverProvider,
    summary = "Connect an OAuth server by its URL (admins)",
    description = "Discovers the authorization server behind an issuer or protected-resource URL (RFC 9728, RFC 8414), registers Patchbay with it (RFC 7591) unless a client is given, and adds it as a provider of your team only.",
    responses((status = 201, body = ProviderView, description = "The team's new provider, with `discovered`"),
        (status = 400, body = ErrorEnvelope, description = "Malformed request or URL, bad id, or no registration and no client given"),
        (status = 403, body = ErrorEnvelope, description = "Not an admin"),
        (status = 409, body = ErrorEnvelope, description = "A provider with this id exists"),
        (status = 502, body = ErrorEnvelope, description = "Discovery or registration failed: refused address, malformed, oversized or inconsistent metadata, or the server's registration error")),
    security(("bearer" = [])))]
pub(crate) async fn discover_provider(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<DiscoverProvider>,
) -> Result<(StatusCode, Json<ProviderView>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.discover_provider(&who, body).await?)))
}

#[utoipa::path(post, path = "/v1/providers/{id}/rediscover", tag = "providers",
    summary = "Read a discovered provider's metadata again (admins)",
    params(("id" = String, Path, description = "Provider id")),
    responses((status = 200, body = ProviderView, description = "Updated endpoints and scopes; the client is kept"),
        (status = 404, body = ErrorEnvelope, description = "Your team discovered no such provider"),
        (status = 502, body = ErrorEnvelope, description = "Discovery failed; nothing changed")),
    security(("bearer" = [])))]
pub(crate) async fn rediscover_provider(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, ApiError> {
    Ok(Json(s.patchbay.rediscover_provider(&who, &id).await?))
}

#[utoipa::path(delete, path = "/v1/providers/{id}", tag = "providers",
    summary = "Delete a discovered provider no connection uses (admins)",
    params(("id" = String, Path, description = "Provider id")),
    responses((status = 204, description = "Deleted"),
        (status = 400, body = ErrorEnvelope, description = "A catalog provider"),
        (status = 404, body = ErrorEnvelope, description = "Your team discovered no such provider"),
        (status = 409, body = ErrorEnvelope, description = "Connections of your team use it")),
    security(("bearer" = [])))]
pub(crate) async fn delete_provider(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.patchbay.delete_team_provider(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/providers/{id}", tag = "providers", summary = "Show one provider",
    params(("id" = String, Path, description = "Provider id")),
    responses((status = 200, body = ProviderView, description = "The provider, its scopes, modules and form fields"),
        (status = 404, body = ErrorEnvelope, description = "No such provider in the catalog")),
    security(("bearer" = [])))]
pub(crate) async fn get_provider(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ProviderView>, ApiError> {
    Ok(Json(s.patchbay.get_provider_for(&who, &id).await?))
}

#[utoipa::path(post, path = "/v1/connections", tag = "connections", request_body = CreateConnection,
    summary = "Create a connection",
    responses(
        (status = 201, body = Created, description = "Created (API key/basic: verified unless `verify: false`)"),
        (status = 400, body = ErrorEnvelope, description = "Malformed request, unknown provider, module, scope or field"),
        (status = 403, body = ErrorEnvelope, description = "The role may not add connections"),
        (status = 409, body = ErrorEnvelope, description = "Name taken"),
        (status = 422, body = ErrorEnvelope, description = "The provider rejected the credential; nothing saved"),
        (status = 502, body = ErrorEnvelope, description = "The provider could not be reached; nothing saved"),
        (status = 503, body = ErrorEnvelope, description = "Sealed")),
    security(("bearer" = [])))]
pub(crate) async fn create_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(req): ApiJson<CreateConnection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_connection(&who, req, None).await?)))
}

#[utoipa::path(get, path = "/v1/connections", tag = "connections", params(ListParams),
    summary = "List the team's connections",
    responses((status = 200, body = Items<ConnectionView>, description = "The team's connections, oldest first, filtered"),
        (status = 400, body = ErrorEnvelope, description = "Unknown filter or status")),
    security(("bearer" = [])))]
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
    /// Only these statuses, comma-separated (`active,degraded,needs_reauth`: every connection that
    /// was granted once, as a connection picker lists them).
    status: Option<String>,
    /// Case-insensitive match on name, account or end user (id or display name).
    q: Option<String>,
    /// Only the connections made for this end user (the platform's id, exact match).
    end_user: Option<String>,
}

#[utoipa::path(get, path = "/v1/connections/{id}", tag = "connections", summary = "Show one connection",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView, description = "The connection (metadata only, never a secret)"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team")),
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
    summary = "Rename a connection",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView, description = "Renamed"),
        (status = 400, body = ErrorEnvelope, description = "The name is empty, too long or has control characters"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "Another connection of the team has this name")),
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
    summary = "Delete a connection (revoked at the provider, secret destroyed)",
    params(("id" = String, Path, description = "Connection id"), DeleteParams),
    responses((status = 200, body = DeleteReceipt, description = "Deleted; the receipt says what happened at the provider"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "Used by scenarios (listed); retry with ?force=true")),
    security(("bearer" = [])))]
pub(crate) async fn delete_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<DeleteParams>,
) -> Result<Json<DeleteReceipt>, ApiError> {
    Ok(Json(s.patchbay.delete_connection_with(&who, &id, p.force).await.map_err(with_force_hint)?))
}

/// A delete refused because scenario steps use the connection: the API says how to force it.
fn with_force_hint(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Conflict(message) => ServiceError::Conflict(format!("{message}: retry with ?force=true")),
        e => e,
    }
}

#[utoipa::path(post, path = "/v1/connections/{id}/discard", tag = "connections",
    summary = "Discard a never-granted connection",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = DeleteReceipt, description = "Discarded; the steps that used it are unbound"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "It was granted access: delete it instead")),
    security(("bearer" = [])))]
pub(crate) async fn discard_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<DeleteReceipt>, ApiError> {
    Ok(Json(s.patchbay.discard_connection(&who, &id).await?))
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
    summary = "Move a connection's scenario steps to another connection",
    params(("id" = String, Path, description = "The connection to replace"), DryRun),
    responses((status = 200, body = ReplaceResult, description = "The steps moved (or, with `dry_run`, that would move)"),
        (status = 400, body = ErrorEnvelope, description = "The replacement is of another app or lacks scopes"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team")),
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

#[utoipa::path(get, path = "/v1/scenarios", tag = "scenarios", summary = "List the team's scenarios",
    responses((status = 200, body = Items<ScenarioBody>, description = "The team's scenarios with each step's readiness")),
    security(("bearer" = [])))]
pub(crate) async fn list_scenarios(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<Items<ScenarioBody>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_scenarios(&who).await?.into_iter().map(ScenarioBody::from).collect() }))
}

#[utoipa::path(post, path = "/v1/scenarios", tag = "scenarios", request_body = ScenarioRequest,
    summary = "Create a scenario",
    responses((status = 201, body = ScenarioBody, description = "Created"),
        (status = 400, body = ErrorEnvelope, description = "Unknown module or connection, or a connection of another app"),
        (status = 409, body = ErrorEnvelope, description = "Another scenario of the team has this name")),
    security(("bearer" = [])))]
pub(crate) async fn create_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Result<(StatusCode, Json<ScenarioBody>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_scenario(&who, body).await?.into())))
}

#[utoipa::path(get, path = "/v1/scenarios/{id}", tag = "scenarios", summary = "Show one scenario",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 200, body = ScenarioBody, description = "With each step's readiness"),
        (status = 404, body = ErrorEnvelope, description = "No such scenario in your team")),
    security(("bearer" = [])))]
pub(crate) async fn get_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<ScenarioBody>, ApiError> {
    Ok(Json(s.patchbay.get_scenario(&who, &id).await?.into()))
}

#[utoipa::path(patch, path = "/v1/scenarios/{id}", tag = "scenarios", request_body = ScenarioRequest,
    summary = "Change a scenario (name and steps)",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 200, body = ScenarioBody, description = "Saved"),
        (status = 400, body = ErrorEnvelope, description = "Unknown module or connection, or a connection of another app"),
        (status = 404, body = ErrorEnvelope, description = "No such scenario in your team")),
    security(("bearer" = [])))]
pub(crate) async fn update_scenario(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScenarioRequest>,
) -> Result<Json<ScenarioBody>, ApiError> {
    Ok(Json(s.patchbay.update_scenario(&who, &id, body).await?.into()))
}

#[utoipa::path(delete, path = "/v1/scenarios/{id}", tag = "scenarios", summary = "Delete a scenario",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 204, description = "Deleted; its connections stay"),
        (status = 404, body = ErrorEnvelope, description = "No such scenario in your team")),
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
    summary = "Create a connection for a scenario step and bind it",
    params(("id" = String, Path, description = "Scenario id"), ("position" = usize, Path, description = "Step position (0-based)")),
    responses((status = 201, body = Created, description = "Created with exactly the step's scopes and bound to the step"),
        (status = 400, body = ErrorEnvelope, description = "The step runs a module of another app, or a bad create request"),
        (status = 404, body = ErrorEnvelope, description = "No such scenario or step in your team")),
    security(("bearer" = [])))]
pub(crate) async fn connect_step(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiPath((id, position)): ApiPath<(String, usize)>,
    ApiJson(body): ApiJson<CreateConnection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.connect_step(&who, &id, position, body, None).await?)))
}

#[utoipa::path(post, path = "/v1/scenarios/{id}/connection", tag = "scenarios", request_body = ConnectStepsRequest,
    summary = "Create one connection for several steps and bind them all",
    description = "For steps that run modules of the same app: the connection asks for the union of what their modules need (plus any `scopes` sent), and every step named is bound to it (an OAuth connection while still pending). Every step is checked before anything is created.",
    params(("id" = String, Path, description = "Scenario id")),
    responses((status = 201, body = Created, description = "Created with the union of the steps' scopes and bound to each step"),
        (status = 400, body = ErrorEnvelope, description = "No step named, a step that runs a module of another app, or a bad create request"),
        (status = 403, body = ErrorEnvelope, description = "The role may not change scenarios"),
        (status = 404, body = ErrorEnvelope, description = "No such scenario or step in your team")),
    security(("bearer" = [])))]
pub(crate) async fn connect_steps(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConnectStepsRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let created = s.patchbay.connect_steps(&who, &id, &body.steps, body.connection, None).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(post, path = "/v1/connections/{id}/verify", tag = "connections",
    summary = "Check the stored credential with the provider",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = Verified, description = "Checked; `ok` says whether the provider accepted it"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "`not_connected`: the connection never got a grant (denied or unfinished consent); Connect first"),
        (status = 503, body = ErrorEnvelope, description = "Sealed")),
    security(("bearer" = [])))]
pub(crate) async fn verify_connection(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<Json<Verified>, ApiError> {
    Ok(Json(s.patchbay.verify_connection(&who, &id).await?))
}

#[utoipa::path(put, path = "/v1/connections/{id}/credentials", tag = "connections", request_body = UpdateCredential,
    summary = "Replace an API key or password in place",
    description = "Verifies the new credential with the provider first (unless `verify: false`), then overwrites the stored one: same id, name, settings and scenario bindings. A rejected or unverifiable credential changes nothing. The secret is never echoed.",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView, description = "Replaced; `credential.fingerprint` is the new one"),
        (status = 400, body = ErrorEnvelope, description = "Malformed, wrong fields, or an OAuth connection (reauthorize it instead)"),
        (status = 403, body = ErrorEnvelope, description = "The role may not update credentials"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 422, body = ErrorEnvelope, description = "`credential_rejected`: the provider refused the new credential; the old one is kept"),
        (status = 502, body = ErrorEnvelope, description = "`provider_unavailable`: the new credential could not be checked; nothing changed"),
        (status = 503, body = ErrorEnvelope, description = "Sealed")),
    security(("bearer" = [])))]
pub(crate) async fn update_credential(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCredential>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(s.patchbay.update_credential(&who, &id, body).await?))
}

#[utoipa::path(post, path = "/v1/connections/{id}/reauthorize", tag = "connections", request_body = ReauthorizeRequest,
    summary = "Start a new consent flow (connect, reauthorize or extend)",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = AuthorizeStart, description = "Send the user to `authorize_url`; the connection keeps its id"),
        (status = 400, body = ErrorEnvelope, description = "Not an OAuth connection, or an unknown module or scope"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team")),
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

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams), summary = "Read the audit trail (admins)",
    responses((status = 200, body = Items<AuditRecord>, description = "Audit records, newest first"),
        (status = 403, body = ErrorEnvelope, description = "Only admins read the audit trail")),
    security(("bearer" = [])))]
pub(crate) async fn list_audit(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Items<AuditRecord>>, ApiError> {
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

#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventParams), summary = "Read lifecycle events (admins)",
    responses((status = 200, body = Items<EventView>, description = "Lifecycle events, newest first"),
        (status = 400, body = ErrorEnvelope, description = "A time that is not RFC 3339"),
        (status = 403, body = ErrorEnvelope, description = "Only admins read events")),
    security(("bearer" = [])))]
pub(crate) async fn list_events(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiQuery(p): ApiQuery<EventParams>,
) -> Result<Json<Items<EventView>>, ApiError> {
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

#[utoipa::path(get, path = "/v1/webhooks", tag = "events", summary = "List webhook subscriptions (admins)",
    responses((status = 200, body = Items<WebhookView>, description = "The team's webhooks (never their secrets)"),
        (status = 403, body = ErrorEnvelope, description = "Only admins manage webhooks")),
    security(("bearer" = [])))]
pub(crate) async fn list_webhooks(
    State(s): State<AppState>,
    Authed(who): Authed,
) -> Result<Json<Items<WebhookView>>, ApiError> {
    Ok(Json(Items { items: s.patchbay.list_webhooks(&who).await? }))
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "events", request_body = CreateWebhook, summary = "Subscribe a webhook (admins)",
    responses((status = 201, body = WebhookView, description = "Created; `secret` is shown only now"),
        (status = 400, body = ErrorEnvelope, description = "Bad URL or unknown event type"),
        (status = 403, body = ErrorEnvelope, description = "Only admins manage webhooks")),
    security(("bearer" = [])))]
pub(crate) async fn create_webhook(
    State(s): State<AppState>,
    Authed(who): Authed,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.patchbay.create_webhook(&who, body).await?)))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "events", summary = "Delete a webhook subscription (admins)",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, body = ErrorEnvelope, description = "No such webhook in your team")),
    security(("bearer" = [])))]
pub(crate) async fn delete_webhook(
    State(s): State<AppState>,
    Authed(who): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.patchbay.delete_webhook(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
