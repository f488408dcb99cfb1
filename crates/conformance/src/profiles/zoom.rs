//! Zoom user authorization (a user-managed General app): authorize on `zoom.us/oauth/authorize`
//! (`response_type=code`, `client_id`, `redirect_uri`, optional `state` and PKCE S256; a `scope`
//! parameter is refused, the scopes are the app's), the token endpoint `zoom.us/oauth/token` with
//! HTTP Basic and the parameters form-encoded or in the query (the reply carries the granted
//! `scope` and `api_url`), refresh tokens that rotate (each good once), revocation of the access
//! token on `zoom.us/oauth/revoke` with Basic, and the REST API under `api.zoom.us/v2`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, pkce_challenge, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Zoom profile.
#[derive(Debug, Default)]
pub struct Zoom;

const CLIENT: Client = Client { id: "C0nf0rmanceZ00mC1ient", secret: "c0nf0rmancez00msecret0000000000a" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://developers.zoom.us/docs/integrations/oauth/";
const SCOPES: &str = "https://developers.zoom.us/docs/internal-apps/oauth-scopes-overview/";
/// The granular scopes added to the kit's app on the Marketplace: what every grant gets.
const APP_SCOPES: &[&str] = &[
    "user:read:user",
    "meeting:write:meeting",
    "meeting:read:list_meetings",
    "meeting:read:meeting",
    "meeting:update:meeting",
    "cloud_recording:read:list_user_recordings",
];

impl Profile for Zoom {
    fn name(&self) -> &'static str {
        "zoom"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["zoom.us", "api.zoom.us"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["zoom.us"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.zoom.us/v2/users/me/meetings", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://zoom.us/oauth/revoke with HTTP Basic and token=<access token> (form or query); {status: success}",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "zoom.us"
            && r.path == "/oauth/revoke"
            && r.basic().is_some()
            && param(r, "token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://zoom.us/oauth/authorize: response_type=code, client_id, redirect_uri (the app's OAuth redirect URL); state, code_challenge + code_challenge_method optional",
                doc: OAUTH,
            },
            Behaviour {
                what: "scopes are the ones added to the app (granular for new apps); a scope parameter on the authorize URL is refused as invalid",
                doc: SCOPES,
            },
            Behaviour {
                what: "token POST https://zoom.us/oauth/token: Authorization Basic base64(client_id:client_secret); grant_type=authorization_code, code, redirect_uri, code_verifier as query parameters or x-www-form-urlencoded; reply access_token, token_type bearer, refresh_token, expires_in, scope, api_url",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: Basic, grant_type=refresh_token, refresh_token; a new refresh token each time, the used one no longer works; access tokens live an hour",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke: POST https://zoom.us/oauth/revoke, Basic, token=<access token>; ends the user's authorization of the app",
                doc: OAUTH,
            },
            Behaviour {
                what: "GET https://api.zoom.us/v2/users/me (user:read:user) → id, email, display_name; a bad token is 401 {code 124, message Invalid access token.}",
                doc: "https://developers.zoom.us/docs/api/users/",
            },
            Behaviour {
                what: "GET https://api.zoom.us/v2/users/me/meetings (meeting:read:list_meetings) → meetings; a token without the scope is refused with code 4711",
                doc: "https://developers.zoom.us/docs/api/meetings/",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "zoom.us", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "zoom.us", "/oauth/token") => token(ctx, r),
            ("POST", "zoom.us", "/oauth/revoke") => revoke(ctx, r),
            ("GET", "api.zoom.us", path) => api(ctx, r, path),
            _ => json(404, json!({"code": 404, "message": "Not Found"})),
        }
    }
}

/// A token-endpoint parameter: Zoom takes them in the query or a form body.
fn param(r: &Recorded, name: &str) -> Option<String> {
    field(r, name).or_else(|| q(r, name).map(str::to_owned))
}

/// Zoom's OAuth error body (`reason` and `error`).
fn oauth_error(status: u16, error: &str, reason: &str) -> Response {
    json(status, json!({"reason": reason, "error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id (4702)");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid redirect: the redirect_uri is not the app's OAuth redirect URL (4709)");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "Unsupported response_type");
    }
    // Scopes belong to the app; asking for them on the URL is an error.
    if q(r, "scope").is_some() {
        return page(400, "Invalid scope: scopes are set on the app, not in the authorize URL");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(why) => return page(400, why),
    };
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes: APP_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        offline: true,
        code_challenge: challenge,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(client) = basic_client(r) else {
        return oauth_error(401, "invalid_client", "Invalid client_id or client_secret");
    };
    let reply = |grant: Grant, family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "eyJzdiI6IjAwMDAwMSJ9.conf-"),
                "token_type": "bearer",
                "refresh_token": ctx.grants.refresh_token(family, "eyJzdiI6IjAwMDAwMSJ9.conf-refresh-"),
                "expires_in": 3599,
                "scope": grant.scopes.join(" "),
                "api_url": "https://api.zoom.us",
            }),
        )
    };
    match param(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &param(r, "code").unwrap_or_default(),
            &client,
            param(r, "redirect_uri").as_deref(),
            param(r, "code_verifier").as_deref(),
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => oauth_error(400, "invalid_request", "Invalid authorization code"),
        },
        // Each refresh token is good once: the reply carries its successor.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&param(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_request", "Invalid Token!"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Unsupported grant type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return oauth_error(401, "invalid_client", "Invalid client_id or client_secret");
    }
    match param(r, "token") {
        // The app's authorization for the user ends, refresh token included.
        Some(token) if ctx.grants.revoke(&token, true) => json(200, json!({"status": "success"})),
        Some(_) => oauth_error(400, "invalid_request", "Invalid Token!"),
        None => oauth_error(400, "invalid_request", "Token cannot be empty."),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"code": 124, "message": "Invalid access token."}));
    };
    let (scope, body) = match path {
        "/v2/users/me" => (
            "user:read:user",
            json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Ada", "last_name": "Lovelace", "display_name": "Ada Lovelace", "email": EMAIL, "type": 1, "account_id": "q6gBJVO5TzexKYTb_I2rpg"}),
        ),
        "/v2/users/me/meetings" => (
            "meeting:read:list_meetings",
            json!({"page_size": 30, "total_records": 0, "next_page_token": "", "meetings": []}),
        ),
        _ => return json(404, json!({"code": 404, "message": "Not Found"})),
    };
    if !grant.scopes.iter().any(|s| s == scope) {
        return json(
            400,
            json!({"code": 4711, "message": format!("Invalid access token, does not contain scopes:[{scope}]")}),
        );
    }
    json(200, body)
}
