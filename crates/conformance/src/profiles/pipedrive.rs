//! Pipedrive: Marketplace app OAuth on oauth.pipedrive.com. The authorize call takes
//! `client_id`, `redirect_uri` and `state` (the app's scopes are fixed in the Developer Hub, so
//! the consent grants them all); the token endpoint takes HTTP Basic and a form body and answers
//! with `api_domain`, the company's own API host; refresh tokens; RFC 7009 revocation with Basic;
//! and the API on `{company}.pipedrive.com` (`/api/v1/users/me`, `/api/v2/deals`).

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Pipedrive profile.
#[derive(Debug, Default)]
pub struct Pipedrive;

const CLIENT: Client = Client { id: "c0nf0rmance0pipedrive01", secret: "c0nf0rmance-pipedrive-secret-0123456789abcd" };
/// The company host the emulated token reply names as `api_domain`.
const COMPANY: &str = "conformance.pipedrive.com";
/// The scopes the kit's app was registered with in the Developer Hub: a consent grants all of them.
const APP_SCOPES: &[&str] = &[
    "base",
    "deals:read",
    "deals:full",
    "contacts:read",
    "contacts:full",
    "activities:full",
    "leads:full",
    "search:read",
];
const FLOW: &str = "https://pipedrive.readme.io/docs/marketplace-oauth-authorization";
const REFERENCE: &str = "https://developers.pipedrive.com/docs/api/v1/Oauth";
const SCOPES: &str = "https://pipedrive.readme.io/docs/marketplace-scopes-and-permissions-explanations";
const REVOKE: &str = "https://pipedrive.readme.io/docs/app-uninstallation";

impl Profile for Pipedrive {
    fn name(&self) -> &'static str {
        "pipedrive"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["oauth.pipedrive.com", COMPANY]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["oauth.pipedrive.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada@conformance.example", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://conformance.pipedrive.com/api/v2/deals", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://oauth.pipedrive.com/oauth/revoke (RFC 7009), HTTP Basic, form token=<refresh token>",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "oauth.pipedrive.com"
            && r.path == "/oauth/revoke"
            && r.basic().is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://oauth.pipedrive.com/oauth/authorize: client_id and redirect_uri required, state optional; the consent shows the app's scopes, accepted all or none",
                doc: FLOW,
            },
            Behaviour {
                what: "scopes are set on the app in the Developer Hub (base is always enabled), not on the authorize URL",
                doc: SCOPES,
            },
            Behaviour {
                what: "token POST https://oauth.pipedrive.com/oauth/token: Authorization: Basic base64(client_id:client_secret), form grant_type=authorization_code, code, redirect_uri; reply access_token, token_type Bearer, refresh_token, scope, expires_in, api_domain",
                doc: REFERENCE,
            },
            Behaviour {
                what: "refresh: Basic, form grant_type=refresh_token, refresh_token; the reply has a refresh token again; a refresh token expires when unused for 60 days",
                doc: REFERENCE,
            },
            Behaviour {
                what: "revoke POST /oauth/revoke conforms to RFC 7009, HTTP Basic; invalidates the refresh token",
                doc: REVOKE,
            },
            Behaviour {
                what: "API calls go to api_domain: GET /api/v1/users/me (base) → data.id, data.email, data.name; GET /api/v2/deals needs deals:read or deals:full; a bad token is 401",
                doc: SCOPES,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "oauth.pipedrive.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "oauth.pipedrive.com", "/oauth/token") => token(ctx, r),
            ("POST", "oauth.pipedrive.com", "/oauth/revoke") => revoke(ctx, r),
            ("GET", COMPANY, path) if path.starts_with("/api/") => api(ctx, r, path),
            _ => json(404, json!({"success": false, "error": "Unknown method .", "errorCode": 404})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_uri does not match the app's callback URL");
    };
    // Whatever the URL says, the app's registered scopes are what the user accepts.
    let scopes = APP_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    }
    let Some(client) = basic_client(r) else {
        return oauth_error(401, "invalid_client", "Invalid client credentials");
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "v1u:conf-pipedrive-"),
                "token_type": "Bearer",
                "refresh_token": ctx.grants.refresh_token(family, "conf-pipedrive-refresh-"),
                "scope": grant.scopes.join(","),
                "expires_in": 3599,
                "api_domain": format!("https://{COMPANY}"),
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
            Err(_) => oauth_error(400, "invalid_grant", "Invalid or expired authorization code"),
        },
        // The reply carries a refresh token again; whether the old one stays good is not
        // documented, so the kit keeps it (Patchbay stores the newest either way).
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid refresh token"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return oauth_error(401, "invalid_client", "Invalid client credentials");
    }
    match r.form_param("token") {
        // RFC 7009 §2.1: revoking the refresh token ends the access tokens of its grant too.
        Some(token) => {
            ctx.grants.revoke(&token, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request", "token is required"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"success": false, "error": "unauthorized access", "errorCode": 401}));
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/api/v1/users/me" => json(
            200,
            json!({"success": true, "data": {
                "id": 13370001, "name": "Ada Lovelace", "email": "ada@conformance.example",
                "company_id": 7770001, "company_domain": "conformance", "active_flag": true,
            }}),
        ),
        "/api/v2/deals" if has("deals:read") || has("deals:full") => {
            json(200, json!({"success": true, "data": [], "additional_data": {"next_cursor": null}}))
        }
        "/api/v2/deals" => json(403, json!({"success": false, "error": "Scope and URL mismatch", "errorCode": 403})),
        _ => json(404, json!({"success": false, "error": "Unknown method .", "errorCode": 404})),
    }
}
