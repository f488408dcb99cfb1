//! Figma: authorize on www.figma.com (`client_id`, `redirect_uri`, `scope` separated by commas or
//! spaces, `state`, `response_type=code`, optional PKCE S256), the token endpoint
//! `api.figma.com/v1/oauth/token` with the client by HTTP Basic only and a form body, refreshes on
//! their own endpoint `/v1/oauth/refresh` (the refresh token alone in the body; the reply has a
//! new access token and no new refresh token), no revocation, and the REST API, which takes
//! OAuth tokens as `Authorization: Bearer` and checks each endpoint's scope.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Figma profile.
#[derive(Debug, Default)]
pub struct Figma;

const CLIENT: Client = Client { id: "c0nf0rmanceF1gmaC11ent", secret: "c0nf0rmanceF1gma5ecret00000000" };
const OAUTH: &str = "https://developers.figma.com/docs/rest-api/oauth-apps/";
const SCOPES: &str = "https://developers.figma.com/docs/rest-api/scopes/";
const API: &str = "https://developers.figma.com/docs/rest-api/";
/// 90 days, Figma's default access-token lifetime.
const LIFETIME: u64 = 7_776_000;

impl Profile for Figma {
    fn name(&self) -> &'static str {
        "figma"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.figma.com", "api.figma.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.figma.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada@conformance.example", "ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.figma.com/v1/files/c0nfFileKey/comments", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        None
    }
    fn is_documented_revocation(&self, _r: &Recorded) -> bool {
        false
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://www.figma.com/oauth: client_id, redirect_uri, scope (comma- or space-separated), state, response_type=code; code_challenge (S256) optional",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.figma.com/v1/oauth/token: HTTP Basic client id and secret, form redirect_uri, code, grant_type=authorization_code (+ code_verifier); reply user_id_string, access_token, token_type bearer, expires_in, refresh_token",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh POST https://api.figma.com/v1/oauth/refresh: HTTP Basic, form refresh_token; reply access_token, token_type, expires_in, no new refresh token (the old one stays good)",
                doc: OAUTH,
            },
            Behaviour { what: "no revocation endpoint: the user removes the app from their account", doc: OAUTH },
            Behaviour {
                what: "GET /v1/me needs current_user:read → id, handle, email; comments need file_comments:read (list) or file_comments:write (post); files file_content:read",
                doc: SCOPES,
            },
            Behaviour { what: "OAuth tokens go in Authorization: Bearer; 403 for a missing scope", doc: API },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "www.figma.com", "/oauth") => authorize(ctx, r),
            ("POST", "api.figma.com", "/v1/oauth/token") => token(ctx, r),
            ("POST", "api.figma.com", "/v1/oauth/refresh") => refresh(ctx, r),
            (_, "api.figma.com", path) => api(ctx, r, path),
            _ => json(404, json!({"status": 404, "err": "Not found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid redirect_uri");
    };
    if q(r, "response_type") != Some("code") || q(r, "state").is_none() || q(r, "scope").is_none() {
        return page(400, "response_type=code, scope and state are required");
    }
    let code_challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    let scopes: Vec<String> = q(r, "scope")
        .unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: true,
        code_challenge,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

/// HTTP Basic only: a secret in the body is not how Figma takes it. The error is the
/// `(status, error, description)` of the refusal.
fn basic_client(r: &Recorded) -> Result<String, (u16, &'static str, &'static str)> {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err((400, "invalid_request", "form-encoded body required"));
    }
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Ok(id),
        _ => Err((401, "invalid_client", "client authentication (HTTP Basic) failed")),
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match basic_client(r) {
        Ok(c) => c,
        Err((status, error, description)) => return oauth_error(status, error, description),
    };
    if field(r, "grant_type").as_deref() != Some("authorization_code") {
        // Refreshes have their own endpoint.
        return oauth_error(400, "unsupported_grant_type", "use /v1/oauth/refresh to refresh a token");
    }
    let code = field(r, "code").unwrap_or_default();
    let verifier = field(r, "code_verifier");
    match ctx.grants.redeem_code(&code, &client, field(r, "redirect_uri").as_deref(), verifier.as_deref()) {
        Ok((_, family)) => json(
            200,
            json!({
                "user_id_string": "1138",
                "access_token": ctx.grants.access_token(family, "figu_conformance_"),
                "token_type": "bearer",
                "expires_in": LIFETIME,
                "refresh_token": ctx.grants.refresh_token(family, "figr_conformance_"),
            }),
        ),
        Err(_) => oauth_error(400, "invalid_grant", "invalid code"),
    }
}

fn refresh(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match basic_client(r) {
        Ok(c) => c,
        Err((status, error, description)) => return oauth_error(status, error, description),
    };
    // The refresh token is not spent: Figma hands out no new one.
    match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
        Ok((_, family)) => json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "figu_conformance_"),
                "token_type": "bearer",
                "expires_in": LIFETIME,
            }),
        ),
        Err(_) => oauth_error(400, "invalid_grant", "invalid refresh token"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(403, json!({"status": 403, "err": "Invalid token"}));
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    let missing =
        || json(403, json!({"status": 403, "err": "Invalid scope(s): the token lacks the scope this endpoint needs"}));
    let comments = path.starts_with("/v1/files/") && path.ends_with("/comments");
    match r.method.as_str() {
        "GET" if path == "/v1/me" && has("current_user:read") => json(
            200,
            json!({"id": "1138", "handle": "ada", "email": "ada@conformance.example", "img_url": "https://s3-alpha.figma.com/ada.png"}),
        ),
        "GET" if comments && has("file_comments:read") => json(200, json!({"comments": []})),
        "POST" if comments && has("file_comments:write") => json(200, json!({"id": "c1", "message": "hi"})),
        _ if path == "/v1/me" || comments => missing(),
        _ => json(404, json!({"status": 404, "err": "Not found"})),
    }
}
