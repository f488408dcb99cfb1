//! Asana: authorize on `app.asana.com/-/oauth_authorize` (`response_type=code`, `state`,
//! space-separated granular `scope`, `default` full access when none is asked, PKCE S256), the
//! token endpoint `-/oauth_token` with a form body and the client id and secret in it (the
//! reply names the user in `data`), refresh tokens that stay good (a refresh returns only a new
//! access token), revocation of the refresh token on `-/oauth_revoke`, which ends its access
//! tokens too, and the REST API under `/api/1.0`, scope-checked, every reply wrapped in `data`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, found, json, oauth_error, page,
    pkce_challenge, q, split_scopes, with_query,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Asana profile.
#[derive(Debug, Default)]
pub struct Asana;

const CLIENT: Client = Client { id: "1209876543210001", secret: "c0nf0rmanceasanasecret000000001" };
const EMAIL: &str = "ada@conformance.example";
const USER_GID: &str = "1201234567890123";
const OAUTH: &str = "https://developers.asana.com/docs/oauth";
const SCOPES_DOC: &str = "https://developers.asana.com/docs/oauth-scopes";
/// The scopes the kit's app is registered with in the developer console.
const REGISTERED: &[&str] = &[
    "users:read",
    "tasks:read",
    "tasks:write",
    "tasks:delete",
    "stories:read",
    "stories:write",
    "projects:read",
    "projects:write",
    "workspaces:read",
    "openid",
    "email",
    "profile",
    "default",
];

impl Profile for Asana {
    fn name(&self) -> &'static str {
        "asana"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["app.asana.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["app.asana.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "GET",
            url: "https://app.asana.com/api/1.0/workspaces/1201234567890001/projects",
            body: None,
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://app.asana.com/-/oauth_revoke, form client_id, client_secret, token=<refresh token>; ends the refresh token and its access tokens",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.path == "/-/oauth_revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_id").as_deref() == Some(CLIENT.id)
            && r.form_param("client_secret").is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://app.asana.com/-/oauth_authorize: client_id, redirect_uri (the app's), response_type=code, state; scope space-separated, `default` (full access) when left out; code_challenge_method=S256 + code_challenge",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://app.asana.com/-/oauth_token: form grant_type=authorization_code, client_id, client_secret, redirect_uri, code, code_verifier; reply access_token, expires_in 3600, token_type bearer, data {id, gid, name, email}, refresh_token",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token with client_id, client_secret, redirect_uri, refresh_token; the reply has a new access token and no new refresh token",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke POST https://app.asana.com/-/oauth_revoke: client_id, client_secret, token (the refresh token); its access tokens end too",
                doc: OAUTH,
            },
            Behaviour {
                what: "granular scopes <resource>:<action>: users:read GET /users/me, projects:read GET /workspaces/{gid}/projects, tasks:read, tasks:write, stories:write",
                doc: SCOPES_DOC,
            },
            Behaviour {
                what: "GET https://app.asana.com/api/1.0/users/me → data {gid, email, name, resource_type user}; a bad token is 401 errors[{message: Not Authorized}]",
                doc: "https://developers.asana.com/reference/getuser",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/-/oauth_authorize") => authorize(ctx, r),
            ("POST", "/-/oauth_token") => token(ctx, r),
            ("POST", "/-/oauth_revoke") => revoke(ctx, r),
            ("GET", path) if path.starts_with("/api/1.0/") => api(ctx, r, &path["/api/1.0".len()..]),
            _ => json(404, json!({"errors": [{"message": "Not Found"}]})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client: the client_id is not a known app");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid_request: the redirect_uri does not match the app's");
    };
    let back = |error: &str| {
        let mut pairs = vec![("error", error)];
        pairs.extend(q(r, "state").map(|s| ("state", s)));
        found(&with_query(redirect, &pairs))
    };
    if q(r, "response_type") != Some("code") {
        return back("unsupported_response_type");
    }
    let mut scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.iter().any(|s| !REGISTERED.contains(&s.as_str())) {
        return back("invalid_scope");
    }
    if scopes.is_empty() {
        // No scope asked: the legacy full-access scope.
        scopes.push("default".into());
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(_) => return back("invalid_request"),
    };
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

fn client_in_body(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn user() -> serde_json::Value {
    json!({"id": 1_201_234_567_890_123_u64, "gid": USER_GID, "name": "Ada Lovelace", "email": EMAIL})
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "The request is not form-encoded");
    }
    let Some(client) = client_in_body(r) else {
        return oauth_error(401, "invalid_client", "The client_id or client_secret is not valid");
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((_, family)) => json(
                200,
                json!({
                    "access_token": ctx.grants.access_token(family, "2/1201234567890123/conf-access:"),
                    "expires_in": 3600,
                    "token_type": "bearer",
                    "data": user(),
                    "refresh_token": ctx.grants.refresh_token(family, "2/1201234567890123/conf-refresh:"),
                }),
            ),
            Err(_) => oauth_error(400, "invalid_grant", "The code is invalid, expired or was issued to another client"),
        },
        // The refresh token stays good; the reply carries a new access token only.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, _)) if field(r, "redirect_uri").is_some_and(|u| u != grant.redirect_uri) => {
                    oauth_error(400, "invalid_grant", "The redirect_uri does not match")
                }
                Ok((_, family)) => json(
                    200,
                    json!({
                        "access_token": ctx.grants.access_token(family, "2/1201234567890123/conf-access:"),
                        "expires_in": 3600,
                        "token_type": "bearer",
                        "data": user(),
                    }),
                ),
                Err(_) => oauth_error(400, "invalid_grant", "The refresh token is invalid or revoked"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "The grant_type is not supported"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if client_in_body(r).is_none() {
        return oauth_error(401, "invalid_client", "The client_id or client_secret is not valid");
    }
    match r.form_param("token") {
        Some(token) => {
            // The refresh token is what is revoked, and its access tokens end with it.
            if ctx.grants.is_refresh_token(&token) {
                ctx.grants.revoke(&token, true);
            }
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request", "token is required"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"errors": [{"message": "Not Authorized", "help": "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}]}),
        );
    };
    // `default` is full access; otherwise the endpoint's scope must have been granted.
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope || s == "default");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (scope, body) = match segments.as_slice() {
        ["users", "me"] => (
            "users:read",
            json!({"data": {"gid": USER_GID, "email": EMAIL, "name": "Ada Lovelace", "resource_type": "user", "workspaces": [{"gid": "1201234567890001", "name": "Conformance", "resource_type": "workspace"}]}}),
        ),
        ["workspaces", _, "projects"] => ("projects:read", json!({"data": []})),
        _ => return json(404, json!({"errors": [{"message": "Not Found"}]})),
    };
    if !has(scope) {
        return json(
            403,
            json!({"errors": [{"message": format!("The token does not have the required scope: {scope}")}]}),
        );
    }
    json(200, body)
}
