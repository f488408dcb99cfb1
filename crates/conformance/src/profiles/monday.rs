//! monday.com, OAuth 2.1 (the flow every new app uses): authorize on auth.monday.com with PKCE
//! S256 required and space-separated scopes, the token endpoint `/oauth_ms/oauth/token` with the
//! client id and secret and the PKCE verifier in the body, expiring access tokens with refresh
//! tokens that rotate on every refresh, RFC 7009 revocation at `/oauth_ms/oauth/revoke`, and the
//! GraphQL API on api.monday.com/v2, which takes the token as the whole `Authorization` header.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The monday.com profile.
#[derive(Debug, Default)]
pub struct Monday;

const CLIENT: Client =
    Client { id: "c0nf0rmancem0nday0000000000000a1", secret: "c0nf0rmancem0ndaysecret000000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH21: &str = "https://developer.monday.com/apps/docs/oauth-2-1";
const MIGRATION: &str = "https://developer.monday.com/apps/docs/migrating-to-the-new-oauth-flow";
const SCOPES_DOC: &str = "https://developer.monday.com/apps/docs/oauth";
const API: &str = "https://developer.monday.com/api-reference/docs/getting-started";

impl Profile for Monday {
    fn name(&self) -> &'static str {
        "monday"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["auth.monday.com", "api.monday.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["auth.monday.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "POST",
            url: "https://api.monday.com/v2",
            body: Some(r#"{"query": "{ boards (limit: 5) { id name } }"}"#),
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://auth.monday.com/oauth_ms/oauth/revoke (RFC 7009: token, with the client)",
            doc: MIGRATION,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "auth.monday.com"
            && r.path == "/oauth_ms/oauth/revoke"
            && field(r, "token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://auth.monday.com/oauth2/authorize: client_id, redirect_uri (one of the app's), state, scope (space-separated; the app's configured scopes when absent) and a PKCE S256 code_challenge",
                doc: OAUTH21,
            },
            Behaviour {
                what: "token POST https://auth.monday.com/oauth_ms/oauth/token: the code and the PKCE code_verifier, with the app's client_id and client_secret; reply access_token, refresh_token",
                doc: OAUTH21,
            },
            Behaviour {
                what: "access tokens expire; a refresh returns a new access token and a new refresh token (rotation), the used one spent",
                doc: MIGRATION,
            },
            Behaviour { what: "tokens can be revoked at the revocation endpoint", doc: MIGRATION },
            Behaviour {
                what: "scopes: me:read, boards:read, boards:write, updates:read, updates:write, webhooks:write…",
                doc: SCOPES_DOC,
            },
            Behaviour {
                what: "GraphQL POST https://api.monday.com/v2 with a JSON body {query}, the token in the Authorization header and an optional API-Version; { me { id name email } } needs me:read",
                doc: API,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "auth.monday.com", "/oauth2/authorize") => authorize(ctx, r),
            ("POST", "auth.monday.com", "/oauth_ms/oauth/token") => token(ctx, r),
            ("POST", "auth.monday.com", "/oauth_ms/oauth/revoke") => revoke(ctx, r),
            ("POST", "api.monday.com", "/v2") => graphql(ctx, r),
            _ => json(404, json!({"error_message": "Not found", "status_code": 404})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_uri must be one of the app's redirect URLs");
    };
    // OAuth 2.1: a code challenge is required, and only S256.
    let challenge = match pkce_challenge(r) {
        Ok(Some(c)) => c,
        Ok(None) => return page(400, "code_challenge is required"),
        Err(why) => return page(400, why),
    };
    let mut scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        scopes = ["me:read", "boards:read", "boards:write", "updates:read", "updates:write", "webhooks:write"]
            .map(str::to_owned)
            .to_vec();
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: true,
        code_challenge: Some(challenge),
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "client authentication failed"),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "eyJhbGciOiJIUzI1NiJ9.bW9uZGF5LWNvbmY."),
                "refresh_token": ctx.grants.refresh_token(family, "m0nday-refresh-"),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": grant.scopes.join(" "),
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
            Err(_) => oauth_error(400, "invalid_grant", "the code is invalid, used, or its verifier does not match"),
        },
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "the refresh token is invalid or used"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if !matches!(client_auth(r), Ok((_, id, secret)) if id == CLIENT.id && secret == CLIENT.secret) {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    // RFC 7009 §2.2: an unknown token is not an error; a known one ends its grant.
    if let Some(token) = field(r, "token") {
        ctx.grants.revoke(&token, true);
    }
    json(200, json!({}))
}

fn graphql(ctx: &Ctx, r: &Recorded) -> Response {
    // The token is the whole header value, without a scheme.
    let Some(grant) = r.header("authorization").and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"errors": [{"message": "Not Authenticated", "extensions": {"code": "UNAUTHENTICATED", "status_code": 401}}]}),
        );
    };
    let query = r.json().and_then(|j| j.get("query").and_then(|q| q.as_str()).map(str::to_owned)).unwrap_or_default();
    let needs = |scope: &str| {
        json(
            200,
            json!({"errors": [{"message": format!("Missing permission scope {scope}"), "extensions": {"code": "missingRequiredPermissions"}}], "data": null}),
        )
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    if query.contains("me {") || query.contains("me{") {
        if !has("me:read") {
            return needs("me:read");
        }
        return json(200, json!({"data": {"me": {"id": "58123456", "name": "Ada Lovelace", "email": EMAIL}}}));
    }
    if query.contains("boards") {
        if !has("boards:read") {
            return needs("boards:read");
        }
        return json(200, json!({"data": {"boards": [{"id": "1234567890", "name": "Conformance board"}]}}));
    }
    json(200, json!({"errors": [{"message": "Unknown query", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}))
}
