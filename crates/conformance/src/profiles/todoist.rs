//! Todoist (an OAuth app): authorize on todoist.com/oauth/authorize (`client_id`, comma-separated
//! `scope` and `state` required; the app's configured redirect URI), the token endpoint
//! `todoist.com/oauth/access_token` with `client_id`, `client_secret` and `code` in a form body,
//! a token that does not expire and has no refresh token, RFC 7009 revocation at
//! `api.todoist.com/api/v1/revoke` with the client by HTTP Basic, and the v1 API with
//! `GET /user`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Todoist profile.
#[derive(Debug, Default)]
pub struct Todoist;

const CLIENT: Client = Client { id: "c0nf0rmancet0d0ist00000000000001", secret: "c0nf0rmancet0d0istsecret0000000001" };
const EMAIL: &str = "ada@conformance.example";
const DOCS: &str = "https://todoist.com/api/v1/docs#tag/Authorization";
const API: &str = "https://todoist.com/api/v1/docs";
const SCOPES: &[&str] = &["task:add", "data:read", "data:read_write", "data:delete", "project:delete", "backups:read"];

impl Profile for Todoist {
    fn name(&self) -> &'static str {
        "todoist"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["todoist.com", "api.todoist.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["todoist.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.todoist.com/api/v1/projects", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.todoist.com/api/v1/revoke (RFC 7009: token in a form body, the client by HTTP Basic)",
            doc: DOCS,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "api.todoist.com"
            && r.path == "/api/v1/revoke"
            && r.basic().is_some()
            && field(r, "token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://todoist.com/oauth/authorize: client_id, scope (comma-separated: task:add, data:read, data:read_write, data:delete, project:delete, backups:read) and state; back to the app's redirect URI with code and state",
                doc: DOCS,
            },
            Behaviour {
                what: "token POST https://todoist.com/oauth/access_token, form body: client_id, client_secret, code; reply access_token, token_type Bearer; the token does not expire and there is no refresh token",
                doc: DOCS,
            },
            Behaviour {
                what: "revoke POST https://api.todoist.com/api/v1/revoke: RFC 7009, the token in the body, the client by HTTP Basic",
                doc: DOCS,
            },
            Behaviour {
                what: "API https://api.todoist.com/api/v1 with Authorization: Bearer; GET /user → id, email, full_name (data:read); a bad token is 401",
                doc: API,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "todoist.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "todoist.com", "/oauth/access_token") => token(ctx, r),
            ("POST", "api.todoist.com", "/api/v1/revoke") => revoke(ctx, r),
            (_, "api.todoist.com", path) => api(ctx, r, path),
            _ => json(404, json!({"error": "Not found", "http_code": 404})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let scopes = split_scopes(q(r, "scope"), ',');
    if scopes.is_empty() || q(r, "state").is_none() {
        return page(400, "scope and state are required");
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return page(400, &format!("Invalid scope {bad}"));
    }
    // The app's configured redirect URI; one sent along must be it.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri does not match the app's"),
        None => ctx.redirect_uris[0].clone(),
    };
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, scopes, offline: false, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return json(400, json!({"error": "invalid_client"})),
    };
    match ctx.grants.redeem_code(
        &field(r, "code").unwrap_or_default(),
        &client,
        field(r, "redirect_uri").as_deref(),
        None,
    ) {
        Ok((_, family)) => {
            json(200, json!({"access_token": ctx.grants.access_token(family, "c0nft0d0"), "token_type": "Bearer"}))
        }
        Err(_) => json(400, json!({"error": "invalid_grant"})),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    match r.basic() {
        Some((id, secret)) if id == CLIENT.id && secret == CLIENT.secret => {}
        _ => return json(401, json!({"error": "invalid_client"})),
    }
    // RFC 7009 §2.2: an unknown token is not an error.
    if let Some(token) = field(r, "token") {
        ctx.grants.revoke(&token, true);
    }
    json(200, json!({}))
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"error": "Unauthorized", "error_code": 401, "error_tag": "AUTH_INVALID_TOKEN", "http_code": 401}),
        );
    };
    let read = grant.scopes.iter().any(|s| matches!(s.as_str(), "data:read" | "data:read_write" | "data:delete"));
    match (r.method.as_str(), path) {
        ("GET", "/api/v1/user") if read => json(
            200,
            json!({"id": "2671355", "email": EMAIL, "full_name": "Ada Lovelace", "lang": "en", "tz_info": {"timezone": "Europe/London"}}),
        ),
        ("GET", "/api/v1/projects") if read => json(200, json!({"results": [], "next_cursor": null})),
        ("GET", "/api/v1/user" | "/api/v1/projects") => {
            json(403, json!({"error": "Insufficient scope", "error_code": 403, "http_code": 403}))
        }
        _ => json(404, json!({"error": "Not found", "http_code": 404})),
    }
}
