//! Smartsheet (smartsheet.com): authorize on app.smartsheet.com/b/authorize (space-separated
//! access scopes, required), the token endpoint `POST api.smartsheet.com/2.0/token` whose
//! parameters are documented as query parameters and sent as a form body in Smartsheet's own
//! samples, the client proven by `client_secret` or by `hash` = SHA-256(secret|code), 7-day
//! access tokens with a new refresh token on every refresh, revocation by
//! `DELETE /2.0/token` with the token as bearer, and the 2.0 API with `GET /users/me`.

use aws_lc_rs::digest;
use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, json, oauth_error, page, param, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Smartsheet profile.
#[derive(Debug, Default)]
pub struct Smartsheet;

const CLIENT: Client = Client { id: "c0nf0rmancesmartsheet01", secret: "c0nf0rmancesmartsheetsecret01" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://developers.smartsheet.com/api/smartsheet/guides/advanced-topics/oauth";
const TOKENS: &str = "https://developers.smartsheet.com/api/smartsheet/openapi/tokens";
const ME: &str = "https://developers.smartsheet.com/api/smartsheet/openapi/users/get-current-user";
const SCOPES: &[&str] = &[
    "ADMIN_SHEETS",
    "ADMIN_SIGHTS",
    "ADMIN_USERS",
    "ADMIN_WEBHOOKS",
    "ADMIN_WORKSPACES",
    "CREATE_SHEETS",
    "CREATE_SIGHTS",
    "DELETE_SHEETS",
    "DELETE_SIGHTS",
    "READ_CONTACTS",
    "READ_EVENTS",
    "READ_SHEETS",
    "READ_SIGHTS",
    "READ_USERS",
    "SHARE_SHEETS",
    "SHARE_SIGHTS",
    "WRITE_SHEETS",
];

impl Profile for Smartsheet {
    fn name(&self) -> &'static str {
        "smartsheet"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["app.smartsheet.com", "api.smartsheet.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.smartsheet.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.smartsheet.com/2.0/sheets", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "DELETE https://api.smartsheet.com/2.0/token with Authorization: Bearer <access token>",
            doc: TOKENS,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "DELETE" && r.host == "api.smartsheet.com" && r.path == "/2.0/token" && r.bearer().is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://app.smartsheet.com/b/authorize: response_type=code, client_id and scope (space-separated access scopes) required, state optional; the callback carries code, expires_in and state",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.smartsheet.com/2.0/token (application/x-www-form-urlencoded): grant_type, client_id, code, and client_secret or hash = SHA-256(app secret|code); reply access_token, token_type bearer, refresh_token, expires_in 604799",
                doc: TOKENS,
            },
            Behaviour {
                what: "grant_type=refresh_token with refresh_token, client_id and client_secret (or hash over the refresh token) returns a new access token and refresh token",
                doc: TOKENS,
            },
            Behaviour {
                what: "DELETE https://api.smartsheet.com/2.0/token revokes the access token the request is made with",
                doc: TOKENS,
            },
            Behaviour {
                what: "API https://api.smartsheet.com/2.0 with Authorization: Bearer; GET /users/me → id, email, firstName, lastName; a bad token is 401 errorCode 1002",
                doc: ME,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "app.smartsheet.com", "/b/authorize") => authorize(ctx, r),
            ("POST", "api.smartsheet.com", "/2.0/token") => token(ctx, r),
            ("DELETE", "api.smartsheet.com", "/2.0/token") => revoke(ctx, r),
            (_, "api.smartsheet.com", path) => api(ctx, r, path),
            _ => json(404, json!({"errorCode": 1006, "message": "Not Found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    // The app's registered redirect URL is used; one sent along must be it.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri does not match the app's redirect URL"),
        None => ctx.redirect_uris[0].clone(),
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return page(400, &format!("Invalid scope {bad}"));
    }
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[("expires_in", "599")])
}

/// The client proof: the plain secret, or the hex SHA-256 of `secret|<code or refresh token>`.
fn proves_client(r: &Recorded, over: &str) -> bool {
    match (param(r, "client_secret"), param(r, "hash")) {
        (Some(secret), None) => secret == CLIENT.secret,
        (None, Some(hash)) => {
            let want = digest::digest(&digest::SHA256, format!("{}|{over}", CLIENT.secret).as_bytes());
            hash.eq_ignore_ascii_case(&want.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        _ => false,
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    if param(r, "client_id").as_deref() != Some(CLIENT.id) {
        return oauth_error(401, "invalid_client", "Invalid client");
    }
    let reply = |family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "c0nfss"),
                "token_type": "bearer",
                "refresh_token": ctx.grants.refresh_token(family, "c0nfssr"),
                "expires_in": 604799,
            }),
        )
    };
    match param(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = param(r, "code").unwrap_or_default();
            if !proves_client(r, &code) {
                return oauth_error(401, "invalid_client", "Invalid client secret or hash");
            }
            match ctx.grants.redeem_code(&code, CLIENT.id, None, None) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid authorization code"),
            }
        }
        Some("refresh_token") => {
            let refresh = param(r, "refresh_token").unwrap_or_default();
            if !proves_client(r, &refresh) {
                return oauth_error(401, "invalid_client", "Invalid client secret or hash");
            }
            match ctx.grants.use_refresh(&refresh, CLIENT.id, true) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid refresh token"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn invalid_token() -> Response {
    json(401, json!({"errorCode": 1002, "message": "Your Access Token is invalid.", "refId": "c0nf0rmance"}))
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    match r.bearer() {
        // The access token is revoked; this emulation ends its refresh token with it.
        Some(token) if ctx.grants.check_access(token).is_some() && ctx.grants.revoke(token, true) => {
            json(200, json!({"message": "SUCCESS", "resultCode": 0}))
        }
        _ => invalid_token(),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return invalid_token();
    };
    match (r.method.as_str(), path) {
        ("GET", "/2.0/users/me") => json(
            200,
            json!({"id": 48569348493401200_u64, "email": EMAIL, "firstName": "Ada", "lastName": "Lovelace", "locale": "en_US", "timeZone": "Europe/London", "account": {"id": 942513719853956_u64, "name": "Conformance"}}),
        ),
        ("GET", "/2.0/sheets") if grant.scopes.iter().any(|s| s == "READ_SHEETS") => {
            json(200, json!({"pageNumber": 1, "pageSize": 100, "totalPages": 0, "totalCount": 0, "data": []}))
        }
        ("GET", "/2.0/sheets") => json(
            403,
            json!({"errorCode": 1004, "message": "You are not authorized to perform this action.", "refId": "c0nf0rmance"}),
        ),
        _ => json(404, json!({"errorCode": 1006, "message": "Not Found", "refId": "c0nf0rmance"})),
    }
}
