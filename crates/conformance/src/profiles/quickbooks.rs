//! QuickBooks Online (Intuit): authorize on appcenter.intuit.com (`state` required; the
//! callback adds `realmId`), the bearer token endpoint with HTTP Basic and a form body (reply
//! with `x_refresh_token_expires_in`; the refresh token value changes over time), the JSON
//! revocation endpoint, and the Accounting API under `/v3/company/{realmId}/…`.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The QuickBooks profile.
#[derive(Debug, Default)]
pub struct QuickBooks;

const CLIENT: Client =
    Client { id: "ABconformanceClientId0000000000000000000000", secret: "conformanceClientSecret000000000000000" };
/// The company the emulated consent picks.
pub const REALM: &str = "9130350000000001";
const OAUTH: &str =
    "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0";

impl Profile for QuickBooks {
    fn name(&self) -> &'static str {
        "quickbooks"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[
            "appcenter.intuit.com",
            "oauth.platform.intuit.com",
            "developer.api.intuit.com",
            "quickbooks.api.intuit.com",
            "sandbox-quickbooks.api.intuit.com",
        ]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["oauth.platform.intuit.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance Books Ltd", REALM]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "GET",
            url: "https://quickbooks.api.intuit.com/v3/company/{realm}/query?query=select%20*%20from%20Customer",
            body: None,
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://developer.api.intuit.com/v2/oauth2/tokens/revoke, HTTP Basic, JSON body {\"token\": …}",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "developer.api.intuit.com"
            && r.path == "/v2/oauth2/tokens/revoke"
            && r.basic().is_some()
            && r.json().and_then(|j| j.get("token").cloned()).is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize /connect/oauth2: client_id, scope, redirect_uri, response_type=code, state all required; callback code, state, realmId",
                doc: OAUTH,
            },
            Behaviour {
                what: "token /oauth2/v1/tokens/bearer: HTTP Basic, form body; reply token_type bearer, expires_in 3600, refresh_token, x_refresh_token_expires_in, access_token",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: a refresh_token is returned every time and may change; always keep the latest",
                doc: OAUTH,
            },
            Behaviour { what: "revoke: Basic + JSON {token}", doc: OAUTH },
            Behaviour {
                what: "Accounting API under /v3/company/{realmId}/…; companyinfo/{realmId} → CompanyInfo.CompanyName; bad token 401 fault AUTHENTICATION",
                doc: "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "appcenter.intuit.com", "/connect/oauth2") => authorize(ctx, r),
            ("POST", "oauth.platform.intuit.com", "/oauth2/v1/tokens/bearer") => token(ctx, r),
            ("POST", "developer.api.intuit.com", "/v2/oauth2/tokens/revoke") => revoke(ctx, r),
            ("GET", "quickbooks.api.intuit.com" | "sandbox-quickbooks.api.intuit.com", path) => {
                accounting(ctx, r, path)
            }
            _ => json(
                404,
                json!({"fault": {"error": [{"message": "Not found", "code": "404"}], "type": "ValidationFault"}}),
            ),
        }
    }
}

fn oauth_error(status: u16, error: &str) -> Response {
    json(status, json!({"error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "The redirect_uri query parameter value is invalid.");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() || q(r, "state").is_none() {
        return page(400, "response_type=code, scope and state are required");
    }
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[("realmId", REALM)])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client"),
    };
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request");
    }
    let reply = |family: u64| {
        json(
            200,
            json!({
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": ctx.grants.refresh_token(family, "AB11conf"),
                "x_refresh_token_expires_in": 8_726_400,
                "access_token": ctx.grants.access_token(family, "eyJlbmMiOi.conf-"),
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &field(r, "code").unwrap_or_default(),
                &client,
                field(r, "redirect_uri").as_deref(),
                None,
            ) {
                Ok((_, family)) => reply(family),
                Err(Refusal::RedirectMismatch) => oauth_error(400, "invalid_grant"),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => {}
        _ => return oauth_error(401, "invalid_client"),
    }
    let token = (r.media_type().as_deref() == Some("application/json"))
        .then(|| r.json().and_then(|j| j.get("token").and_then(|t| t.as_str()).map(str::to_owned)))
        .flatten();
    match token {
        Some(t) => {
            ctx.grants.revoke(&t, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request"),
    }
}

fn accounting(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401", "code": "3200"}], "type": "AUTHENTICATION"}}),
        );
    }
    let Some(rest) = path.strip_prefix(&format!("/v3/company/{REALM}/")) else {
        return json(
            403,
            json!({"fault": {"error": [{"message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", "code": "003100"}], "type": "AUTHORIZATION"}}),
        );
    };
    if rest == format!("companyinfo/{REALM}") {
        return json(
            200,
            json!({"CompanyInfo": {"CompanyName": "Conformance Books Ltd", "Id": "1", "Country": "US"}, "time": "2026-01-01T00:00:00.000-08:00"}),
        );
    }
    if rest == "query" {
        return json(200, json!({"QueryResponse": {}, "time": "2026-01-01T00:00:00.000-08:00"}));
    }
    json(
        400,
        json!({"Fault": {"Error": [{"Message": "Unsupported Operation", "code": "500"}], "type": "ValidationFault"}}),
    )
}
