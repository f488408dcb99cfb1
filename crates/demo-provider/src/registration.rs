//! Dynamic client registration (RFC 7591, `POST /register`), the clients it created, and the
//! protected-resource side of Demo Cloud (RFC 9728): the resource's metadata and the `resource`
//! parameter check (RFC 8707).
//!
//! A registered client lives beside the start-up client of [`DemoOptions`]: the authorize,
//! token and revocation endpoints accept either. A registered client must use one of its own
//! redirect URIs exactly and the one authentication method it registered.
//!
//! The protected resource is the item API, `{base}/api`; its metadata is served at
//! `/.well-known/oauth-protected-resource/api` (the RFC 9728 §3.1 path form) and the API's 401s
//! point at it with `WWW-Authenticate: Bearer resource_metadata="…"`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::crypto::random_token;
use crate::options::{DemoOptions, TokenEndpointAuth};
use crate::scopes::SCOPES;
use crate::state::RegisteredClient;
use crate::state::Shared;

/// Prefix of the client ids `/register` issues.
pub const REGISTERED_CLIENT_PREFIX: &str = "dyn_";

/// What a client looks like to the authorize, token and revocation endpoints.
pub(crate) struct ClientView {
    pub secret: String,
    pub auth: TokenEndpointAuth,
    /// Exact redirect URIs; empty accepts any (the start-up client without `redirect_uris`).
    pub redirect_uris: Vec<String>,
}

/// The client `id`: the start-up one or a registered one.
pub(crate) fn find_client(shared: &Shared, id: &str) -> Option<ClientView> {
    if id == shared.options.client_id {
        let options: &DemoOptions = &shared.options;
        return Some(ClientView {
            secret: options.client_secret.clone(),
            auth: options.token_endpoint_auth,
            redirect_uris: options.redirect_uris.clone(),
        });
    }
    shared.clients().get(id).map(|c| ClientView {
        secret: c.client_secret.clone(),
        auth: c.auth,
        redirect_uris: c.redirect_uris.clone(),
    })
}

/// The RFC 7591 §2 client metadata Demo Cloud reads; the rest is ignored.
#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    redirect_uris: Vec<String>,
    client_name: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
}

/// An RFC 7591 §3.2.2 error answer.
fn refuse(error: &'static str, description: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error, "error_description": description.into()}))).into_response()
}

/// `POST /register`.
pub(crate) async fn register(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(message) = shared.lock().registration_refusal.clone() {
        return refuse("invalid_client_metadata", message);
    }
    let metadata: Metadata = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return refuse("invalid_client_metadata", format!("the body is not client metadata JSON: {e}")),
    };
    match check(metadata) {
        Ok(client) => {
            let answer = json!({
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "client_id_issued_at": time::OffsetDateTime::now_utc().unix_timestamp(),
                "client_secret_expires_at": 0,
                "client_name": client.client_name,
                "redirect_uris": client.redirect_uris,
                "grant_types": client.grant_types,
                "response_types": ["code"],
                "token_endpoint_auth_method": auth_word(client.auth),
            });
            shared.clients().insert(client.client_id.clone(), client);
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err((error, description)) => refuse(error, description),
    }
}

fn auth_word(auth: TokenEndpointAuth) -> &'static str {
    match auth {
        TokenEndpointAuth::Post => "client_secret_post",
        TokenEndpointAuth::Basic | TokenEndpointAuth::Either => "client_secret_basic",
    }
}

/// The registration rules: exact http(s) redirect URIs, the code flow only, a confidential client.
fn check(m: Metadata) -> Result<RegisteredClient, (&'static str, String)> {
    if m.redirect_uris.is_empty() {
        return Err(("invalid_redirect_uri", "redirect_uris is required".into()));
    }
    for uri in &m.redirect_uris {
        let ok = url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none());
        if !ok {
            return Err(("invalid_redirect_uri", format!("redirect_uri `{uri}` is not an absolute http(s) URL")));
        }
    }
    let grant_types = m.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(other) = grant_types.iter().find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token")) {
        return Err(("invalid_client_metadata", format!("grant type `{other}` cannot be registered")));
    }
    if m.response_types.as_ref().is_some_and(|r| r.iter().any(|t| t != "code")) {
        return Err(("invalid_client_metadata", "only the response type `code` can be registered".into()));
    }
    let auth = match m.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic") => TokenEndpointAuth::Basic,
        Some("client_secret_post") => TokenEndpointAuth::Post,
        Some(other) => {
            return Err(("invalid_client_metadata", format!("token_endpoint_auth_method `{other}` is not supported")));
        }
    };
    Ok(RegisteredClient {
        client_id: random_token(REGISTERED_CLIENT_PREFIX),
        client_secret: random_token("dcs_"),
        client_name: m.client_name,
        redirect_uris: m.redirect_uris,
        grant_types,
        auth,
    })
}

/// The protected resource's identifier: `{base}/api`.
pub(crate) fn resource_url(shared: &Shared) -> String {
    format!("{}/api", shared.issuer)
}

/// Where the resource's metadata is (RFC 9728 §3.1: the well-known segment before the path).
pub(crate) fn resource_metadata_url(shared: &Shared) -> String {
    format!("{}/.well-known/oauth-protected-resource/api", shared.issuer)
}

/// `GET /.well-known/oauth-protected-resource/api` (RFC 9728 §3.2).
pub(crate) async fn resource_metadata(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({
        "resource": resource_url(&shared),
        "authorization_servers": [shared.issuer],
        "scopes_supported": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Demo Cloud items",
    }))
    .into_response()
}

/// RFC 8707: a `resource` parameter, when sent, must name this server's protected resource.
pub(crate) fn check_resource(shared: &Shared, resource: Option<&str>) -> Result<(), String> {
    match resource {
        None => Ok(()),
        Some(r) if r == resource_url(shared) => Ok(()),
        Some(r) => Err(format!("`{r}` is not a resource of Demo Cloud; use {}", resource_url(shared))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: serde_json::Value) -> Metadata {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn registration_rules() {
        let ok = check(metadata(json!({"redirect_uris": ["http://127.0.0.1:1/cb"],
            "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "client_secret_post"})))
        .unwrap();
        assert!(ok.client_id.starts_with(REGISTERED_CLIENT_PREFIX));
        assert_eq!(ok.auth, TokenEndpointAuth::Post);
        assert!(!format!("{ok:?}").contains(&ok.client_secret));
        let bad = [
            (json!({}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["/cb"]}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["http://a/cb"], "grant_types": ["implicit"]}), "invalid_client_metadata"),
            (
                json!({"redirect_uris": ["http://a/cb"], "token_endpoint_auth_method": "none"}),
                "invalid_client_metadata",
            ),
        ];
        for (body, error) in bad {
            assert_eq!(check(metadata(body.clone())).err().map(|e| e.0), Some(error), "{body}");
        }
    }
}
