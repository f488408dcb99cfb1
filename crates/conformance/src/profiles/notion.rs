//! Notion public integrations: `/v1/oauth/authorize` (`owner=user`), the token endpoint taking
//! HTTP Basic and a JSON body, rotating refresh tokens, `/v1/oauth/revoke`, and `GET
//! /v1/users/me`, which (like every API call) requires the `Notion-Version` header.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Notion profile.
#[derive(Debug, Default)]
pub struct Notion;

const CLIENT: Client = Client { id: "1a2b3c4d-0000-4000-8000-00000000c0f0", secret: "secret_conformance" };

impl Profile for Notion {
    fn name(&self) -> &'static str {
        "notion"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["api.notion.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.notion.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance Workspace", "Conformance Integration", "ada@conformance.example"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "POST", url: "https://api.notion.com/v1/search", body: Some(r#"{"page_size":1}"#) }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.notion.com/v1/oauth/revoke, HTTP Basic, Notion-Version, JSON body {\"token\": …}",
            doc: "https://developers.notion.com/reference/revoke-token",
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.path == "/v1/oauth/revoke"
            && r.basic().is_some()
            && r.header("notion-version").is_some()
            && r.json().and_then(|j| j.get("token").cloned()).is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize: client_id, redirect_uri, response_type=code, owner=user required",
                doc: "https://developers.notion.com/docs/authorization",
            },
            Behaviour {
                what: "token: HTTP Basic, Notion-Version, JSON body {grant_type, code, redirect_uri}; reply access_token, token_type bearer, refresh_token, bot_id, workspace_id, workspace_name, workspace_icon, owner, duplicated_template_id",
                doc: "https://developers.notion.com/reference/create-a-token",
            },
            Behaviour {
                what: "refresh: JSON {grant_type: refresh_token, refresh_token}; a new refresh token each time",
                doc: "https://developers.notion.com/reference/refresh-a-token",
            },
            Behaviour {
                what: "revoke: Basic + JSON {token}",
                doc: "https://developers.notion.com/reference/revoke-token",
            },
            Behaviour {
                what: "every API call needs Notion-Version (400 missing_version); bad token 401 unauthorized; GET /v1/users/me → the bot user with bot.workspace_name",
                doc: "https://developers.notion.com/reference/get-self",
            },
            Behaviour { what: "versioning header", doc: "https://developers.notion.com/reference/versioning" },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/oauth/authorize") => authorize(ctx, r),
            ("POST", "/v1/oauth/token") => token(ctx, r),
            ("POST", "/v1/oauth/revoke") => revoke(ctx, r),
            ("GET", "/v1/users/me") => api(ctx, r, || {
                json!({
                    "object": "user", "id": "b0b0b0b0-0000-4000-8000-00000000b0b0", "name": "Conformance Integration",
                    "avatar_url": null, "type": "bot",
                    "bot": {"owner": {"type": "workspace", "workspace": true}, "workspace_name": "Conformance Workspace"},
                    "request_id": "00000000-0000-4000-8000-000000000001",
                })
            }),
            ("POST", "/v1/search") => api(
                ctx,
                r,
                || json!({"object": "list", "results": [], "next_cursor": null, "has_more": false, "type": "page_or_database", "page_or_database": {}}),
            ),
            _ => error(404, "invalid_request_url", "Invalid request URL."),
        }
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    json(status, json!({"object": "error", "status": status, "code": code, "message": message}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Missing or invalid client_id.");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid redirect_uri.");
    };
    if q(r, "response_type") != Some("code") || q(r, "owner") != Some("user") {
        return page(400, "response_type=code and owner=user are required.");
    }
    let grant = Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn oauth_error(status: u16, error: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": error, "request_id": "00000000-0000-4000-8000-000000000002"}),
    )
}

/// The OAuth endpoints, like every other, require the API version header.
fn missing_version(r: &Recorded) -> Option<Response> {
    r.header("notion-version").is_none().then(|| {
        error(
            400,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
        )
    })
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if let Some(refusal) = missing_version(r) {
        return refusal;
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client"),
    };
    if r.media_type().as_deref() != Some("application/json") {
        return error(400, "validation_error", "body failed validation: expected a JSON body.");
    }
    let reply = |_grant: &Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "ntn_conf"),
                "token_type": "bearer",
                "refresh_token": ctx.grants.refresh_token(family, "nrt_conf"),
                "bot_id": "b0b0b0b0-0000-4000-8000-00000000b0b0",
                "workspace_id": "w0w0w0w0-0000-4000-8000-00000000w0w0",
                "workspace_name": "Conformance Workspace",
                "workspace_icon": null,
                "owner": {"type": "user", "user": {"object": "user", "id": "u0u0u0u0-0000-4000-8000-00000000u0u0", "name": "Ada Lovelace",
                    "avatar_url": null, "type": "person", "person": {"email": "ada@conformance.example"}}},
                "duplicated_template_id": null,
                "request_id": "00000000-0000-4000-8000-000000000003",
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = field(r, "code").unwrap_or_default();
            match ctx.grants.redeem_code(&code, &client, field(r, "redirect_uri").as_deref(), None) {
                Ok((grant, family)) => reply(&grant, family),
                Err(Refusal::RedirectMismatch) => oauth_error(400, "invalid_grant"),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        Some("refresh_token") => {
            let token = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&token, &client, true) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if let Some(refusal) = missing_version(r) {
        return refusal;
    }
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => {}
        _ => return oauth_error(401, "invalid_client"),
    }
    match r.json().and_then(|j| j.get("token").and_then(|t| t.as_str()).map(str::to_owned)) {
        Some(t) if ctx.grants.revoke(&t, true) => {
            json(200, json!({"request_id": "00000000-0000-4000-8000-000000000004"}))
        }
        Some(_) => oauth_error(400, "invalid_grant"),
        None => error(400, "validation_error", "body failed validation: body.token should be defined."),
    }
}

fn api(ctx: &Ctx, r: &Recorded, body: impl FnOnce() -> serde_json::Value) -> Response {
    if let Some(refusal) = missing_version(r) {
        return refusal;
    }
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return error(401, "unauthorized", "API token is invalid.");
    }
    json(200, body())
}
