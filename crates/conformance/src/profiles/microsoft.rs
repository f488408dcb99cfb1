//! Microsoft identity platform (v2.0 endpoints on login.microsoftonline.com, any of the
//! documented tenant values) and Microsoft Graph `/me`. Refresh tokens only with the
//! `offline_access` scope; every refresh returns a new refresh token and the old one stays
//! good until it expires (rotating, not single-use). There is no revocation endpoint.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, pkce_challenge, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Microsoft profile.
#[derive(Debug, Default)]
pub struct Microsoft;

const AUTH_CODE: &str = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow";
const CLIENT: Client = Client { id: "00000000-0000-4000-8000-00000c0f0a11", secret: "conformance~secret" };
const MAIL: &str = "ada@conformance.onmicrosoft.com";

impl Profile for Microsoft {
    fn name(&self) -> &'static str {
        "microsoft"
    }

    fn hosts(&self) -> &'static [&'static str] {
        &["login.microsoftonline.com", "graph.microsoft.com"]
    }

    fn token_hosts(&self) -> &'static [&'static str] {
        &["login.microsoftonline.com"]
    }

    fn client(&self) -> Client {
        CLIENT
    }

    fn account_labels(&self) -> &'static [&'static str] {
        &[MAIL, "Ada Lovelace"]
    }

    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://graph.microsoft.com/v1.0/me/messages", body: None }]
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
                what: "authorize /{tenant}/oauth2/v2.0/authorize: client_id, response_type=code, redirect_uri, scope required; tenant common|organizations|consumers|id; a wrong redirect is an AADSTS50011 page",
                doc: AUTH_CODE,
            },
            Behaviour {
                what: "token: form body, client_id and client_secret in the body (a confidential web app); AADSTS errors with error_codes, trace_id, correlation_id",
                doc: AUTH_CODE,
            },
            Behaviour {
                what: "refresh token only with offline_access; each refresh returns a new one, the old one is not revoked",
                doc: "https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens",
            },
            Behaviour {
                what: "Graph GET /v1.0/me → id, displayName, mail, userPrincipalName",
                doc: "https://learn.microsoft.com/en-us/graph/api/user-get",
            },
            Behaviour {
                what: "no revocation endpoint (revokeSignInSessions ends every session, not one grant)",
                doc: "https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        let tenant_path = |suffix: &str| -> bool {
            r.path.strip_suffix(suffix).and_then(|t| t.strip_prefix('/')).is_some_and(valid_tenant)
        };
        match (r.method.as_str(), r.host.as_str()) {
            ("GET", "login.microsoftonline.com") if tenant_path("/oauth2/v2.0/authorize") => authorize(ctx, r),
            ("POST", "login.microsoftonline.com") if tenant_path("/oauth2/v2.0/token") => token(ctx, r),
            ("GET", "graph.microsoft.com") if r.path == "/v1.0/me" => graph(ctx, r, || {
                json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
                    "displayName": "Ada Lovelace",
                    "mail": MAIL,
                    "userPrincipalName": MAIL,
                })
            }),
            ("GET", "graph.microsoft.com") if r.path == "/v1.0/me/messages" => graph(
                ctx,
                r,
                || json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/messages", "value": []}),
            ),
            _ => json(404, json!({"error": {"code": "ResourceNotFound", "message": "Resource not found."}})),
        }
    }
}

/// `common`, `organizations`, `consumers`, a GUID or a domain name.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty() && !t.contains('/') && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn aadsts(status: u16, error: &str, code: u32, description: &str) -> Response {
    json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: 0000 Correlation ID: 0000 Timestamp: 2026-01-01 00:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
            "error_uri": "https://login.microsoftonline.com/error?code=".to_owned() + &code.to_string(),
        }),
    )
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "AADSTS700016: Application with identifier was not found in the directory.");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(
            400,
            "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.",
        );
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "AADSTS900144: The request body must contain the following parameter: 'response_type'.");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.is_empty() {
        return page(400, "AADSTS900144: The request body must contain the following parameter: 'scope'.");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, &format!("AADSTS501491: {e}")),
    };
    let offline = scopes.iter().any(|s| s == "offline_access");
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return aadsts(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    // A web app's secret goes in the body (the documented request); Basic is not documented.
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        Ok((ClientAuth::Body, id, _)) if id == CLIENT.id => {
            return aadsts(401, "invalid_client", 7000215, "Invalid client secret provided.");
        }
        _ => {
            return aadsts(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
    };
    let reply = |grant: &Grant, family: u64| {
        let mut body = json!({
            "token_type": "Bearer",
            "scope": grant.scopes.join(" "),
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": ctx.grants.access_token(family, "eyJ0eXAiOi.conf-"),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "0.AAAA-conf-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = field(r, "code").unwrap_or_default();
            match ctx.grants.redeem_code(
                &code,
                &client,
                field(r, "redirect_uri").as_deref(),
                field(r, "code_verifier").as_deref(),
            ) {
                Ok((grant, family)) => reply(&grant, family),
                Err(Refusal::RedirectMismatch) => {
                    aadsts(400, "invalid_grant", 70000, "The provided value for the 'redirect_uri' is not valid.")
                }
                Err(Refusal::Pkce) => aadsts(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ),
                Err(_) => aadsts(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                ),
            }
        }
        Some("refresh_token") => {
            let token = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&token, &client, false) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => aadsts(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                ),
            }
        }
        _ => aadsts(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."),
    }
}

fn graph(ctx: &Ctx, r: &Recorded, body: impl FnOnce() -> serde_json::Value) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "IDX14100: JWT is not well formed."}}),
        );
    }
    json(200, body())
}
