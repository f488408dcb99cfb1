//! Zoho CRM on the EU data center: authorize on accounts.zoho.eu (comma-separated scopes,
//! `access_type=offline` for a refresh token, `prompt=consent`), a callback that names the
//! data center (`location`, `accounts-server`), the token endpoint with the client id and
//! secret among the parameters (a form body), a reply that names the data center's API domain
//! (`api_domain`, here `https://www.zohoapis.eu`), refresh tokens that are not replaced,
//! revocation by `POST /oauth/v2/token/revoke?token=`, and the CRM v8 API, which takes the token
//! as `Authorization: Zoho-oauthtoken <token>`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{ApiCall, Behaviour, Client, Ctx, Profile, approve, json, page, param, q, split_scopes};
use crate::record::Recorded;
use axum::response::Response;

/// The Zoho CRM profile.
#[derive(Debug, Default)]
pub struct Zoho;

const CLIENT: Client =
    Client { id: "1000.C0NF0RMANCEZ0H0000000000000001", secret: "c0nf0rmancez0h0secret00000000000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const ACCOUNTS: &str = "accounts.zoho.eu";
const API: &str = "www.zohoapis.eu";
const OAUTH: &str = "https://www.zoho.com/crm/developer/docs/api/v8/oauth-overview.html";
const MULTI_DC: &str = "https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html";
const TOKEN: &str = "https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html";
const USERS: &str = "https://www.zoho.com/crm/developer/docs/api/v8/get-users.html";

impl Profile for Zoho {
    // Named after the definition: its token URL's host is a setting, so the kit's client
    // variables reach it by this name (`PATCHBAY_ZOHO_CRM_CLIENT_ID`).
    fn name(&self) -> &'static str {
        "zoho-crm"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[ACCOUNTS, API]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &[ACCOUNTS]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://www.zohoapis.eu/crm/v8/Leads?fields=Last_Name,Email", body: None }]
    }
    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[("accounts", ACCOUNTS)]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://accounts.zoho.eu/oauth/v2/token/revoke?token=<refresh token>",
            doc: TOKEN,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.host == ACCOUNTS && r.path == "/oauth/v2/token/revoke" && q(r, "token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize {accounts-server}/oauth/v2/auth: scope (comma-separated), client_id, response_type=code, redirect_uri required; access_type=offline for a refresh token, prompt=consent, state optional",
                doc: OAUTH,
            },
            Behaviour {
                what: "the callback carries code, location and accounts-server; the token request goes to that data center's accounts server",
                doc: MULTI_DC,
            },
            Behaviour {
                what: "token POST {accounts-server}/oauth/v2/token: client_id, client_secret, grant_type, code, redirect_uri; reply access_token, refresh_token (offline only), api_domain, token_type Bearer, expires_in 3600",
                doc: TOKEN,
            },
            Behaviour {
                what: "grant_type=refresh_token returns a new access token (with api_domain) and no new refresh token; the refresh token stays good",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke: POST {accounts-server}/oauth/v2/token/revoke?token=<refresh token>, reply {status: success}",
                doc: TOKEN,
            },
            Behaviour {
                what: "API on {api_domain}/crm/v8 with Authorization: Zoho-oauthtoken <token>; GET /users?type=CurrentUser needs ZohoCRM.users.READ; a bad token is 401 INVALID_TOKEN",
                doc: USERS,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", ACCOUNTS, "/oauth/v2/auth") => authorize(ctx, r),
            ("POST", ACCOUNTS, "/oauth/v2/token") => token(ctx, r),
            ("POST", ACCOUNTS, "/oauth/v2/token/revoke") => revoke(ctx, r),
            (_, API, path) => api(ctx, r, path),
            _ => json(
                404,
                json!({"code": "INVALID_URL_PATTERN", "details": {}, "message": "Please check if the URL trying to access is a correct one", "status": "error"}),
            ),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid Client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Invalid Redirect Uri");
    };
    let scopes = split_scopes(q(r, "scope"), ',');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        // Only an offline grant comes with a refresh token.
        offline: q(r, "access_type") == Some("offline"),
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[("location", "eu"), ("accounts-server", "https://accounts.zoho.eu")])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    // The parameters go in the request (Zoho shows them as form data and as a query); the client
    // authenticates with them, not with HTTP Basic.
    if r.basic().is_some() {
        return json(400, json!({"error": "invalid_client"}));
    }
    let (Some(id), Some(secret)) = (param(r, "client_id"), param(r, "client_secret")) else {
        return json(400, json!({"error": "invalid_client"}));
    };
    if id != CLIENT.id || secret != CLIENT.secret {
        return json(400, json!({"error": "invalid_client"}));
    }
    let reply = |grant: &Grant, family: u64, with_refresh: bool| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "1000.c0nf0rmance."),
            "scope": grant.scopes.join(" "),
            "api_domain": "https://www.zohoapis.eu",
            "token_type": "Bearer",
            "expires_in": 3600,
        });
        if with_refresh {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "1000.c0nf0rmancerefresh."));
        }
        json(200, body)
    };
    match param(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &param(r, "code").unwrap_or_default(),
                &id,
                param(r, "redirect_uri").as_deref(),
                None,
            ) {
                Ok((grant, family)) => reply(&grant, family, grant.offline),
                Err(_) => json(400, json!({"error": "invalid_code"})),
            }
        }
        // Zoho's refresh tokens do not rotate: the reply has no new one.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&param(r, "refresh_token").unwrap_or_default(), &id, false) {
                Ok((grant, family)) => reply(&grant, family, false),
                Err(_) => json(400, json!({"error": "invalid_code"})),
            }
        }
        _ => json(400, json!({"error": "unsupported_grant_type"})),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    match q(r, "token") {
        // Revoking the refresh token ends the grant, its access tokens included.
        Some(token) if ctx.grants.is_refresh_token(token) && ctx.grants.revoke(token, true) => {
            json(200, json!({"status": "success"}))
        }
        _ => json(400, json!({"status": "failure", "error": "invalid_token"})),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let token = r.header("authorization").and_then(|h| h.strip_prefix("Zoho-oauthtoken "));
    let Some(grant) = token.and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}),
        );
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    let mismatch = || {
        json(
            401,
            json!({"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL", "status": "error"}),
        )
    };
    match (r.method.as_str(), path) {
        ("GET", "/crm/v8/users") if q(r, "type") == Some("CurrentUser") => {
            if !has("ZohoCRM.users.READ") {
                return mismatch();
            }
            json(
                200,
                json!({"users": [{"id": "4150868000000225013", "full_name": "Ada Lovelace", "email": EMAIL, "status": "active", "role": {"name": "CEO", "id": "4150868000000026005"}}], "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false}}),
            )
        }
        ("GET", "/crm/v8/Leads") => {
            if !has("ZohoCRM.modules.leads.READ") {
                return mismatch();
            }
            // v8 asks for the fields to return.
            if q(r, "fields").is_none() {
                return json(
                    400,
                    json!({"code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "fields"}, "message": "One of the expected parameter is missing", "status": "error"}),
                );
            }
            json(200, json!({"data": [], "info": {"per_page": 200, "count": 0, "page": 1, "more_records": false}}))
        }
        _ => json(
            404,
            json!({"code": "INVALID_URL_PATTERN", "details": {}, "message": "Please check if the URL trying to access is a correct one", "status": "error"}),
        ),
    }
}
