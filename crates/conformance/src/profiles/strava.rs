//! Strava: authorize on www.strava.com (`client_id`, `redirect_uri`, `response_type=code`,
//! comma-delimited `scope`; the callback names the accepted scopes), the token endpoint with
//! client_id and client_secret as parameters (the reply carries `expires_at` and the athlete,
//! no scope; a refresh may hand out a new refresh token, after which the old one fails),
//! deauthorization with the access token, which ends every token of the athlete for the app,
//! and API v3, which answers a bad token with 401 and a missing scope with 401 too.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Strava profile.
#[derive(Debug, Default)]
pub struct Strava;

const CLIENT: Client = Client { id: "100001", secret: "c0nf0rmance5trava5ecret00000000000000001" };
const AUTH: &str = "https://developers.strava.com/docs/authentication/";
const REFERENCE: &str = "https://developers.strava.com/docs/reference/";

impl Profile for Strava {
    fn name(&self) -> &'static str {
        "strava"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.strava.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["www.strava.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada_lovelace", "Ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://www.strava.com/api/v3/athlete/activities", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://www.strava.com/oauth/deauthorize with access_token=<access token>",
            doc: AUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.path == "/oauth/deauthorize"
            && (r.form_param("access_token").is_some() || r.query_param("access_token").is_some())
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://www.strava.com/oauth/authorize: client_id, redirect_uri, response_type=code required; approval_prompt, scope (comma-delimited), state optional; the callback carries code, scope (the accepted ones) and state",
                doc: AUTH,
            },
            Behaviour {
                what: "token POST https://www.strava.com/oauth/token: client_id, client_secret, code, grant_type=authorization_code; reply token_type Bearer, expires_at, expires_in 21600, refresh_token, access_token, athlete",
                doc: AUTH,
            },
            Behaviour {
                what: "refresh: client_id, client_secret, grant_type=refresh_token, refresh_token; the reply may name a new refresh token, after which the old one no longer works",
                doc: AUTH,
            },
            Behaviour {
                what: "deauthorize POST https://www.strava.com/oauth/deauthorize with access_token: every access and refresh token of the athlete for the app is revoked",
                doc: AUTH,
            },
            Behaviour {
                what: "API https://www.strava.com/api/v3 with Authorization: Bearer; GET /athlete (read) → id, username, firstname; GET /athlete/activities needs activity:read; 401 Authorization Error otherwise",
                doc: REFERENCE,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "/oauth/token") => token(ctx, r),
            ("POST", "/oauth/deauthorize") => deauthorize(ctx, r),
            ("GET", path) if path.starts_with("/api/v3/") => api(ctx, r, path),
            _ => fault(404, "Record Not Found", "resource", "invalid"),
        }
    }
}

/// Strava's fault shape: `{"message", "errors": [{"resource", "field", "code"}]}`.
fn fault(status: u16, message: &str, resource: &str, code: &str) -> Response {
    json(status, json!({"message": message, "errors": [{"resource": resource, "field": "", "code": code}]}))
}

fn unauthorized(field_name: &str) -> Response {
    json(
        401,
        json!({"message": "Authorization Error", "errors": [{"resource": "Athlete", "field": field_name, "code": "invalid"}]}),
    )
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Bad Request: client_id invalid");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Bad Request: redirect_uri invalid");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "Bad Request: response_type invalid");
    }
    let scopes = split_scopes(q(r, "scope"), ',');
    let accepted = scopes.join(",");
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[("scope", accepted.as_str())])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return fault(401, "Bad Request", "Application", "invalid"),
    };
    let pair = |family: u64| {
        json!({
            "token_type": "Bearer",
            "access_token": ctx.grants.access_token(family, "confstravaaccess"),
            "expires_at": 1_900_000_000_u64,
            "expires_in": 21600,
            "refresh_token": ctx.grants.refresh_token(family, "confstravarefresh"),
        })
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(&field(r, "code").unwrap_or_default(), &client, None, None) {
                Ok((_, family)) => {
                    let mut body = pair(family);
                    body["athlete"] = json!({"id": 134815, "username": "ada_lovelace", "firstname": "Ada"});
                    json(200, body)
                }
                Err(_) => fault(400, "Bad Request", "AuthorizationCode", "invalid"),
            }
        }
        // A new refresh token each time in the kit, the old one spent (what Strava documents
        // once it has handed out a new one).
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((_, family)) => json(200, pair(family)),
                Err(_) => fault(400, "Bad Request", "RefreshToken", "invalid"),
            }
        }
        _ => fault(400, "Bad Request", "GrantType", "invalid"),
    }
}

fn deauthorize(ctx: &Ctx, r: &Recorded) -> Response {
    let token = r.form_param("access_token").or_else(|| r.query_param("access_token").map(str::to_owned));
    match token {
        Some(token) if ctx.grants.check_access(&token).is_some() => {
            ctx.grants.revoke(&token, true);
            json(200, json!({"access_token": token}))
        }
        _ => unauthorized("access_token"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return unauthorized("access_token");
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/api/v3/athlete" if has("read") || has("profile:read_all") => {
            json(200, json!({"id": 134815, "username": "ada_lovelace", "firstname": "Ada", "lastname": "Lovelace"}))
        }
        "/api/v3/athlete/activities" if has("activity:read") || has("activity:read_all") => json(200, json!([])),
        "/api/v3/athlete" => unauthorized("read_permission"),
        "/api/v3/athlete/activities" => unauthorized("activity:read_permission"),
        _ => fault(404, "Record Not Found", "resource", "invalid"),
    }
}
