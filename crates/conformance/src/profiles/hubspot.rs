//! HubSpot: the app install page `app.hubspot.com/oauth/authorize` (space-separated `scope`,
//! optional `optional_scope`), the v3 token endpoint `POST /oauth/v3/token` on api.hubapi.com
//! (form body with `client_id` and `client_secret`; reply `access_token`, `refresh_token`,
//! `expires_in` 1800, `token_type`; the refresh token does not rotate), the account-details call,
//! one CRM call, and the revocation `POST /oauth/2026-03/token/revoke` (form body with the
//! client and the refresh token; it replaces the deprecated v1 `DELETE /oauth/v1/refresh-tokens/{token}`,
//! which put the token in the path, and like it leaves access tokens to live out their 30 minutes).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, field, json, page, pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;

/// The HubSpot profile.
#[derive(Debug, Default)]
pub struct HubSpot;

const CLIENT: Client =
    Client { id: "5f1c0a4e-conf-4a1b-9c2d-000000000001", secret: "5f1c0a4e-conf-secret-0000-000000000001" };
const V3: &str = "https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide";
const REVOKE: &str =
    "https://developers.hubspot.com/docs/api-reference/latest/authentication/oauth-tokens/revoke-token";
const V1_SUNSET: &str = "https://developers.hubspot.com/changelog/v1-oauth-api-deprecation";
/// The portal (Hub) id of the emulated account.
const PORTAL: u64 = 62515;

impl Profile for HubSpot {
    fn name(&self) -> &'static str {
        "hubspot"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["app.hubspot.com", "api.hubapi.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.hubapi.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["62515"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.hubapi.com/crm/v3/objects/contacts", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.hubapi.com/oauth/2026-03/token/revoke, form body client_id, client_secret, token (the refresh token), token_type_hint optional",
            doc: REVOKE,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "api.hubapi.com"
            && r.path == "/oauth/2026-03/token/revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_secret").as_deref() == Some(CLIENT.secret)
    }
    fn revocation_spares_access_tokens(&self) -> bool {
        // "Deletes/Revokes provided Refresh Token"; v1 said so outright: "Access tokens generated
        // with the refresh token will not be affected."
        true
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "install URL /oauth/authorize: client_id, redirect_uri, scope (space-separated) required; optional_scope and state optional",
                doc: V3,
            },
            Behaviour {
                what: "POST /oauth/v3/token: form body with grant_type, code, redirect_uri, client_id, client_secret (code_verifier for PKCE); every parameter in the body",
                doc: V3,
            },
            Behaviour {
                what: "reply access_token, refresh_token, expires_in (30 minutes), token_type bearer; refresh with grant_type=refresh_token; no rotation documented, so the same refresh token comes back",
                doc: V3,
            },
            Behaviour {
                what: "v1 OAuth endpoints (POST /oauth/v1/token, DELETE /oauth/v1/refresh-tokens/{token}, …) are deprecated on 2027-02-16; the revoke endpoint replaces the DELETE",
                doc: V1_SUNSET,
            },
            Behaviour {
                what: "GET /account-info/2026-03/details → portalId (needs the oauth scope)",
                doc: "https://developers.hubspot.com/docs/api-reference/latest/account/account-information/get-account-details",
            },
            Behaviour {
                what: "GET /crm/v3/objects/contacts → results (needs crm.objects.contacts.read)",
                doc: "https://developers.hubspot.com/docs/api/crm/contacts",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "app.hubspot.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "api.hubapi.com", "/oauth/v3/token") => token(ctx, r),
            ("GET", "api.hubapi.com", "/account-info/2026-03/details") => api(ctx, r, "oauth", || {
                json!({"portalId": PORTAL, "accountType": "STANDARD", "timeZone": "Europe/London", "companyCurrency": "GBP",
                       "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1", "utcOffset": "+00:00"})
            }),
            ("GET", "api.hubapi.com", "/crm/v3/objects/contacts") => {
                api(ctx, r, "crm.objects.contacts.read", || json!({"results": []}))
            }
            ("POST", "api.hubapi.com", "/oauth/2026-03/token/revoke") => revoke(ctx, r),
            _ => error(404, "OBJECT_NOT_FOUND", "Not found"),
        }
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return error(400, "VALIDATION_ERROR", "parameters go in a form body");
    }
    // Like the token endpoint, the client goes in the body.
    if r.basic().is_some()
        || r.form_param("client_id").as_deref() != Some(CLIENT.id)
        || r.form_param("client_secret").as_deref() != Some(CLIENT.secret)
    {
        return error(401, "INVALID_AUTHENTICATION", "client_id and client_secret are required in the body");
    }
    let token = r.form_param("token").unwrap_or_default();
    if !ctx.grants.is_refresh_token(&token) {
        return error(400, "VALIDATION_ERROR", "token is not a live refresh token");
    }
    // Only the refresh token goes; its access tokens live out their 30 minutes.
    ctx.grants.revoke(&token, false);
    StatusCode::NO_CONTENT.into_response()
}

fn error(status: u16, category: &str, message: &str) -> Response {
    json(
        status,
        json!({"status": "error", "message": message, "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf", "category": category}),
    )
}

fn api(ctx: &Ctx, r: &Recorded, scope: &str, f: impl FnOnce() -> Value) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
    };
    if !grant.scopes.iter().any(|s| s == scope) {
        return error(403, "MISSING_SCOPES", &format!("This app hasn't been granted all required scopes: {scope}"));
    }
    json(200, f())
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Couldn't complete the connection: invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Couldn't complete the connection: redirect_uri does not match the app's");
    };
    let mut scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        return page(400, "Couldn't complete the connection: scope is required");
    }
    // Optional scopes the account has are granted too.
    scopes.extend(split_scopes(q(r, "optional_scope"), ' '));
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline: true,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn oauth_error(message: &str) -> Response {
    error(400, "BAD_REQUEST", message)
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error("the request body must be application/x-www-form-urlencoded");
    }
    if r.basic().is_some() || !r.query.is_empty() {
        return oauth_error("v3 takes client_id and client_secret in the form body only");
    }
    if field(r, "client_id").as_deref() != Some(CLIENT.id)
        || field(r, "client_secret").as_deref() != Some(CLIENT.secret)
    {
        return error(400, "BAD_CLIENT_ID", "missing or unknown client_id/client_secret");
    }
    let reply = |family: u64, refresh: String| {
        json(
            200,
            json!({
                "token_type": "bearer",
                "access_token": ctx.grants.access_token(family, "CKconf"),
                "refresh_token": refresh,
                "expires_in": 1800,
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            CLIENT.id,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((_, family)) => reply(family, ctx.grants.refresh_token(family, "conf-rt-")),
            Err(Refusal::RedirectMismatch) => error(400, "BAD_REDIRECT_URI", "redirect_uri mismatch"),
            Err(_) => error(400, "BAD_AUTH_CODE", "missing or unknown auth code"),
        },
        Some("refresh_token") => {
            let refresh = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&refresh, CLIENT.id, false) {
                // Not rotating: the same refresh token comes back.
                Ok((_, family)) => reply(family, refresh),
                Err(_) => error(400, "BAD_REFRESH_TOKEN", "missing or unknown refresh token"),
            }
        }
        _ => oauth_error("grant_type must be authorization_code or refresh_token"),
    }
}
