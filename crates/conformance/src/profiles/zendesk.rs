//! Zendesk OAuth on the account's own host (`{subdomain}.zendesk.com`, here the kit's
//! `conformance` subdomain): authorize at `/oauth/authorizations/new` (`response_type=code`,
//! `client_id`, `redirect_uri`, space-separated `scope`, optional PKCE S256); the token endpoint
//! `/oauth/tokens` with a JSON body carrying `client_id` and `client_secret`, expiring access
//! tokens and refresh tokens (each refresh returns a new pair and deletes the previous one);
//! revocation of the token in use with `DELETE /api/v2/oauth/tokens/current.json`; and the
//! Support API under `/api/v2` with read/write and resource scopes.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::{IntoResponse, Response};

/// The Zendesk profile.
#[derive(Debug, Default)]
pub struct Zendesk;

const CLIENT: Client =
    Client { id: "patchbay_conformance", secret: "c0nf0rmance0zendesk0secret0123456789abcdef0123456789abcdef" };
/// The kit's Zendesk account.
const HOST: &str = "conformance.zendesk.com";
const GRANT_TYPES: &str = "https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/";
const REFRESH: &str = "https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token";
const REVOKE: &str = "https://developer.zendesk.com/documentation/api-basics/authentication/revoking-oauth-token";

impl Profile for Zendesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada@conformance.example", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://conformance.zendesk.com/api/v2/tickets.json", body: None }]
    }
    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[("subdomain", "conformance")]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "DELETE https://{subdomain}.zendesk.com/api/v2/oauth/tokens/current.json with the token itself as Bearer → 204",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "DELETE" && r.host == HOST && r.path == "/api/v2/oauth/tokens/current.json" && r.bearer().is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://{subdomain}.zendesk.com/oauth/authorizations/new: response_type=code, client_id, redirect_uri, scope (space-separated), state; PKCE code_challenge with code_challenge_method S256",
                doc: GRANT_TYPES,
            },
            Behaviour {
                what: "token POST /oauth/tokens, parameters formatted as JSON: grant_type=authorization_code, code, client_id, client_secret, redirect_uri, code_verifier with PKCE; reply access_token, token_type bearer, scope, expires_in, refresh_token, refresh_token_expires_in",
                doc: GRANT_TYPES,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token with refresh_token, client_id, client_secret returns a new access and refresh token and invalidates the previous ones",
                doc: REFRESH,
            },
            Behaviour {
                what: "revoke the token in use: DELETE /api/v2/oauth/tokens/current.json, 204 No Content",
                doc: REVOKE,
            },
            Behaviour {
                what: "scopes: read (GET endpoints), write (POST, PUT, DELETE), resource scopes such as tickets:read, users:read; GET /api/v2/users/me.json → user.id, user.email, user.name; a bad token is 401 invalid_token",
                doc: GRANT_TYPES,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        if r.host != HOST {
            return json(404, json!({"error": "InvalidEndpoint", "description": "Not found"}));
        }
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth/authorizations/new") => authorize(ctx, r),
            ("POST", "/oauth/tokens") => token(ctx, r),
            ("DELETE", "/api/v2/oauth/tokens/current.json") => match r.bearer() {
                // The token record holds both halves of the pair, so both end.
                Some(t) if ctx.grants.revoke(t, true) => axum::http::StatusCode::NO_CONTENT.into_response(),
                _ => invalid_token(),
            },
            ("GET", path) if path.starts_with("/api/v2/") => api(ctx, r, path),
            _ => json(404, json!({"error": "InvalidEndpoint", "description": "Not found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid authorization request: unknown client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid authorization request: redirect_uri is not one of the client's redirect URLs");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "Invalid authorization request: response_type=code and scope are required");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    // A client created since April 30, 2026 gets expiring tokens and a refresh token.
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: true,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/json") {
        return oauth_error(400, "invalid_request", "The parameters must be formatted as JSON");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Client authentication failed"),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "conf-zendesk-"),
                "token_type": "bearer",
                "scope": grant.scopes.join(" "),
                "expires_in": 1800,
                "refresh_token": ctx.grants.refresh_token(family, "conf-zendesk-refresh-"),
                "refresh_token_expires_in": 2_592_000,
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
            Err(Refusal::Pkce) => oauth_error(400, "invalid_grant", "The code_verifier does not match"),
            Err(_) => {
                oauth_error(400, "invalid_grant", "The provided authorization grant is invalid, expired or revoked")
            }
        },
        // The previous refresh token is deleted by its use.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "Token has been expired or revoked."),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "The grant type is not supported"),
    }
}

fn invalid_token() -> Response {
    json(
        401,
        json!({"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}),
    )
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else { return invalid_token() };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    let forbidden = || {
        json(
            403,
            json!({"error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."}),
        )
    };
    match path {
        "/api/v2/users/me.json" if has("read") || has("users:read") => json(
            200,
            json!({"user": {"id": 35436, "url": "https://conformance.zendesk.com/api/v2/users/35436.json",
                            "name": "Ada Lovelace", "email": "ada@conformance.example", "role": "admin"}}),
        ),
        "/api/v2/tickets.json" if has("read") || has("tickets:read") => {
            json(200, json!({"tickets": [], "count": 0, "next_page": null, "previous_page": null}))
        }
        "/api/v2/users/me.json" | "/api/v2/tickets.json" => forbidden(),
        _ => json(404, json!({"error": "InvalidEndpoint", "description": "Not found"})),
    }
}
