//! Docusign: the confidential Authorization Code Grant on account.docusign.com (production).
//! Authorize takes `response_type=code`, a space-separated `scope`, `client_id` (the
//! integration key), `redirect_uri` and an optional PKCE S256 challenge; the token endpoint
//! takes HTTP Basic (integration key and secret key) and a form body, and answers with an
//! access token, a refresh token and `expires_in`; a refresh returns a new refresh token;
//! `/oauth/userinfo` names the user and their accounts with each account's `base_uri`, where
//! the eSignature REST API lives. Docusign documents no token revocation for this flow.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Docusign profile.
#[derive(Debug, Default)]
pub struct Docusign;

const CLIENT: Client =
    Client { id: "7c2b8d7e-c0f0-4a11-9e5d-cda8a50dd73f", secret: "d7014634-c0f0-4b22-8f6e-6842b7aa8861" };
/// The account the emulated user belongs to, and its API host.
const ACCOUNT: &str = "a4ec37d6-c0f0-4c33-9a7b-143885c00001";
const API_HOST: &str = "na3.docusign.net";
const AUTHCODE: &str = "https://developers.docusign.com/platform/auth/confidential-authcode-get-token/";
const TOKEN: &str = "https://developers.docusign.com/platform/auth/reference/obtain-access-token/";
const USERINFO: &str = "https://developers.docusign.com/platform/auth/reference/user-info/";

impl Profile for Docusign {
    fn name(&self) -> &'static str {
        "docusign"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["account.docusign.com", API_HOST]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["account.docusign.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada@conformance.example", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "GET",
            url: "https://na3.docusign.net/restapi/v2.1/accounts/a4ec37d6-c0f0-4c33-9a7b-143885c00001/templates",
            body: None,
        }]
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
                what: "authorize GET https://account.docusign.com/oauth/auth: response_type=code, scope (space-separated, e.g. signature extended), client_id, redirect_uri, state; optional code_challenge with S256",
                doc: AUTHCODE,
            },
            Behaviour {
                what: "token POST https://account.docusign.com/oauth/token: Authorization: Basic base64(integration key:secret key), form grant_type=authorization_code, code (and code_verifier with PKCE); reply access_token, token_type Bearer, refresh_token, expires_in",
                doc: TOKEN,
            },
            Behaviour {
                what: "refresh: Basic, form grant_type=refresh_token, refresh_token → a new access token and a new refresh token",
                doc: TOKEN,
            },
            Behaviour {
                what: "GET https://account.docusign.com/oauth/userinfo (Bearer) → sub, name, email, accounts[] {account_id, is_default, account_name, base_uri}",
                doc: USERINFO,
            },
            Behaviour {
                what: "eSignature REST API at {base_uri}/restapi/v2.1/accounts/{account_id}: GET …/templates; a bad token is 401 USER_AUTHENTICATION_FAILED",
                doc: "https://developers.docusign.com/docs/esign-rest-api/reference/templates/templates/list/",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "account.docusign.com", "/oauth/auth") => authorize(ctx, r),
            ("POST", "account.docusign.com", "/oauth/token") => token(ctx, r),
            ("GET", "account.docusign.com", "/oauth/userinfo") => userinfo(ctx, r),
            ("GET", API_HOST, path) if path.starts_with("/restapi/v2.1/accounts/") => api(ctx, r, path),
            _ => json(
                404,
                json!({"errorCode": "RESOURCE_NOT_FOUND", "message": "The URL provided does not resolve to a resource."}),
            ),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client: the client id is not registered");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid_request: the redirect URI is not registered for this integration key");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "invalid_request: response_type=code and scope are required");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    // The code grant always comes with a refresh token.
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

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(400, "invalid_client", "The client credentials are invalid (HTTP Basic)"),
    };
    let reply = |family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0.conf-"),
                "token_type": "Bearer",
                "refresh_token": ctx.grants.refresh_token(family, "eyJ0eXAiOiJNVCJ9.conf-refresh-"),
                "expires_in": 28800,
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &field(r, "code").unwrap_or_default(),
                &client,
                field(r, "redirect_uri").as_deref(),
                field(r, "code_verifier").as_deref(),
            ) {
                Ok((_, family)) => reply(family),
                Err(Refusal::Pkce) => oauth_error(400, "invalid_grant", "code_verifier does not match"),
                Err(_) => oauth_error(400, "invalid_grant", "The authorization code is invalid or expired"),
            }
        }
        // A new refresh token each time; whether the previous one dies at once is not
        // documented, so the kit keeps it (Patchbay stores the newest either way).
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "The refresh token is invalid or expired"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "The grant type is not supported"),
    }
}

fn unauthorized() -> Response {
    json(
        401,
        json!({"errorCode": "USER_AUTHENTICATION_FAILED", "message": "One or both of Username and Password are invalid. Invalid access token"}),
    )
}

fn userinfo(ctx: &Ctx, r: &Recorded) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return oauth_error(401, "invalid_token", "The access token is invalid or expired");
    }
    json(
        200,
        json!({
            "sub": "4799e5e9-c0f0-4d44-8b8c-cf4713bbcacc",
            "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
            "created": "2026-01-01T00:00:00.00", "email": "ada@conformance.example",
            "accounts": [{
                "account_id": ACCOUNT, "is_default": true, "account_name": "Conformance Engines",
                "base_uri": format!("https://{API_HOST}"),
            }],
        }),
    )
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return unauthorized();
    }
    let Some(rest) = path.strip_prefix("/restapi/v2.1/accounts/").and_then(|p| p.strip_prefix(ACCOUNT)) else {
        return json(
            400,
            json!({"errorCode": "USER_LACKS_MEMBERSHIP", "message": "The UserID does not have a valid membership in this Account."}),
        );
    };
    match rest {
        "/templates" => json(
            200,
            json!({"resultSetSize": "0", "startPosition": "0", "endPosition": "0", "totalSetSize": "0", "envelopeTemplates": []}),
        ),
        _ => json(
            404,
            json!({"errorCode": "RESOURCE_NOT_FOUND", "message": "The URL provided does not resolve to a resource."}),
        ),
    }
}
