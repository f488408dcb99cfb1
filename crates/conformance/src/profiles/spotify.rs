//! Spotify: authorize on accounts.spotify.com (space-separated optional `scope`, `state`), the
//! token endpoint `/api/token` with HTTP Basic and a form body, refreshes that keep the refresh
//! token (the reply may leave a new one out, so the old one stays good), no revocation
//! endpoint, and the Web API on api.spotify.com, which answers a bad token with 401 and a
//! missing scope with 403 in its `{"error": {"status", "message"}}` shape.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Spotify profile.
#[derive(Debug, Default)]
pub struct Spotify;

const CLIENT: Client = Client { id: "c0nf0rmance5p0t1fy0c11ent0000001", secret: "c0nf0rmance5p0t1fy5ecret000000001" };
const EMAIL: &str = "ada@conformance.example";
const USER_ID: &str = "conformance-ada";
const CODE_FLOW: &str = "https://developer.spotify.com/documentation/web-api/tutorials/code-flow";
const REFRESH: &str = "https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens";
const SCOPES: &str = "https://developer.spotify.com/documentation/web-api/concepts/scopes";

impl Profile for Spotify {
    fn name(&self) -> &'static str {
        "spotify"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["accounts.spotify.com", "api.spotify.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["accounts.spotify.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace", USER_ID]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.spotify.com/v1/me/player/recently-played", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        // Spotify documents no revocation endpoint; a user removes the app from their account.
        None
    }
    fn is_documented_revocation(&self, _: &Recorded) -> bool {
        false
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://accounts.spotify.com/authorize: client_id, response_type=code, redirect_uri required; scope (space-separated) and state optional",
                doc: CODE_FLOW,
            },
            Behaviour {
                what: "token POST https://accounts.spotify.com/api/token: application/x-www-form-urlencoded grant_type=authorization_code, code, redirect_uri; Authorization: Basic <client_id:client_secret>; reply access_token, token_type Bearer, scope, expires_in 3600, refresh_token",
                doc: CODE_FLOW,
            },
            Behaviour {
                what: "refresh: Basic, form grant_type=refresh_token, refresh_token; a new refresh token may or may not be returned (the kit returns none, so the old one must be kept)",
                doc: REFRESH,
            },
            Behaviour {
                what: "refresh tokens live 6 months from the consent; refreshing does not extend them",
                doc: REFRESH,
            },
            Behaviour {
                what: "GET https://api.spotify.com/v1/me → id, display_name, email (with user-read-email); a bad token is 401, a missing scope 403",
                doc: "https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile",
            },
            Behaviour { what: "GET /v1/me/player/recently-played needs user-read-recently-played", doc: SCOPES },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "accounts.spotify.com", "/authorize") => authorize(ctx, r),
            ("POST", "accounts.spotify.com", "/api/token") => token(ctx, r),
            ("GET", "api.spotify.com", path) if path.starts_with("/v1/") => api(ctx, r, path),
            _ => api_error(404, "Service not found"),
        }
    }
}

fn api_error(status: u16, message: &str) -> Response {
    json(status, json!({"error": {"status": status, "message": message}}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "INVALID_CLIENT: Invalid client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "INVALID_CLIENT: Invalid redirect URI");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "response_type must be code");
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
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(400, "invalid_client", "Invalid client"),
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((grant, family)) => json(
                200,
                json!({
                    "access_token": ctx.grants.access_token(family, "BQconfSpotifyAccess"),
                    "token_type": "Bearer",
                    "scope": grant.scopes.join(" "),
                    "expires_in": 3600,
                    "refresh_token": ctx.grants.refresh_token(family, "AQconfSpotifyRefresh"),
                }),
            ),
            Err(_) => oauth_error(400, "invalid_grant", "Invalid authorization code"),
        },
        // The refresh token stays good and no new one is sent: Patchbay must keep the old one.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, family)) => json(
                    200,
                    json!({
                        "access_token": ctx.grants.access_token(family, "BQconfSpotifyAccess"),
                        "token_type": "Bearer",
                        "scope": grant.scopes.join(" "),
                        "expires_in": 3600,
                    }),
                ),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid refresh token"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return api_error(401, "Invalid access token");
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/v1/me" => {
            let mut me = json!({
                "id": USER_ID,
                "display_name": "Ada Lovelace",
                "type": "user",
                "uri": format!("spotify:user:{USER_ID}"),
            });
            if has("user-read-email") {
                me["email"] = json!(EMAIL);
            }
            json(200, me)
        }
        "/v1/me/player/recently-played" if has("user-read-recently-played") => {
            json(200, json!({"items": [], "limit": 20, "next": null, "cursors": null}))
        }
        "/v1/me/player/recently-played" => api_error(403, "Insufficient client scope"),
        _ => api_error(404, "Service not found"),
    }
}
