//! Linear: authorize on linear.app (comma-separated scopes, `read` always granted, PKCE S256),
//! the token endpoint on api.linear.app with a form body and the client id and secret in it
//! (reply scope space-separated), refresh tokens that rotate, revocation by posting the access
//! token as bearer to `/oauth/revoke`, and the GraphQL API, which answers a bad token with
//! HTTP 401 and an `errors` list.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, pkce_challenge, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Linear profile.
#[derive(Debug, Default)]
pub struct Linear;

const CLIENT: Client =
    Client { id: "c0nf0rmance1inear0000000000000a1", secret: "c0nf0rmance1inearsecret00000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://linear.app/developers/oauth-2-0-authentication";
const GRAPHQL: &str = "https://linear.app/developers/graphql";

impl Profile for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["linear.app", "api.linear.app"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.linear.app"]
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
            url: "https://api.linear.app/graphql",
            body: Some(r#"{"query": "{ issues(first: 5) { nodes { id title } } }"}"#),
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.linear.app/oauth/revoke with Authorization: Bearer <access token>",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.host == "api.linear.app" && r.path == "/oauth/revoke" && r.bearer().is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://linear.app/oauth/authorize: client_id, redirect_uri, response_type=code, scope (comma-separated; read always present) required; state, prompt=consent, actor optional; PKCE code_challenge + code_challenge_method",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.linear.app/oauth/token: application/x-www-form-urlencoded, code, redirect_uri, client_id, client_secret, grant_type; reply access_token, token_type Bearer, expires_in, scope (space-separated), refresh_token",
                doc: OAUTH,
            },
            Behaviour {
                what: "every OAuth application uses refresh tokens since 2026-04-01; grant_type=refresh_token returns a new access token and refresh token",
                doc: OAUTH,
            },
            Behaviour {
                what: "GraphQL POST https://api.linear.app/graphql with Authorization: Bearer; { viewer { id name email } } names the user",
                doc: GRAPHQL,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "linear.app", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "api.linear.app", "/oauth/token") => token(ctx, r),
            ("POST", "api.linear.app", "/oauth/revoke") => revoke(ctx, r),
            ("POST", "api.linear.app", "/graphql") => graphql(ctx, r),
            _ => json(404, json!({"errors": [{"message": "Not found"}]})),
        }
    }
}

fn oauth_error(status: u16, error: &str) -> Response {
    json(status, json!({"error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid redirect_uri");
    };
    if q(r, "response_type") != Some("code") || q(r, "scope").is_none() {
        return page(400, "response_type=code and scope are required");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(why) => return page(400, why),
    };
    let mut scopes = split_scopes(q(r, "scope"), ',');
    // `read` is always granted.
    if !scopes.iter().any(|s| s == "read") {
        scopes.insert(0, "read".into());
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: true,
        code_challenge: challenge,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client"),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "lin_oauth_conf"),
                "token_type": "Bearer",
                "expires_in": 86399,
                "scope": grant.scopes.join(" "),
                "refresh_token": ctx.grants.refresh_token(family, "lin_refresh_conf"),
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
            Err(_) => oauth_error(400, "invalid_grant"),
        },
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    match r.bearer() {
        // Revoking the access token ends the app's authorization, refresh token included.
        Some(token) if ctx.grants.revoke(token, true) => json(200, json!({})),
        _ => oauth_error(400, "invalid_request"),
    }
}

fn graphql(ctx: &Ctx, r: &Recorded) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"errors": [{"message": "Authentication required, not authenticated", "extensions": {"code": "AUTHENTICATION_ERROR"}}]}),
        );
    }
    let query = r.json().and_then(|j| j.get("query").and_then(|q| q.as_str()).map(str::to_owned)).unwrap_or_default();
    if query.contains("viewer") {
        return json(
            200,
            json!({"data": {"viewer": {"id": "0f6e3a56-1d2b-4c8e-9a3f-5b7d2c1e4f60", "name": "Ada Lovelace", "email": EMAIL}}}),
        );
    }
    if query.contains("issues") {
        return json(200, json!({"data": {"issues": {"nodes": []}}}));
    }
    json(
        400,
        json!({"errors": [{"message": "Cannot query field", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}),
    )
}
