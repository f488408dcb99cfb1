//! Box: authorize on account.box.com (`response_type=code`, optional space-separated `scope`
//! within the app's scopes), the token endpoint on api.box.com with a form body and the client
//! id and secret in it, refresh tokens that are single use (each refresh returns a new one),
//! revocation by form `client_id`, `client_secret`, `token` (either token ends both), and the
//! Content API `GET /2.0/users/me`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Box profile.
#[derive(Debug, Default)]
pub struct BoxCom;

const CLIENT: Client = Client { id: "c0nf0rmanceb0xc1ientid000000000", secret: "c0nf0rmanceb0xsecret0000000000ab" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://developer.box.com/guides/authentication/oauth2/oauth2-setup/";
const TOKENS: &str = "https://developer.box.com/guides/authentication/tokens/";
const REVOKE: &str = "https://developer.box.com/reference/post-oauth2-revoke/";

impl Profile for BoxCom {
    fn name(&self) -> &'static str {
        "box"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["account.box.com", "api.box.com", "upload.box.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.box.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.box.com/2.0/folders/0/items", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.box.com/oauth2/revoke, form client_id, client_secret, token (the access or the refresh token)",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "api.box.com"
            && r.path == "/oauth2/revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_secret").is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://account.box.com/api/oauth2/authorize: response_type=code, client_id required; redirect_uri, state, scope (space-separated) optional",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.box.com/oauth2/token: form grant_type, code, client_id, client_secret; reply access_token, expires_in 3600, token_type bearer, refresh_token",
                doc: "https://developer.box.com/reference/post-oauth2-token/",
            },
            Behaviour { what: "access token 60 minutes; refresh token 60 days or one use", doc: TOKENS },
            Behaviour { what: "revoke: form client_id, client_secret, token; either token ends the pair", doc: REVOKE },
            Behaviour {
                what: "GET https://api.box.com/2.0/users/me → type user, id, name, login; a bad token is 401",
                doc: "https://developer.box.com/reference/get-users-me/",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "account.box.com", "/api/oauth2/authorize") => authorize(ctx, r),
            ("POST", "api.box.com", "/oauth2/token") => token(ctx, r),
            ("POST", "api.box.com", "/oauth2/revoke") => revoke(ctx, r),
            ("GET", "api.box.com", path) => content(ctx, r, path),
            _ => json(404, json!({"type": "error", "status": 404, "code": "not_found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_uri_mismatch");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "unsupported_response_type");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn client_in_body(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Invalid grant_type parameter or parameter missing");
    }
    let Some(client) = client_in_body(r) else {
        return oauth_error(400, "invalid_client", "The client credentials are invalid");
    };
    let reply = |family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "boxconfaccess"),
                "expires_in": 3600,
                "token_type": "bearer",
                "restricted_to": [],
                "refresh_token": ctx.grants.refresh_token(family, "boxconfrefresh"),
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &field(r, "code").unwrap_or_default(),
                &client,
                field(r, "redirect_uri").as_deref(),
                None,
            ) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "Auth code doesn't exist or is invalid for the client"),
            }
        }
        // One use: the refresh token is spent by this refresh.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid refresh token"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Invalid grant_type parameter or parameter missing"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if client_in_body(r).is_none() {
        return oauth_error(400, "invalid_client", "The client credentials are not valid");
    }
    match r.form_param("token") {
        Some(token) => {
            // Either token of the pair ends both; an unknown one is answered alike (RFC 7009 §2.2).
            ctx.grants.revoke(&token, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request", "token is required"),
    }
}

fn content(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(401, json!({"type": "error", "status": 401, "code": "unauthorized", "message": "Unauthorized"}));
    }
    match path {
        "/2.0/users/me" => json(200, json!({"type": "user", "id": "11446498", "name": "Ada Lovelace", "login": EMAIL})),
        "/2.0/folders/0/items" => json(200, json!({"total_count": 0, "entries": [], "offset": 0, "limit": 100})),
        _ => json(404, json!({"type": "error", "status": 404, "code": "not_found"})),
    }
}
