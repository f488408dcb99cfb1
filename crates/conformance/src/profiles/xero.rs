//! Xero: authorize on login.xero.com (`response_type=code`, `client_id`, `redirect_uri`,
//! space-separated `scope`, `state`), the token endpoint on identity.xero.com with HTTP Basic and
//! a form body (a refresh token only with `offline_access`, a new one on every refresh), RFC
//! 7009 revocation of the refresh token, the connections call that names the grant's tenants,
//! and the Accounting API, which requires `xero-tenant-id` on every call.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Xero profile.
#[derive(Debug, Default)]
pub struct Xero;

const CLIENT: Client =
    Client { id: "C0NF0RMANCE0XER0C1IENT0000000001", secret: "c0nf0rmance-xero-secret-0123456789abcdefghij" };
/// The tenant the emulated consent connects.
pub const TENANT: &str = "45e4708e-d862-4111-ab3a-dd8cd03913e1";
const FLOW: &str = "https://developer.xero.com/documentation/guides/oauth2/auth-flow/";
const TENANTS: &str = "https://developer.xero.com/documentation/guides/oauth2/tenants/";

impl Profile for Xero {
    fn name(&self) -> &'static str {
        "xero"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["login.xero.com", "identity.xero.com", "api.xero.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["identity.xero.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance Trading Ltd"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.xero.com/api.xro/2.0/Invoices", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://identity.xero.com/connect/revocation, HTTP Basic, form token=<refresh token>",
            doc: FLOW,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "identity.xero.com"
            && r.path == "/connect/revocation"
            && r.basic().is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://login.xero.com/identity/connect/authorize: response_type=code, client_id, redirect_uri, scope (space-separated), state",
                doc: FLOW,
            },
            Behaviour {
                what: "token POST https://identity.xero.com/connect/token: HTTP Basic, form grant_type, code, redirect_uri; reply access_token, expires_in 1800, token_type Bearer, refresh_token (with offline_access), scope",
                doc: FLOW,
            },
            Behaviour {
                what: "refresh: Basic, form grant_type=refresh_token; a new refresh token every time; a refresh token lives 60 days",
                doc: FLOW,
            },
            Behaviour {
                what: "revoke: POST /connect/revocation, Basic, form token=<refresh token>; removes the grant's connections",
                doc: FLOW,
            },
            Behaviour {
                what: "GET https://api.xero.com/connections → [{id, tenantId, tenantType, tenantName, …}]; every API call sends xero-tenant-id",
                doc: TENANTS,
            },
            Behaviour {
                what: "granular scopes: GET /Invoices needs accounting.invoices or accounting.invoices.read (apps created since 2026-03-02 have no accounting.transactions)",
                doc: "https://developer.xero.com/documentation/guides/oauth2/scopes/",
            },
            Behaviour {
                what: "GET https://api.xero.com/api.xro/2.0/Organisation → Organisations[0].Name",
                doc: "https://developer.xero.com/documentation/api/accounting/organisation",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "login.xero.com", "/identity/connect/authorize") => authorize(ctx, r),
            ("POST", "identity.xero.com", "/connect/token") => token(ctx, r),
            ("POST", "identity.xero.com", "/connect/revocation") => revoke(ctx, r),
            ("GET", "api.xero.com", "/connections") => connections(ctx, r),
            ("GET", "api.xero.com", path) if path.starts_with("/api.xro/2.0/") => accounting(ctx, r, path),
            _ => json(404, json!({"Title": "Not Found", "Status": 404})),
        }
    }
}

fn oauth_error(status: u16, error: &str) -> Response {
    json(status, json!({"error": error}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "unauthorized_client: Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid redirect_uri");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    let offline = scopes.iter().any(|s| s == "offline_access");
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn basic_client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request");
    }
    let Some(client) = basic_client(r) else { return oauth_error(400, "invalid_client") };
    let reply = |grant: Grant, family: u64| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "eyJhbGciOiJSUzI1NiIsImtpZCI6Ijx.conf-"),
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": grant.scopes.join(" "),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "conf-xero-refresh-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => reply(grant, family),
            Err(_) => oauth_error(400, "invalid_grant"),
        },
        // A new refresh token every time; the kit does not model Xero's grace period for the
        // previous one, so it stays good (Patchbay must use the newest either way).
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(400, "invalid_grant"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if basic_client(r).is_none() {
        return oauth_error(400, "invalid_client");
    }
    match r.form_param("token") {
        Some(token) => {
            ctx.grants.revoke(&token, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request"),
    }
}

fn unauthorized() -> Response {
    json(401, json!({"Type": null, "Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"}))
}

fn connections(ctx: &Ctx, r: &Recorded) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return unauthorized();
    }
    json(
        200,
        json!([{
            "id": "e1eede29-f875-4a5d-8470-17f6a29a88b1",
            "authEventId": "d99ecdfe-391d-43d2-b834-17636ba90e8d",
            "tenantId": TENANT,
            "tenantType": "ORGANISATION",
            "tenantName": "Conformance Trading Ltd",
            "createdDateUtc": "2026-01-01T00:00:00.0000000",
            "updatedDateUtc": "2026-01-01T00:00:00.0000000",
        }]),
    )
}

fn accounting(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else { return unauthorized() };
    // Without the tenant header Xero cannot tell which organisation is meant.
    if r.header("xero-tenant-id") != Some(TENANT) {
        return json(
            403,
            json!({"Type": null, "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}),
        );
    }
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    match path {
        "/api.xro/2.0/Organisation" if has("accounting.settings.read") || has("accounting.settings") => json(
            200,
            json!({"Status": "OK", "Organisations": [{"OrganisationID": "b2c885a9-4bb9-4a00-9b6e-6c2bf60b1a65", "Name": "Conformance Trading Ltd", "CountryCode": "GB"}]}),
        ),
        "/api.xro/2.0/Invoices" if has("accounting.invoices.read") || has("accounting.invoices") => {
            json(200, json!({"Status": "OK", "Invoices": []}))
        }
        "/api.xro/2.0/Organisation" | "/api.xro/2.0/Invoices" => {
            json(401, json!({"Type": null, "Title": "Unauthorized", "Status": 401, "Detail": "insufficient_scope"}))
        }
        _ => json(404, json!({"Title": "Not Found", "Status": 404})),
    }
}
