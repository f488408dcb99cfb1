//! The resource API: `GET /api/me` and a scoped item list (RFC 6750 bearer tokens).
//!
//! | call | scope |
//! |---|---|
//! | `GET /api/me` | any valid token |
//! | `GET /api/items` | `items:read` |
//! | `POST /api/items` `{"title": "..."}` | `items:write` |
//! | `DELETE /api/items/{id}` | `items:delete` |
//!
//! A missing, unknown, expired or revoked token gets `401 {"error": "invalid_token"}`; a valid
//! token without the scope gets `403 {"error": "insufficient_scope", "scope": "..."}`. Every call
//! is recorded in the ledger.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::knobs::Fault;
use crate::ledger::ApiCallRecord;
use crate::listener::Conn;
use crate::state::{Bearer, Inner, Item, Shared, now_rfc3339};

/// The bearer token of the `Authorization` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// A 401 that also says where the resource's metadata is (RFC 9728 §5.1), so a client given
/// only the API's URL can find the authorization server.
fn invalid_token(shared: &Shared, description: &str) -> Response {
    let mut response =
        (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token", "error_description": description})))
            .into_response();
    let challenge = format!(
        "Bearer realm=\"Demo Cloud\", error=\"invalid_token\", resource_metadata=\"{}\"",
        crate::registration::resource_metadata_url(shared)
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn insufficient_scope(scope: &'static str) -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        Json(json!({
            "error": "insufficient_scope",
            "scope": scope,
            "error_description": format!("this call needs the `{scope}` scope"),
        })),
    )
        .into_response();
    if let Ok(v) =
        HeaderValue::from_str(&format!("Bearer realm=\"Demo Cloud\", error=\"insufficient_scope\", scope=\"{scope}\""))
    {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Authenticates the call, checks `scope`, runs `f` under the lock and records the call.
fn call(
    shared: &Shared,
    method: Method,
    path: String,
    headers: &HeaderMap,
    scope: Option<&'static str>,
    f: impl FnOnce(&mut Inner, &Bearer) -> Response,
) -> Response {
    let token = bearer_token(headers);
    let mut inner = shared.lock();
    let response = match token.as_deref().map(|t| inner.bearer(t)) {
        None => invalid_token(shared, "a bearer token is required"),
        Some(None) => invalid_token(shared, "the access token is unknown, expired or revoked"),
        Some(Some(bearer)) => match scope {
            Some(scope) if !bearer.scopes.iter().any(|s| s == scope) => insufficient_scope(scope),
            _ => f(&mut inner, &bearer),
        },
    };
    inner.ledger.api_calls.push(ApiCallRecord {
        method: method.to_string(),
        path,
        access_token: token,
        status: response.status().as_u16(),
    });
    response
}

/// `GET /api/me`, unless an identity fault is queued.
pub(crate) async fn me(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    headers: HeaderMap,
) -> Response {
    let fault = shared.lock().identity_faults.pop_front();
    match fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(fault) => {
            let response = crate::token::fault_response(&fault, &conn);
            let status = if matches!(fault, Fault::Reset | Fault::ResetAfterProcessing) {
                0
            } else {
                response.status().as_u16()
            };
            shared.lock().ledger.api_calls.push(ApiCallRecord {
                method: "GET".into(),
                path: "/api/me".into(),
                access_token: bearer_token(&headers),
                status,
            });
            return response;
        }
        None => {}
    }
    call(&shared, Method::GET, "/api/me".into(), &headers, None, |_, bearer| {
        let name = if bearer.service { "Demo service client" } else { "Demo User" };
        Json(json!({
            "id": crate::crypto::user_id(&bearer.account),
            "email": bearer.account,
            "name": name,
            "scopes": bearer.scopes,
        }))
        .into_response()
    })
}

/// `GET /api/items`.
pub(crate) async fn list_items(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    call(&shared, Method::GET, "/api/items".into(), &headers, Some("items:read"), |inner, bearer| {
        let items = inner.items_of(&bearer.account).clone();
        Json(json!({"items": items})).into_response()
    })
}

/// `POST /api/items` with `{"title": "..."}`.
pub(crate) async fn create_item(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let title = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("title").and_then(Value::as_str).map(str::to_owned))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.chars().count() <= 200);
    call(&shared, Method::POST, "/api/items".into(), &headers, Some("items:write"), |inner, bearer| {
        let Some(title) = title else {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "invalid_request",
                    "error_description": "send a JSON body {\"title\": \"...\"} with 1 to 200 characters",
                })),
            )
                .into_response();
        };
        // Seed the list first so the new item comes after the examples.
        inner.items_of(&bearer.account);
        let id = format!("itm_{}", inner.next_item);
        inner.next_item += 1;
        let item = Item { id, title, done: false, created_at: now_rfc3339() };
        inner.items_of(&bearer.account).push(item.clone());
        (StatusCode::CREATED, Json(item)).into_response()
    })
}

/// `DELETE /api/items/{id}`.
pub(crate) async fn delete_item(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/api/items/{id}");
    call(&shared, Method::DELETE, path, &headers, Some("items:delete"), |inner, bearer| {
        let items = inner.items_of(&bearer.account);
        let before = items.len();
        items.retain(|i| i.id != id);
        if items.len() == before {
            (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "error_description": "no such item"})))
                .into_response()
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    })
}
