//! Miro (an app with expiring tokens): authorize on miro.com/oauth/authorize (`response_type`,
//! `client_id`, `redirect_uri` required; no scope parameter: the app's configured scopes are
//! granted on the team the user picks), the token endpoint `api.miro.com/v1/oauth/token` whose
//! parameters the reference shows in the query string and Miro asks to send in the body, a
//! reply with `user_id`, `team_id` and space-separated `scope`, one-hour access tokens whose
//! refresh returns a new pair and ends the old one, `GET /v1/oauth-token` (the token's user and
//! team) and the v2 boards API. Revocation (`POST /v2/oauth/revoke`) is emulated as far as it is
//! documented: the access token (as bearer, or `access_token`) and the client as `clientId` and
//! `clientSecret` in a JSON body.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{ApiCall, Behaviour, Client, Ctx, Profile, approve, json, oauth_error, page, param, q};
use crate::record::Recorded;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The Miro profile.
#[derive(Debug, Default)]
pub struct Miro;

const CLIENT: Client = Client { id: "3458764600000000001", secret: "c0nf0rmanceMir0SecretAbCdEfGhIjKlMnOp01" };
const OAUTH: &str = "https://developers.miro.com/docs/getting-started-with-oauth";
const EXCHANGE: &str = "https://developers.miro.com/reference/exchange-authorization-code-with-access-token";
const REFRESH: &str = "https://developers.miro.com/reference/get-new-access-token-using-refresh-token";
const CONTEXT: &str = "https://developers.miro.com/reference/get-access-token-context";
const REVOKE: &str = "https://developers.miro.com/reference/revoke-token-v2";
/// The scopes the kit's app is configured with: what every consent grants.
const APP_SCOPES: &[&str] = &["boards:read", "boards:write"];
const TEAM: &str = "3458764517517852417";
const USER: &str = "3458764517517819000";

impl Profile for Miro {
    fn name(&self) -> &'static str {
        "miro"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["miro.com", "api.miro.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.miro.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Ada Lovelace", "Conformance team"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.miro.com/v2/boards", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.miro.com/v2/oauth/revoke with the access token (as bearer, or access_token) and the client as clientId and clientSecret in the JSON body",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.host == "api.miro.com" && r.path == "/v2/oauth/revoke"
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://miro.com/oauth/authorize: response_type=code, client_id, redirect_uri required; state and team_id optional; the app's configured scopes are granted on the team the user picks",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.miro.com/v1/oauth/token: grant_type=authorization_code, client_id, client_secret, code, redirect_uri (in the body in real use); the code is single-use and lives 10 minutes; reply user_id, team_id, access_token, refresh_token, expires_in, scope, token_type bearer",
                doc: EXCHANGE,
            },
            Behaviour {
                what: "expiring tokens: an access token lives 1 hour, a refresh token 60 days; grant_type=refresh_token returns a new pair and the old ones stop working",
                doc: REFRESH,
            },
            Behaviour {
                what: "GET https://api.miro.com/v1/oauth-token with Authorization: Bearer → type, team {id, name}, user {id, name}, scopes",
                doc: CONTEXT,
            },
            Behaviour {
                what: "revoke POST https://api.miro.com/v2/oauth/revoke: ends the access token and its refresh token; the app stays installed",
                doc: REVOKE,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "miro.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "api.miro.com", "/v1/oauth/token") => token(ctx, r),
            ("POST", "api.miro.com", "/v2/oauth/revoke") => revoke(ctx, r),
            (_, "api.miro.com", path) => api(ctx, r, path),
            _ => not_found(),
        }
    }
}

fn not_found() -> Response {
    json(404, json!({"type": "error", "status": 404, "code": "notFound", "message": "Not found"}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_uri is required and must be one of the app's");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "response_type=code is required");
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes: APP_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        offline: true,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.basic().is_some()
        || param(r, "client_id").as_deref() != Some(CLIENT.id)
        || param(r, "client_secret").as_deref() != Some(CLIENT.secret)
    {
        return oauth_error(401, "invalid_client", "Client authentication failed");
    }
    let reply = |grant: &Grant, family: u64| {
        json(
            200,
            json!({
                "user_id": USER,
                "refresh_token": ctx.grants.refresh_token(family, "eyJtaXJvLm9yaWdpbiI6ImV1MDEifQ_r"),
                "access_token": ctx.grants.access_token(family, "eyJtaXJvLm9yaWdpbiI6ImV1MDEifQ_a"),
                "expires_in": 3599,
                "team_id": TEAM,
                "scope": grant.scopes.join(" "),
                "token_type": "bearer",
            }),
        )
    };
    match param(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &param(r, "code").unwrap_or_default(),
            CLIENT.id,
            param(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => reply(&grant, family),
            Err(_) => oauth_error(400, "invalid_grant", "Authorization code is invalid or expired"),
        },
        // A refresh hands out a new pair; the used refresh token no longer works.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&param(r, "refresh_token").unwrap_or_default(), CLIENT.id, true) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "Refresh token is invalid"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
    }
}

fn unauthorized() -> Response {
    json(401, json!({"type": "error", "status": 401, "code": "tokenNotFound", "message": "Token not found"}))
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    let body = r.json().unwrap_or_default();
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    if text("clientId").as_deref() != Some(CLIENT.id) || text("clientSecret").as_deref() != Some(CLIENT.secret) {
        return json(
            400,
            json!({"type": "error", "status": 400, "code": "invalidParameters", "message": "clientId and clientSecret are required"}),
        );
    }
    // The access token as bearer (the reference's credentials) or as `access_token` in the body
    // (the changelog's field list).
    let token = r.bearer().map(str::to_owned).or_else(|| text("access_token"));
    match token {
        // The access token and its refresh token end; the app stays installed.
        Some(token) if ctx.grants.check_access(&token).is_some() && ctx.grants.revoke(&token, true) => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => unauthorized(),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return unauthorized();
    };
    match (r.method.as_str(), path) {
        ("GET", "/v1/oauth-token") => json(
            200,
            json!({"type": "oauth-token", "scopes": grant.scopes, "team": {"type": "team", "name": "Conformance team", "id": TEAM}, "user": {"type": "user", "name": "Ada Lovelace", "id": USER}, "organization": {"type": "organization", "name": "Conformance", "id": "3458764517517000000"}}),
        ),
        ("GET", "/v2/boards") if grant.scopes.iter().any(|s| s == "boards:read") => {
            json(200, json!({"size": 0, "offset": 0, "limit": 20, "total": 0, "data": [], "type": "list"}))
        }
        ("GET", "/v2/boards") => json(
            403,
            json!({"type": "error", "status": 403, "code": "insufficientPermissions", "message": "Insufficient permissions"}),
        ),
        _ => not_found(),
    }
}
