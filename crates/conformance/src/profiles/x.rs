//! X (Twitter) API v2 OAuth 2.0: authorize on x.com (`response_type=code`, space-separated
//! `scope`, `state` and PKCE all required), the token endpoint on api.x.com with HTTP Basic for a
//! confidential client and a form body (a refresh token only with `offline.access`, a new one on
//! every refresh), RFC 7009 revocation at `/2/oauth2/revoke`, and the v2 API, where
//! `GET /2/users/me` needs `tweet.read` and `users.read` and a bad token is 401.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The X profile.
#[derive(Debug, Default)]
pub struct X;

const CLIENT: Client =
    Client { id: "Y29uZm9ybWFuY2UteC1jbGllbnQ6MTpjaQ", secret: "c0nf0rmance-x-client-secret-0123456789abcdefghijklmn" };
const USER_ID: &str = "1600000000000000001";
const CODE_FLOW: &str = "https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code";
const STEPS: &str = "https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token";

impl Profile for X {
    fn name(&self) -> &'static str {
        "x"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["x.com", "api.x.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.x.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada_lovelace", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.x.com/2/tweets/search/recent", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.x.com/2/oauth2/revoke, form token + token_type_hint, a confidential client by HTTP Basic",
            doc: STEPS,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "api.x.com"
            && r.path == "/2/oauth2/revoke"
            && basic_client(r).is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://x.com/i/oauth2/authorize: response_type=code, client_id, redirect_uri, scope (space-separated), state, code_challenge + code_challenge_method all required",
                doc: STEPS,
            },
            Behaviour {
                what: "token POST https://api.x.com/2/oauth2/token: form code, grant_type=authorization_code, redirect_uri, code_verifier; a confidential client authenticates with HTTP Basic",
                doc: STEPS,
            },
            Behaviour {
                what: "access tokens live two hours; a refresh token is issued only with offline.access; grant_type=refresh_token gives a new access token (and refresh token)",
                doc: CODE_FLOW,
            },
            Behaviour {
                what: "revoke POST https://api.x.com/2/oauth2/revoke: form token, token_type_hint",
                doc: STEPS,
            },
            Behaviour {
                what: "GET https://api.x.com/2/users/me (tweet.read, users.read) → data {id, name, username}; GET /2/tweets/search/recent needs tweet.read and users.read",
                doc: "https://docs.x.com/x-api/users/lookup/quickstart/authenticated-lookup",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "x.com", "/i/oauth2/authorize") => authorize(ctx, r),
            ("POST", "api.x.com", "/2/oauth2/token") => token(ctx, r),
            ("POST", "api.x.com", "/2/oauth2/revoke") => revoke(ctx, r),
            ("GET", "api.x.com", path) if path.starts_with("/2/") => api(ctx, r, path),
            _ => problem(404, "Not Found Error", "The requested resource was not found"),
        }
    }
}

/// X's v2 error shape (an RFC 7807 problem).
fn problem(status: u16, title: &str, detail: &str) -> Response {
    json(status, json!({"title": title, "type": "about:blank", "status": status, "detail": detail}))
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Something went wrong: invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Something went wrong: invalid redirect_uri");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() || q(r, "state").is_none() {
        return page(400, "response_type=code, scope and state are required");
    }
    // PKCE is required: the kit accepts S256 only (Patchbay never sends plain).
    let challenge = match pkce_challenge(r) {
        Ok(Some(c)) => c,
        Ok(None) => return page(400, "code_challenge is required"),
        Err(why) => return page(400, why),
    };
    let offline = scopes.iter().any(|s| s == "offline.access");
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline,
        code_challenge: Some(challenge),
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Value passed for the token was invalid.");
    }
    let Some(client) = basic_client(r) else {
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header");
    };
    let reply = |grant: Grant, family: u64| {
        let mut body = json!({
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": ctx.grants.access_token(family, "conf-x-access-"),
            "scope": grant.scopes.join(" "),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "conf-x-refresh-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => oauth_error(400, "invalid_request", "Value passed for the authorization code was invalid."),
        },
        // A new refresh token every time; the kit spends the old one, the strict reading.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_request", "Value passed for the token was invalid."),
            }
        }
        _ => oauth_error(400, "invalid_request", "Missing required parameter [grant_type]."),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header");
    }
    match r.form_param("token") {
        Some(token) => {
            // RFC 7009 §2.1: a refresh token takes the grant's access tokens with it.
            let whole = ctx.grants.is_refresh_token(&token);
            ctx.grants.revoke(&token, whole);
            json(200, json!({"revoked": true}))
        }
        None => oauth_error(400, "invalid_request", "Missing required parameter [token]."),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return problem(401, "Unauthorized", "Unauthorized");
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    if !(has("tweet.read") && has("users.read")) {
        return problem(403, "Forbidden", "Missing scopes: tweet.read users.read");
    }
    match path {
        "/2/users/me" => {
            json(200, json!({"data": {"id": USER_ID, "name": "Ada Lovelace", "username": "ada_lovelace"}}))
        }
        "/2/tweets/search/recent" => json(200, json!({"meta": {"result_count": 0}})),
        _ => problem(404, "Not Found Error", "The requested resource was not found"),
    }
}
