//! Twitch: authorize on id.twitch.tv (`client_id`, `redirect_uri`, `response_type=code`,
//! space-separated `scope`, `state`), the token endpoint with the client id and secret in the
//! form body (the reply's `scope` is a JSON array; a new pair on every refresh), revocation of
//! an access token with a form `client_id` + `token`, token validation (`GET /oauth2/validate`
//! with `Authorization: OAuth <token>`), and the Helix API, which requires the `Client-Id` header
//! of the token's app on every call and answers a bad token with 401.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Twitch profile.
#[derive(Debug, Default)]
pub struct Twitch;

const CLIENT: Client = Client { id: "c0nf0rmancetw1tchc11ent000001", secret: "c0nf0rmancetw1tch5ecret0000001" };
const GETTING: &str = "https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/";
const REFRESH: &str = "https://dev.twitch.tv/docs/authentication/refresh-tokens";
const REVOKE: &str = "https://dev.twitch.tv/docs/authentication/revoke-tokens";
const API: &str = "https://dev.twitch.tv/docs/api/";
const VALIDATE: &str = "https://dev.twitch.tv/docs/authentication/validate-tokens/";

impl Profile for Twitch {
    fn name(&self) -> &'static str {
        "twitch"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["id.twitch.tv", "api.twitch.tv"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["id.twitch.tv"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada_lovelace", "AdaLovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.twitch.tv/helix/channels/followers", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://id.twitch.tv/oauth2/revoke, form client_id + token (the access token)",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "id.twitch.tv"
            && r.path == "/oauth2/revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_id").as_deref() == Some(CLIENT.id)
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://id.twitch.tv/oauth2/authorize: client_id, redirect_uri, response_type=code, scope (space-delimited) required; state, force_verify optional",
                doc: GETTING,
            },
            Behaviour {
                what: "token POST https://id.twitch.tv/oauth2/token: form client_id, client_secret, code, grant_type=authorization_code, redirect_uri; reply access_token, expires_in, refresh_token, scope (a JSON array), token_type bearer",
                doc: GETTING,
            },
            Behaviour {
                what: "refresh: form client_id, client_secret, grant_type=refresh_token, refresh_token; reply a new access token and refresh token",
                doc: REFRESH,
            },
            Behaviour {
                what: "revoke POST https://id.twitch.tv/oauth2/revoke: form client_id, token; 200 with no body; 400 {status, message: Invalid token}; 404 for an unknown client",
                doc: REVOKE,
            },
            Behaviour {
                what: "validate GET https://id.twitch.tv/oauth2/validate with Authorization: OAuth <access token>: 200 {client_id, login, scopes, user_id, expires_in}, 401 {status, message: invalid access token}; required at start and hourly",
                doc: VALIDATE,
            },
            Behaviour {
                what: "Helix https://api.twitch.tv/helix: Authorization: Bearer <user token> and Client-Id: <the token's app>; 401 for a bad token or a mismatched client id",
                doc: "https://dev.twitch.tv/docs/api/get-started/",
            },
            Behaviour {
                what: "GET /helix/users → data[0] {id, login, display_name, email (with user:read:email)}; GET /helix/channels/followers needs moderator:read:followers",
                doc: API,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "id.twitch.tv", "/oauth2/authorize") => authorize(ctx, r),
            ("POST", "id.twitch.tv", "/oauth2/token") => token(ctx, r),
            ("POST", "id.twitch.tv", "/oauth2/revoke") => revoke(ctx, r),
            ("GET", "id.twitch.tv", "/oauth2/validate") => validate(ctx, r),
            ("GET", "api.twitch.tv", path) if path.starts_with("/helix/") => helix(ctx, r, path),
            _ => status(404, "Not Found", "Not Found"),
        }
    }
}

/// Twitch's error shape: `{"error", "status", "message"}` (the id endpoints leave `error` out).
fn status(code: u16, error: &str, message: &str) -> Response {
    json(code, json!({"error": error, "status": code, "message": message}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_mismatch: Parameter redirect_uri does not match registered URI");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || q(r, "scope").is_none() {
        return page(400, "response_type=code and scope are required");
    }
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return json(400, json!({"status": 400, "message": "missing client id"}));
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        Ok((ClientAuth::Body, id, _)) if id == CLIENT.id => {
            return json(403, json!({"status": 403, "message": "invalid client secret"}));
        }
        _ => return json(400, json!({"status": 400, "message": "missing client id"})),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "conftwitchaccess"),
                "expires_in": 14124,
                "refresh_token": ctx.grants.refresh_token(family, "conftwitchrefresh"),
                "scope": grant.scopes,
                "token_type": "bearer",
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => json(400, json!({"status": 400, "message": "Invalid authorization code"})),
        },
        // A new pair on every refresh; the kit spends the old refresh token, the strict reading.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => status(400, "Bad Request", "Invalid refresh token"),
            }
        }
        _ => json(400, json!({"status": 400, "message": "unsupported grant type"})),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if r.form_param("client_id").as_deref() != Some(CLIENT.id) {
        return json(404, json!({"status": 404, "message": "client does not exist"}));
    }
    // The documented call names the client only; a secret sent along must at least be right.
    if r.form_param("client_secret").is_some_and(|s| s != CLIENT.secret) {
        return json(403, json!({"status": 403, "message": "invalid client secret"}));
    }
    let token = r.form_param("token").unwrap_or_default();
    // Only access tokens are documented here; revoking one ends the authorization it belongs to.
    if ctx.grants.check_access(&token).is_none() {
        return json(400, json!({"status": 400, "message": "Invalid token"}));
    }
    ctx.grants.revoke(&token, true);
    axum::response::IntoResponse::into_response(axum::http::StatusCode::OK)
}

/// The documented header is `OAuth <token>`; anything else is refused like a bad token.
fn validate(ctx: &Ctx, r: &Recorded) -> Response {
    let token = r.header("authorization").and_then(|h| h.strip_prefix("OAuth "));
    let Some(grant) = token.and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"status": 401, "message": "invalid access token"}));
    };
    json(
        200,
        json!({
            "client_id": grant.client_id,
            "login": "ada_lovelace",
            "scopes": grant.scopes,
            "user_id": "141981764",
            "expires_in": 5520,
        }),
    )
}

fn helix(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return status(401, "Unauthorized", "Invalid OAuth token");
    };
    if r.header("client-id") != Some(grant.client_id.as_str()) {
        return status(401, "Unauthorized", "Client ID and OAuth token do not match");
    }
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/helix/users" => {
            let mut user = json!({
                "id": "141981764",
                "login": "ada_lovelace",
                "display_name": "AdaLovelace",
                "type": "",
                "broadcaster_type": "",
            });
            if has("user:read:email") {
                user["email"] = json!("ada@conformance.example");
            }
            json(200, json!({"data": [user]}))
        }
        "/helix/channels/followers" if has("moderator:read:followers") => {
            json(200, json!({"total": 0, "data": [], "pagination": {}}))
        }
        "/helix/channels/followers" => status(401, "Unauthorized", "Missing scope: moderator:read:followers"),
        _ => status(404, "Not Found", "Not Found"),
    }
}
