//! Runtime endpoints: the access-token endpoint and the credential-injecting proxy. Their answers
//! are never cached ([`crate::headers::no_store`]): one carries a token, the other whatever the
//! provider answered with the injected credential.

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use patchbay_service::lifecycle::{IssuedToken, TokenRequest};
use patchbay_service::proxy::ProxyRequest;

use crate::AppState;
use crate::error::{ApiError, ErrorEnvelope, redact_serde_message};
use crate::extract::RuntimeAuthed;
use crate::headers::no_store;

/// The token endpoint (its small JSON body falls under the router's body limit).
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/connections/{id}/token", post(issue_token))
}

/// The proxy, outside the router's body limit: its bodies are streamed within
/// `PATCHBAY_PROXY_MAX_BODY_BYTES`, which the service enforces. The methods are those documented
/// in the OpenAPI document (`get` answers HEAD too); others get 405.
pub(crate) fn proxy_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/connections/{id}/proxy/{*path}", get(proxy).post(proxy).put(proxy).patch(proxy).delete(proxy))
}

#[utoipa::path(post, path = "/v1/connections/{id}/token", tag = "runtime", request_body = Option<TokenRequest>,
    summary = "Get a usable access token for the runtime",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, body = IssuedToken, description = "A usable token (refreshed first when due)"),
        (status = 400, body = ErrorEnvelope, description = "Unknown module, or a step that does not use this connection"),
        (status = 403, body = ErrorEnvelope, description = "`missing_scopes` for the module, or not a runtime/admin token"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "`needs_reauth`: the user must reauthorize; `not_connected`: the consent was never completed"),
        (status = 502, body = ErrorEnvelope, description = "The refresh failed transiently; retry later")),
    security(("bearer" = [])))]
pub(crate) async fn issue_token(
    State(s): State<AppState>,
    RuntimeAuthed(caller): RuntimeAuthed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: TokenRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TokenRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the JSON body does not match the expected shape: {}",
                redact_serde_message(&e.to_string())
            ))
        })?
    };
    let token = s.patchbay.issue_token(&caller, &id, req).await?;
    let mut response = Json(token).into_response();
    // The one response that carries a secret: never cache it.
    no_store(&mut response);
    Ok(response)
}

#[utoipa::path(method(get, head, post, put, patch, delete), path = "/v1/connections/{id}/proxy/{path}", tag = "runtime",
    summary = "Call the provider's API with the stored credential injected",
    description = "GET, HEAD, POST, PUT, PATCH or DELETE: the request is forwarded to the provider's `api_base_url` + `path` with the query, an allow-list of headers and the body; the caller never sees the credential.",
    request_body(content = String, description = "Passed through to the provider", content_type = "application/octet-stream"),
    params(("id" = String, Path, description = "Connection id"), ("path" = String, Path, description = "Path below the provider's API base"),
        ("Patchbay-Module" = Option<String>, Header, description = "Module about to run (`provider.module`), checked for scopes")),
    responses((status = 200, description = "The provider's answer, status and body passed through"),
        (status = 400, body = ErrorEnvelope, description = "A `.` or `..` path segment, or an unknown module"),
        (status = 403, body = ErrorEnvelope, description = "`missing_scopes` for the module, or not a runtime/admin token"),
        (status = 404, body = ErrorEnvelope, description = "No such connection in your team"),
        (status = 409, body = ErrorEnvelope, description = "`needs_reauth` or `not_connected`: the user must act first"),
        (status = 502, body = ErrorEnvelope, description = "The provider could not be reached")),
    security(("bearer" = [])))]
pub(crate) async fn proxy(
    State(s): State<AppState>,
    RuntimeAuthed(caller): RuntimeAuthed,
    Path((id, path)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let module = headers.get("patchbay-module").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = Box::pin(body.into_data_stream().map(|chunk| chunk.map_err(std::io::Error::other)));
    let req = ProxyRequest { method, path, query, headers, body, module };
    let r = s.patchbay.proxy(&caller, &id, req).await?;
    let status = StatusCode::from_u16(r.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, Body::from_stream(r.body)).into_response();
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (header::HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(n, v);
        }
    }
    no_store(&mut response);
    Ok(response)
}
