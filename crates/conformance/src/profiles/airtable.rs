//! Airtable: authorize on airtable.com (`client_id`, `redirect_uri`, `response_type=code`,
//! space-separated `scope` with at least one scope, `state`, and PKCE `code_challenge` with
//! `S256`, all required; errors go back to the redirect URI), the token endpoint with a form body
//! and, for an integration with a secret, HTTP Basic (reply `expires_in` 3600 and
//! `refresh_expires_in`), single-use refresh tokens, no revocation endpoint, and the Web API on
//! api.airtable.com (`GET /v0/meta/whoami`, `GET /v0/meta/bases` with `schema.bases:read`).

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, found, json, oauth_error, page,
    pkce_challenge, q, split_scopes, with_query,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Airtable profile.
#[derive(Debug, Default)]
pub struct Airtable;

const CLIENT: Client =
    Client { id: "c0nf0rma-nce0-4air-tab1-e00000000001", secret: "c0nf0rmanceAirtab1eSecret000000000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://airtable.com/developers/web/api/oauth-reference";
const WHOAMI: &str = "https://airtable.com/developers/web/api/get-user-id-scopes";

impl Profile for Airtable {
    fn name(&self) -> &'static str {
        "airtable"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["airtable.com", "api.airtable.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["airtable.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "usrC0nf0rmance01"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.airtable.com/v0/meta/bases", body: None }]
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
                what: "authorize https://airtable.com/oauth2/v1/authorize: client_id, redirect_uri (exactly a registered one), response_type=code, scope (space-separated, at least one), state, code_challenge and code_challenge_method=S256; errors are redirected back with error and state",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://airtable.com/oauth2/v1/token: application/x-www-form-urlencoded; Authorization: Basic when the integration has a client secret (client_id optional then); code, redirect_uri, grant_type, code_verifier; reply access_token, refresh_token, token_type, scope, expires_in, refresh_expires_in",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh grant_type=refresh_token: returns a new access token and a new refresh token; a refresh token is good for one use",
                doc: OAUTH,
            },
            Behaviour {
                what: "GET https://api.airtable.com/v0/meta/whoami needs no scope and gives id, plus email with user.email:read; a bad token is 401 AUTHENTICATION_REQUIRED",
                doc: WHOAMI,
            },
            Behaviour {
                what: "GET /v0/meta/bases needs schema.bases:read; without it the reply is 403",
                doc: "https://airtable.com/developers/web/api/list-bases",
            },
            Behaviour { what: "the OAuth reference documents no token revocation endpoint", doc: OAUTH },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "airtable.com", "/oauth2/v1/authorize") => authorize(ctx, r),
            ("POST", "airtable.com", "/oauth2/v1/token") => token(ctx, r),
            ("GET", "api.airtable.com", path) => api(ctx, r, path),
            _ => json(404, json!({"error": "NOT_FOUND"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid redirect_uri");
    };
    // Once the redirect URI is trusted, errors go back to it.
    let refuse = |why: &str| {
        let mut pairs = vec![("error", "invalid_request"), ("error_description", why)];
        if let Some(state) = q(r, "state") {
            pairs.push(("state", state));
        }
        found(&with_query(redirect, &pairs))
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() || q(r, "state").is_none() {
        return refuse("response_type=code, at least one scope and state are required");
    }
    // PKCE is required, S256 only.
    let challenge = match pkce_challenge(r) {
        Ok(Some(c)) => c,
        Ok(None) => return refuse("code_challenge is required"),
        Err(why) => return refuse(why),
    };
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
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    // The kit's integration has a secret, so it authenticates by Basic.
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Client authentication failed"),
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "oaaConf."),
                "refresh_token": ctx.grants.refresh_token(family, "oarConf."),
                "token_type": "Bearer",
                "scope": grant.scopes.join(" "),
                "expires_in": 3600,
                "refresh_expires_in": 5_184_000,
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
            Err(_) => oauth_error(400, "invalid_grant", "The authorization code is invalid"),
        },
        // One use: the refresh token is spent by this refresh.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "Token has been expired or revoked."),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}));
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/v0/meta/whoami" => {
            let mut me = json!({"id": "usrC0nf0rmance01", "scopes": grant.scopes});
            if has("user.email:read") {
                me["email"] = json!(EMAIL);
            }
            json(200, me)
        }
        "/v0/meta/bases" if has("schema.bases:read") => json(200, json!({"bases": []})),
        "/v0/meta/bases" => json(
            403,
            json!({"error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "message": "Invalid permissions, or the requested model was not found."}}),
        ),
        _ => json(404, json!({"error": "NOT_FOUND"})),
    }
}
