//! Typeform (US data center): authorize on api.typeform.com (`client_id`, `redirect_uri` and
//! `scope` joined by `+`, i.e. spaces; `state` optional), the token endpoint with a form body and
//! `client_id` and `client_secret` in it, a refresh token only when the `offline` scope was
//! granted, access tokens of one week, no documented revocation, and the Create and Responses
//! APIs (`GET /me` with `accounts:read`, `GET /forms` with `forms:read`).

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Typeform profile.
#[derive(Debug, Default)]
pub struct Typeform;

const CLIENT: Client =
    Client { id: "C0nf0rmanceTypef0rmC1ientId00000000000001", secret: "C0nf0rmanceTypef0rmSecret000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const APPS: &str = "https://www.typeform.com/developers/get-started/applications/";
const SCOPES: &str = "https://www.typeform.com/developers/get-started/scopes/";

impl Profile for Typeform {
    fn name(&self) -> &'static str {
        "typeform"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["api.typeform.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.typeform.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.typeform.com/forms", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        None
    }
    fn is_documented_revocation(&self, _: &Recorded) -> bool {
        false
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://api.typeform.com/oauth/authorize: client_id, redirect_uri (a registered one), scope (space-separated, written with +), state",
                doc: APPS,
            },
            Behaviour {
                what: "token POST https://api.typeform.com/oauth/token: form grant_type=authorization_code, code, client_id, client_secret, redirect_uri; reply access_token, token_type bearer, expires_in, and refresh_token with the offline scope",
                doc: APPS,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token with refresh_token, client_id, client_secret; the docs do not say whether the old refresh token stays valid, so the kit treats it as spent (the stricter reading)",
                doc: APPS,
            },
            Behaviour { what: "always add the offline scope to receive a refresh token", doc: SCOPES },
            Behaviour {
                what: "GET /me needs accounts:read, GET /forms forms:read, GET /forms/{id}/responses responses:read; a bad token is 401 AUTHENTICATION_FAILED, a missing scope 403",
                doc: SCOPES,
            },
            Behaviour { what: "no token revocation endpoint is documented", doc: APPS },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "/oauth/token") => token(ctx, r),
            ("GET", path) => api(ctx, r, path),
            _ => json(404, json!({"code": "NOT_FOUND", "description": "Endpoint not found"})),
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
    let scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        return page(400, "scope is required");
    }
    let offline = scopes.iter().any(|s| s == "offline");
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "the request must be form-encoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "client authentication failed"),
    };
    let reply = |grant: Grant, family: u64| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "tfp_conf"),
            "token_type": "bearer",
            // One week, the default lifetime of an app's access tokens.
            "expires_in": 604_800,
            "scope": grant.scopes.join(" "),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "tfr_conf"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => oauth_error(400, "invalid_grant", "the authorization code is invalid or expired"),
        },
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "the refresh token is invalid"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"code": "AUTHENTICATION_FAILED", "description": "Authentication credentials not found on the Request Headers"}),
        );
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let needed = match segments.as_slice() {
        ["me"] => "accounts:read",
        ["forms"] | ["forms", _] => "forms:read",
        ["forms", _, "responses"] => "responses:read",
        _ => return json(404, json!({"code": "NOT_FOUND", "description": "Endpoint not found"})),
    };
    if !grant.scopes.iter().any(|s| s == needed) {
        return json(403, json!({"code": "FORBIDDEN", "description": format!("the token lacks the {needed} scope")}));
    }
    match segments.as_slice() {
        ["me"] => json(
            200,
            json!({"alias": "Ada Lovelace", "email": EMAIL, "language": "en", "user_id": "01HCONF0RMANCEUSER00000001"}),
        ),
        ["forms"] => json(200, json!({"total_items": 0, "page_count": 1, "items": []})),
        ["forms", _, "responses"] => json(200, json!({"total_items": 0, "page_count": 1, "items": []})),
        _ => json(404, json!({"code": "FORM_NOT_FOUND", "description": "Non existing form"})),
    }
}
