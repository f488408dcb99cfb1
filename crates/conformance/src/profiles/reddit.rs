//! Reddit: authorize on www.reddit.com (`client_id`, `response_type=code`, `state`,
//! `redirect_uri`, `duration`, space-separated `scope`, all required; a refresh token only with
//! `duration=permanent`), the token endpoint `/api/v1/access_token` with HTTP Basic and a form
//! body (refresh tokens that do not change), RFC 7009 revocation at `/api/v1/revoke_token`
//! (a refresh token takes its access tokens with it), and the API on oauth.reddit.com, which
//! wants a descriptive User-Agent and answers a bad token with 401.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::{IntoResponse, Response};

/// The Reddit profile.
#[derive(Debug, Default)]
pub struct Reddit;

const CLIENT: Client = Client { id: "c0nfRedd1tCl1ent0001", secret: "c0nf0rmance-redd1t-secret-0001" };
const OAUTH: &str = "https://github.com/reddit-archive/reddit/wiki/OAuth2";
const RULES: &str = "https://github.com/reddit-archive/reddit/wiki/API";

impl Profile for Reddit {
    fn name(&self) -> &'static str {
        "reddit"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.reddit.com", "oauth.reddit.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["www.reddit.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada_lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://oauth.reddit.com/r/rust/new", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://www.reddit.com/api/v1/revoke_token, HTTP Basic, form token + token_type_hint",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "www.reddit.com"
            && r.path == "/api/v1/revoke_token"
            && basic_client(r).is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://www.reddit.com/api/v1/authorize: client_id, response_type=code, state, redirect_uri, duration (temporary | permanent), scope (space-separated)",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://www.reddit.com/api/v1/access_token: HTTP Basic, form grant_type=authorization_code, code, redirect_uri; reply access_token, token_type bearer, expires_in 3600, scope, refresh_token (duration=permanent only)",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: Basic, form grant_type=refresh_token, refresh_token; a new access token, the same refresh token",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke POST /api/v1/revoke_token, Basic, form token + token_type_hint; revoking a refresh token also revokes its access tokens; HTTP 204",
                doc: OAUTH,
            },
            Behaviour {
                what: "API on https://oauth.reddit.com with Authorization: bearer; a unique descriptive User-Agent (<platform>:<app ID>:<version string>) is required",
                doc: RULES,
            },
            Behaviour {
                what: "GET /api/v1/me (identity) → name, id; GET /r/{subreddit}/new (read)",
                doc: "https://www.reddit.com/dev/api/oauth",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "www.reddit.com", "/api/v1/authorize") => authorize(ctx, r),
            ("POST", "www.reddit.com", "/api/v1/access_token") => token(ctx, r),
            ("POST", "www.reddit.com", "/api/v1/revoke_token") => revoke(ctx, r),
            ("GET", "oauth.reddit.com", path) => api(ctx, r, path),
            _ => json(404, json!({"message": "Not Found", "error": 404})),
        }
    }
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

/// Reddit's token endpoint answers errors as `{"error": "..."}`.
fn error(status: u16, error: &str) -> Response {
    json(status, json!({"error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid client id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid redirect_uri parameter");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    let duration = q(r, "duration");
    if q(r, "response_type") != Some("code")
        || scopes.is_empty()
        || q(r, "state").is_none()
        || !matches!(duration, Some("temporary" | "permanent"))
    {
        return page(400, "bad request: response_type, state, duration and scope are required");
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: duration == Some("permanent"),
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return error(400, "unsupported_grant_type");
    }
    let Some(client) = basic_client(r) else { return json(401, json!({"message": "Unauthorized", "error": 401})) };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &field(r, "code").unwrap_or_default(),
                &client,
                field(r, "redirect_uri").as_deref(),
                None,
            ) {
                Ok((grant, family)) => {
                    let mut body = json!({
                        "access_token": ctx.grants.access_token(family, "conf-reddit-access-"),
                        "token_type": "bearer",
                        "expires_in": 3600,
                        "scope": grant.scopes.join(" "),
                    });
                    if grant.offline {
                        body["refresh_token"] = json!(ctx.grants.refresh_token(family, "conf-reddit-refresh-"));
                    }
                    json(200, body)
                }
                Err(_) => error(400, "invalid_grant"),
            }
        }
        // The refresh token does not change; the reply restates it.
        Some("refresh_token") => {
            let refresh = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&refresh, &client, false) {
                Ok((grant, family)) => json(
                    200,
                    json!({
                        "access_token": ctx.grants.access_token(family, "conf-reddit-access-"),
                        "token_type": "bearer",
                        "expires_in": 3600,
                        "scope": grant.scopes.join(" "),
                        "refresh_token": refresh,
                    }),
                ),
                Err(_) => error(400, "invalid_grant"),
            }
        }
        _ => error(400, "unsupported_grant_type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return json(401, json!({"message": "Unauthorized", "error": 401}));
    }
    match r.form_param("token") {
        Some(token) => {
            // A refresh token takes the grant's access tokens with it; an access token only itself.
            let whole = ctx.grants.is_refresh_token(&token);
            ctx.grants.revoke(&token, whole);
            axum::http::StatusCode::NO_CONTENT.into_response()
        }
        None => error(400, "invalid_request"),
    }
}

/// Whether the User-Agent follows Reddit's `<platform>:<app ID>:<version string>` rule.
fn descriptive_user_agent(r: &Recorded) -> bool {
    r.header("user-agent").is_some_and(|ua| ua.split(':').count() >= 3)
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if !descriptive_user_agent(r) {
        return json(429, json!({"message": "Too Many Requests", "error": 429}));
    }
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"message": "Unauthorized", "error": 401}));
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/api/v1/me" if has("identity") => {
            json(200, json!({"name": "ada_lovelace", "id": "conf0ada", "created_utc": 1_700_000_000.0}))
        }
        p if p.starts_with("/r/") && p.ends_with("/new") && has("read") => {
            json(200, json!({"kind": "Listing", "data": {"children": [], "after": null, "before": null}}))
        }
        "/api/v1/me" => json(403, json!({"message": "Forbidden", "error": 403})),
        p if p.starts_with("/r/") => json(403, json!({"message": "Forbidden", "error": 403})),
        _ => json(404, json!({"message": "Not Found", "error": 404})),
    }
}
