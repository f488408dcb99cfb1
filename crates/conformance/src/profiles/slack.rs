//! Slack: OAuth v2 (`/oauth/v2/authorize`, `oauth.v2.access`) with token rotation enabled on
//! the app, `auth.test`, `auth.revoke` and two Web API methods. Web API errors are HTTP 200
//! with `{"ok": false, "error": …}`. The bot token is at the top level of the token reply, the
//! user token nested in `authed_user`. With rotation, refresh tokens are single-use.

use serde_json::{Value, json};

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Slack profile.
#[derive(Debug, Default)]
pub struct Slack;

const CLIENT: Client = Client { id: "1111111111.2222222222", secret: "conformance0slack0secret" };
const ACCESS: &str = "https://docs.slack.dev/reference/methods/oauth.v2.access";

impl Profile for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn hosts(&self) -> &'static [&'static str] {
        &["slack.com"]
    }

    fn token_hosts(&self) -> &'static [&'static str] {
        &["slack.com"]
    }

    fn client(&self) -> Client {
        CLIENT
    }

    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance", "ada", "conformance-bot", "T0CONF01"]
    }

    fn api_calls(&self) -> &'static [ApiCall] {
        &[
            ApiCall { method: "GET", url: "https://slack.com/api/conversations.list", body: None },
            ApiCall {
                method: "POST",
                url: "https://slack.com/api/chat.postMessage",
                body: Some(r#"{"channel":"C0CONF01","text":"hello"}"#),
            },
        ]
    }

    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://slack.com/api/auth.revoke with the token itself as the credential (Bearer or `token`)",
            doc: "https://docs.slack.dev/reference/methods/auth.revoke",
        })
    }

    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.host == "slack.com" && r.path == "/api/auth.revoke" && (r.bearer().is_some() || field(r, "token").is_some())
    }

    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize /oauth/v2/authorize: client_id required, comma-separated scope and/or user_scope, redirect_uri must match the app's",
                doc: "https://docs.slack.dev/authentication/installing-with-oauth",
            },
            Behaviour {
                what: "oauth.v2.access: form or JSON; client credentials by Basic (preferred) or in the body; errors as HTTP 200 ok:false (invalid_client_id, bad_client_secret, invalid_code, bad_redirect_uri)",
                doc: ACCESS,
            },
            Behaviour {
                what: "reply: ok, access_token (bot), token_type bot, scope, bot_user_id, app_id, team{id,name}, enterprise, is_enterprise_install, authed_user{id, scope, access_token, token_type user}",
                doc: ACCESS,
            },
            Behaviour {
                what: "token rotation: expires_in 43200 and a refresh_token; refresh with grant_type=refresh_token returns a new pair; a refresh token is used once",
                doc: "https://docs.slack.dev/authentication/using-token-rotation",
            },
            Behaviour {
                what: "auth.test: 200 {ok:true, url, team, user, team_id, user_id} or 200 {ok:false, error:invalid_auth}",
                doc: "https://docs.slack.dev/reference/methods/auth.test",
            },
            Behaviour {
                what: "auth.revoke: {ok:true, revoked:true}",
                doc: "https://docs.slack.dev/reference/methods/auth.revoke",
            },
            Behaviour {
                what: "chat.postMessage needs chat:write, else ok:false missing_scope",
                doc: "https://docs.slack.dev/reference/methods/chat.postMessage",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth/v2/authorize") => authorize(ctx, r),
            ("POST", "/api/oauth.v2.access") => access(ctx, r),
            (_, "/api/auth.test") => with_token(ctx, r, None, |grant| {
                let bot = !grant.1;
                let mut body = json!({
                    "ok": true, "url": "https://conformance.slack.com/", "team": "Conformance",
                    "user": if bot { "conformance-bot" } else { "ada" }, "team_id": "T0CONF01",
                    "user_id": if bot { "U0BOT0001" } else { "U0ADA0001" },
                });
                if bot {
                    body["bot_id"] = json!("B0CONF01");
                }
                body
            }),
            ("POST", "/api/auth.revoke") => {
                let Some(token) = r.bearer().map(str::to_owned).or_else(|| field(r, "token")) else {
                    return ok_false("not_authed");
                };
                if field(r, "test").is_some_and(|t| t == "1" || t == "true") {
                    return json(200, json!({"ok": true, "revoked": false}));
                }
                if ctx.grants.revoke(&token, true) {
                    json(200, json!({"ok": true, "revoked": true}))
                } else {
                    ok_false("invalid_auth")
                }
            }
            (_, "/api/conversations.list") => with_token(
                ctx,
                r,
                Some("channels:read"),
                |_| json!({"ok": true, "channels": [{"id": "C0CONF01", "name": "general", "is_channel": true}], "response_metadata": {"next_cursor": ""}}),
            ),
            ("POST", "/api/chat.postMessage") => with_token(
                ctx,
                r,
                Some("chat:write"),
                |_| json!({"ok": true, "channel": "C0CONF01", "ts": "1700000000.000100", "message": {"text": "hello"}}),
            ),
            _ => ok_false("unknown_method"),
        }
    }
}

