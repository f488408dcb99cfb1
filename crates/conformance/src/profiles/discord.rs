//! Discord: authorize on discord.com (space-separated `scope`, `state`, PKCE S256; no `iss` on
//! the callback, as none is documented), the token endpoint `/api/oauth2/token` with HTTP Basic and a form
//! body (7-day access tokens, a new refresh token on every refresh), RFC 7009 revocation at
//! `/api/oauth2/token/revoke`, where revoking any token ends all of the app's tokens for the
//! user, and the v10 API, which answers a bad token with `401 {"message", "code"}`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Discord profile.
#[derive(Debug, Default)]
pub struct Discord;

const CLIENT: Client = Client { id: "1300000000000000001", secret: "c0nf0rmance-d1sc0rd-secret-0000001" };
const EMAIL: &str = "ada@conformance.example";
const USER_ID: &str = "80351110224678912";
const OAUTH: &str = "https://discord.com/developers/docs/topics/oauth2";
const METADATA: &str = "https://discord.com/.well-known/oauth-authorization-server";

impl Profile for Discord {
    fn name(&self) -> &'static str {
        "discord"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["discord.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["discord.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "ada.lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://discord.com/api/v10/users/@me/guilds", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://discord.com/api/oauth2/token/revoke, HTTP Basic, form token (+ token_type_hint); any token ends all of the app's tokens for the user",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "discord.com"
            && r.path == "/api/oauth2/token/revoke"
            && basic_client(r).is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://discord.com/oauth2/authorize: response_type=code, client_id, scope (space-separated), redirect_uri, state; PKCE S256; the callback carries code and state (no iss is documented)",
                doc: METADATA,
            },
            Behaviour {
                what: "token POST https://discord.com/api/oauth2/token: application/x-www-form-urlencoded grant_type=authorization_code, code, redirect_uri; client by HTTP Basic; reply access_token, token_type Bearer, expires_in 604800, refresh_token, scope",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: form grant_type=refresh_token, refresh_token, Basic; a new access and refresh token",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke POST /api/oauth2/token/revoke (RFC 7009): revoking any valid access or refresh token invalidates all of the app's tokens for that user",
                doc: OAUTH,
            },
            Behaviour {
                what: "GET https://discord.com/api/v10/users/@me (identify) → id, username, global_name, email (with email); GET /users/@me/guilds needs guilds",
                doc: "https://discord.com/developers/docs/resources/user",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth2/authorize" | "/api/oauth2/authorize") => authorize(ctx, r),
            ("POST", "/api/oauth2/token") => token(ctx, r),
            ("POST", "/api/oauth2/token/revoke") => revoke(ctx, r),
            ("GET", path) if path.starts_with("/api/v10/") => api(ctx, r, path),
            _ => json(404, json!({"message": "404: Not Found", "code": 0})),
        }
    }
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Unknown Application");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid OAuth2 redirect_uri");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(why) => return page(400, why),
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

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    let Some(client) = basic_client(r) else { return oauth_error(401, "invalid_client", "Invalid client") };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "conf-discord-access-"),
                "token_type": "Bearer",
                "expires_in": 604800,
                "refresh_token": ctx.grants.refresh_token(family, "conf-discord-refresh-"),
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
            Err(_) => oauth_error(400, "invalid_grant", "Invalid \"code\" in request."),
        },
        // A new refresh token comes with each refresh; the kit spends the old one, the strict
        // reading (Patchbay must store the new one either way).
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid \"refresh_token\" in request."),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Unsupported grant type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return oauth_error(401, "invalid_client", "Invalid client");
    }
    match r.form_param("token") {
        // RFC 7009 §2.2: an unknown token is not an error.
        Some(token) => {
            ctx.grants.revoke(&token, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request", "token is required"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"message": "401: Unauthorized", "code": 0}));
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/api/v10/users/@me" if has("identify") => {
            let mut me = json!({
                "id": USER_ID,
                "username": "ada.lovelace",
                "discriminator": "0",
                "global_name": "Ada Lovelace",
                "avatar": null,
            });
            if has("email") {
                me["email"] = json!(EMAIL);
                me["verified"] = json!(true);
            }
            json(200, me)
        }
        "/api/v10/users/@me/guilds" if has("guilds") => {
            json(200, json!([{"id": "1300000000000000100", "name": "Conformance", "owner": true}]))
        }
        "/api/v10/users/@me" | "/api/v10/users/@me/guilds" => {
            json(403, json!({"message": "Missing Access", "code": 50001}))
        }
        _ => json(404, json!({"message": "404: Not Found", "code": 0})),
    }
}
