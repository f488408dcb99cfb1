//! Calendly: authorize on auth.calendly.com (`client_id`, `response_type=code`, `redirect_uri`,
//! PKCE S256 as Calendly asks of every app, an optional space-separated `scope`), the token
//! endpoint with a form body and the web client by HTTP Basic (reply with `expires_in` 7200,
//! `owner` and `organization` URIs), single-use refresh tokens (each refresh returns a new one
//! and revokes the one used), revocation by form `client_id`, `client_secret`, `token`, and the
//! API on api.calendly.com (`GET /users/me`, `GET /scheduled_events`) with per-scope checks.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Calendly profile.
#[derive(Debug, Default)]
pub struct Calendly;

const CLIENT: Client =
    Client { id: "c0nf0rmanceCa1end1yC1ientId000000000000001", secret: "c0nf0rmanceCa1end1ySecret0000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const USER: &str = "https://api.calendly.com/users/CONF0RMANCEUSER1";
const ORG: &str = "https://api.calendly.com/organizations/CONF0RMANCE0RG1";
const AUTHORIZE: &str = "https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/get-oauth-authorize";
const TOKEN: &str = "https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token";
const ROTATION: &str = "https://developer.calendly.com/refresh-token-rotation-guide";
const REVOKE: &str = "https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-revoke";
const SCOPES: &str = "https://developer.calendly.com/scopes";

impl Profile for Calendly {
    fn name(&self) -> &'static str {
        "calendly"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["auth.calendly.com", "api.calendly.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["auth.calendly.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.calendly.com/event_types", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://auth.calendly.com/oauth/revoke, form client_id, client_secret, token (the access or the refresh token)",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "auth.calendly.com"
            && r.path == "/oauth/revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_id").is_some()
            && r.form_param("client_secret").is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://auth.calendly.com/oauth/authorize: client_id, response_type=code, redirect_uri (exactly a registered one); PKCE code_challenge with S256 recommended for every app",
                doc: AUTHORIZE,
            },
            Behaviour {
                what: "token POST https://auth.calendly.com/oauth/token: application/x-www-form-urlencoded; a web client sends client_id and client_secret by HTTP Basic; reply access_token, refresh_token, token_type Bearer, expires_in 7200, created_at, owner, organization",
                doc: TOKEN,
            },
            Behaviour {
                what: "refresh tokens are single use: each successful refresh returns a new refresh token and revokes the one used; reusing it fails with invalid_grant",
                doc: ROTATION,
            },
            Behaviour {
                what: "revoke POST https://auth.calendly.com/oauth/revoke: form client_id, client_secret and token (an access or refresh token), all required; 400 invalid_request otherwise (the kit ends the token's whole grant)",
                doc: REVOKE,
            },
            Behaviour {
                what: "API calls need the matching scope: GET /users/me users:read, GET /scheduled_events scheduled_events:read, GET /event_types event_types:read; a bad token is 401 Unauthenticated, a missing scope 403 Permission Denied",
                doc: SCOPES,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "auth.calendly.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "auth.calendly.com", "/oauth/token") => token(ctx, r),
            ("POST", "auth.calendly.com", "/oauth/revoke") => revoke(ctx, r),
            ("GET", "api.calendly.com", path) => api(ctx, r, path),
            _ => json(
                404,
                json!({"title": "Resource Not Found", "message": "The server could not find the requested resource."}),
            ),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "The redirect uri included is not valid.");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "unsupported_response_type");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(why) => return page(400, why),
    };
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes: split_scopes(q(r, "scope"), ' '),
        offline: true,
        code_challenge: challenge,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "The request is missing a required parameter");
    }
    // A web client authenticates by HTTP Basic; a secret in the body is not the documented way.
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Client authentication failed"),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "token_type": "Bearer",
                "access_token": ctx.grants.access_token(family, "eyJraWQiOiJjb25mb3JtYW5jZSJ9."),
                "refresh_token": ctx.grants.refresh_token(family, "calconfrefresh"),
                "scope": grant.scopes.join(" "),
                "created_at": 1_764_633_600,
                "expires_in": 7200,
                "owner": USER,
                "organization": ORG,
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => oauth_error(400, "invalid_grant", "The provided authorization grant is invalid"),
        },
        // Single use: the refresh token is revoked by this refresh.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "The provided authorization grant is invalid"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "The authorization grant type is not supported"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    let (Some(id), Some(secret), Some(token)) =
        (r.form_param("client_id"), r.form_param("client_secret"), r.form_param("token"))
    else {
        return oauth_error(400, "invalid_request", "client_id, client_secret and token are required");
    };
    if id != CLIENT.id || secret != CLIENT.secret {
        return oauth_error(403, "invalid_client", "Client authentication failed");
    }
    // The docs say only that the token is revoked; the kit ends its whole grant (so an access
    // token minted before a refresh dies too), and answers an unknown token alike (RFC 7009 §2.2).
    ctx.grants.revoke(&token, true);
    json(200, json!({}))
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"title": "Unauthenticated", "message": "The access token is invalid"}));
    };
    let needed = match path {
        "/users/me" => "users:read",
        "/scheduled_events" => "scheduled_events:read",
        "/event_types" => "event_types:read",
        _ => {
            return json(
                404,
                json!({"title": "Resource Not Found", "message": "The server could not find the requested resource."}),
            );
        }
    };
    if !grant.scopes.iter().any(|s| s == needed) {
        return json(
            403,
            json!({"title": "Permission Denied", "message": format!("This action requires the {needed} scope")}),
        );
    }
    let pagination = json!({"count": 0, "next_page": null, "previous_page": null, "next_page_token": null, "previous_page_token": null});
    match path {
        "/users/me" => json(
            200,
            json!({"resource": {
                "uri": USER, "name": "Ada Lovelace", "slug": "ada", "email": EMAIL,
                "scheduling_url": "https://calendly.com/ada", "timezone": "Europe/London",
                "current_organization": ORG, "resource_type": "User",
            }}),
        ),
        _ => json(200, json!({"collection": [], "pagination": pagination})),
    }
}