fn ok_false(error: &str) -> Response {
    json(200, json!({"ok": false, "error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id parameter");
    }
    // Slack takes the app's configured redirect URL when none is sent.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri did not match any configured URIs"),
        None => ctx.redirect_uris[0].clone(),
    };
    let scopes = split_scopes(q(r, "scope"), ',');
    let user_scopes = split_scopes(q(r, "user_scope"), ',');
    if scopes.is_empty() && user_scopes.is_empty() {
        return page(400, "Missing scope: ask for scope or user_scope");
    }
    let mut extra = std::collections::BTreeMap::new();
    extra.insert("user_scope".to_owned(), user_scopes.join(","));
    // The token call must repeat redirect_uri only when the authorize call named it.
    extra.insert("redirect_sent".to_owned(), q(r, "redirect_uri").is_some().to_string());
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect,
        scopes,
        offline: true,
        code_challenge: None,
        extra,
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn access(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((_, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        Ok((_, id, _)) if id == CLIENT.id => return ok_false("bad_client_secret"),
        _ => return ok_false("invalid_client_id"),
    };
    if field(r, "grant_type").as_deref() == Some("refresh_token") {
        let token = field(r, "refresh_token").unwrap_or_default();
        let user = token.starts_with("xoxe-1-u");
        return match ctx.grants.use_refresh(&token, &client, true) {
            Ok((grant, family)) => json(200, refreshed(ctx, &grant, family, user)),
            Err(_) => ok_false("invalid_refresh_token"),
        };
    }
    let code = field(r, "code").unwrap_or_default();
    let redirect = field(r, "redirect_uri");
    match ctx.grants.redeem_code(&code, &client, redirect.as_deref(), None) {
        Ok((grant, _)) if grant.extra.get("redirect_sent").is_some_and(|s| s == "true") && redirect.is_none() => {
            ok_false("bad_redirect_uri")
        }
        Ok((grant, family)) => json(200, installed(ctx, &grant, family)),
        Err(Refusal::RedirectMismatch) => ok_false("bad_redirect_uri"),
        Err(_) => ok_false("invalid_code"),
    }
}

fn installed(ctx: &Ctx, grant: &Grant, family: u64) -> Value {
    let user_scope = grant.extra.get("user_scope").cloned().unwrap_or_default();
    let mut body = json!({
        "ok": true, "app_id": "A0CONF01",
        "authed_user": {"id": "U0ADA0001"},
        "team": {"id": "T0CONF01", "name": "Conformance"},
        "enterprise": null, "is_enterprise_install": false,
    });
    if !grant.scopes.is_empty() {
        body["access_token"] = json!(ctx.grants.access_token(family, "xoxb-conf-"));
        body["token_type"] = json!("bot");
        body["scope"] = json!(grant.scopes.join(","));
        body["bot_user_id"] = json!("U0BOT0001");
        body["expires_in"] = json!(43200);
        body["refresh_token"] = json!(ctx.grants.refresh_token(family, "xoxe-1-b"));
    }
    if !user_scope.is_empty() {
        body["authed_user"] = json!({
            "id": "U0ADA0001", "scope": user_scope, "token_type": "user",
            "access_token": ctx.grants.access_token(family, "xoxp-conf-"),
            "expires_in": 43200,
            "refresh_token": ctx.grants.refresh_token(family, "xoxe-1-u"),
        });
    }
    body
}

fn refreshed(ctx: &Ctx, grant: &Grant, family: u64, user: bool) -> Value {
    let (prefix, rt, kind, scope) = if user {
        ("xoxp-conf-", "xoxe-1-u", "user", grant.extra.get("user_scope").cloned().unwrap_or_default())
    } else {
        ("xoxb-conf-", "xoxe-1-b", "bot", grant.scopes.join(","))
    };
    json!({
        "ok": true, "app_id": "A0CONF01", "token_type": kind, "scope": scope,
        "access_token": ctx.grants.access_token(family, prefix),
        "expires_in": 43200,
        "refresh_token": ctx.grants.refresh_token(family, rt),
        "team": {"id": "T0CONF01", "name": "Conformance"}, "enterprise": null, "is_enterprise_install": false,
    })
}

/// Runs `f` with (grant, is-user-token) when the call's token is alive and has `scope`.
fn with_token(ctx: &Ctx, r: &Recorded, scope: Option<&str>, f: impl FnOnce((Grant, bool)) -> Value) -> Response {
    let Some(token) = r.bearer().map(str::to_owned).or_else(|| field(r, "token")) else {
        return ok_false("not_authed");
    };
    let Some(grant) = ctx.grants.check_access(&token) else { return ok_false("invalid_auth") };
    let user = token.starts_with("xoxp-");
    let held = if user { grant.extra.get("user_scope").cloned().unwrap_or_default() } else { grant.scopes.join(",") };
    if let Some(needed) = scope
        && !held.split(',').any(|s| s == needed)
    {
        return json(200, json!({"ok": false, "error": "missing_scope", "needed": needed, "provided": held}));
    }
    json(200, f((grant, user)))
}
