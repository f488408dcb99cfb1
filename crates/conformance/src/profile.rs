//! What a profile is — the emulation of one real service's documented behaviour — and the
//! small wire helpers the profiles share (client authentication, redirects, error pages).
//! A profile is plain data about the service (hosts, client, documented behaviours with their
//! official pages) plus one `handle` function answering a recorded request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::grants::{Grant, Grants};
use crate::record::Recorded;

/// The OAuth client registered at an emulated service for the kit.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// Client id (in the service's own format).
    pub id: &'static str,
    /// Client secret.
    pub secret: &'static str,
}

/// An ordinary API call the harness can proxy: an absolute URL at the real host.
#[derive(Debug, Clone, Copy)]
pub struct ApiCall {
    /// HTTP method.
    pub method: &'static str,
    /// Absolute URL (the real service's host; `{realm}` stands for a QuickBooks realm id).
    pub url: &'static str,
    /// JSON body to send, when the call takes one.
    pub body: Option<&'static str>,
}

/// One documented behaviour and the official page that documents it.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// What the emulator does.
    pub what: &'static str,
    /// The official documentation page.
    pub doc: &'static str,
}

/// How a client authenticated at a token or revocation endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1).
    Basic,
    /// `client_id` and `client_secret` in the body.
    Body,
}

/// The state an emulator keeps besides its ledger.
#[derive(Debug)]
pub struct Ctx {
    /// Codes and tokens.
    pub grants: Grants,
    /// The redirect URIs registered for the kit's client.
    pub redirect_uris: Vec<String>,
}

/// The emulation of one service.
pub trait Profile: Send + Sync + 'static {
    /// Short name: `google`, `microsoft`, …
    fn name(&self) -> &'static str;
    /// Every host name the service answers on (the certificate covers them all).
    fn hosts(&self) -> &'static [&'static str];
    /// Hosts of token endpoints: a definition whose `token_url` is on one of them runs here.
    fn token_hosts(&self) -> &'static [&'static str];
    /// The kit's registered client.
    fn client(&self) -> Client;
    /// Every account label the identity calls can give (email, name, workspace…).
    fn account_labels(&self) -> &'static [&'static str];
    /// Ordinary API calls for a proxied request.
    fn api_calls(&self) -> &'static [ApiCall];
    /// The documented revocation, or `None` when the service has none (Microsoft).
    fn revocation(&self) -> Option<Behaviour>;
    /// Whether `r` is a revocation request in the documented style that the emulator accepted.
    fn is_documented_revocation(&self, r: &Recorded) -> bool;
    /// Whether the documented revocation ends only the refresh token, leaving its access tokens
    /// to expire on their own (HubSpot): the harness then checks no refresh token is left.
    fn revocation_spares_access_tokens(&self) -> bool {
        false
    }
    /// Every emulated behaviour with its official page.
    fn behaviours(&self) -> &'static [Behaviour];
    /// Connection settings the kit's emulation answers to (`(key, value)`), for a service whose
    /// hosts depend on the account (a Zendesk subdomain): the harness creates connections with them.
    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Answers one request.
    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response;
}

/// A JSON reply.
pub fn json(status: u16, body: Value) -> Response {
    let mut response = (StatusCode::from_u16(status).expect("status"), axum::Json(body)).into_response();
    // Token replies must not be cached (RFC 6749 §5.1); harmless elsewhere.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An OAuth 2.0 error reply (RFC 6749 §5.2): `{"error", "error_description"}` with `status`.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json(status, json!({"error": error, "error_description": description}))
}

/// An HTML error page: what a service shows the browser instead of redirecting, when it cannot
/// trust the redirect URI or the client (RFC 6749 §4.1.2.1).
pub fn page(status: u16, text: &str) -> Response {
    let body = format!("<!doctype html><title>Error</title><p>{text}</p>");
    (StatusCode::from_u16(status).expect("status"), [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
        .into_response()
}

/// A `302 Found` to `location`.
pub fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// `redirect_uri` with the pairs appended to its query.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).expect("registered redirect URIs are URLs");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// Issues a code for `grant` and redirects back with `code`, `state` (when sent) and `extra`.
pub fn approve(ctx: &Ctx, grant: Grant, state: Option<&str>, extra: &[(&str, &str)]) -> Response {
    let redirect = grant.redirect_uri.clone();
    let code = ctx.grants.issue_code(grant);
    let mut pairs: Vec<(&str, &str)> = vec![("code", code.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.extend_from_slice(extra);
    found(&with_query(&redirect, &pairs))
}

/// A body field: form fields for a form body, top-level strings for a JSON body.
pub fn field(r: &Recorded, name: &str) -> Option<String> {
    match r.media_type().as_deref() {
        Some("application/json") => r.json()?.get(name)?.as_str().map(str::to_owned),
        _ => r.form_param(name),
    }
}

/// A token-request parameter wherever the request carries it: in the body ([`field`]), else in
/// the query string (ClickUp documents its token parameters there). For the harness, which
/// recognises code exchanges and refreshes whatever the service's shape; profiles check where
/// the service wants each parameter themselves.
pub fn param(r: &Recorded, name: &str) -> Option<String> {
    field(r, name).or_else(|| r.query_param(name).map(str::to_owned))
}

/// How the client authenticated and as whom. Two methods at once is refused (RFC 6749 §2.3:
/// "MUST NOT use more than one authentication method in each request"), as is none.
pub fn client_auth(r: &Recorded) -> Result<(ClientAuth, String, String), &'static str> {
    let basic = r.basic();
    let body_secret = field(r, "client_secret");
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err("more than one client authentication method"),
        (Some((id, secret)), None) => Ok((ClientAuth::Basic, id, secret)),
        (None, Some(secret)) => match field(r, "client_id") {
            Some(id) => Ok((ClientAuth::Body, id, secret)),
            None => Err("client_secret without client_id"),
        },
        (None, None) => Err("no client authentication"),
    }
}

/// The query parameter `name` of the request.
pub fn q<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.query_param(name)
}

/// The PKCE challenge of an authorize call: `S256` only; `plain` is refused as Patchbay never
/// sends it (a profile accepting it would hide a downgrade).
pub fn pkce_challenge(r: &Recorded) -> Result<Option<String>, &'static str> {
    match (q(r, "code_challenge"), q(r, "code_challenge_method")) {
        (None, None) => Ok(None),
        (Some(c), Some("S256")) => Ok(Some(c.to_owned())),
        (Some(_), _) => Err("code_challenge_method must be S256"),
        (None, Some(_)) => Err("code_challenge_method without code_challenge"),
    }
}

/// Splits a scope parameter on `sep`, dropping empties.
pub fn split_scopes(value: Option<&str>, sep: char) -> Vec<String> {
    value.unwrap_or_default().split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}
