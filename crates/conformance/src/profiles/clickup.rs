//! ClickUp: authorize on app.clickup.com/api (`client_id` and `redirect_uri`, optional `state`,
//! no scopes: the user picks the Workspaces), the token endpoint
//! `POST api.clickup.com/api/v2/oauth/token` with `client_id`, `client_secret` and `code` in the
//! query string, a reply with only `access_token` (no expiry, no refresh token, no revocation
//! endpoint), and the v2 REST API with the OAuth token as `Authorization: Bearer`; a bad token
//! is 401 with an `err` message.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{ApiCall, Behaviour, Client, Ctx, Profile, approve, json, page, q};
use crate::record::Recorded;
use axum::response::Response;

/// The ClickUp profile.
#[derive(Debug, Default)]
pub struct ClickUp;

const CLIENT: Client = Client {
    id: "C0NF0RMANCECL1CKUP0000000000001",
    secret: "C0NF0RMANCECL1CKUPSECRET00000000000000000000000000000001",
};
const EMAIL: &str = "ada@conformance.example";
const AUTH: &str = "https://developer.clickup.com/docs/authentication";
const TOKEN: &str = "https://developer.clickup.com/reference/getaccesstoken";
const USER: &str = "https://developer.clickup.com/reference/getauthorizeduser";

impl Profile for ClickUp {
    fn name(&self) -> &'static str {
        "clickup"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["app.clickup.com", "api.clickup.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.clickup.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.clickup.com/api/v2/team", body: None }]
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
                what: "authorize https://app.clickup.com/api?client_id=…&redirect_uri=…[&state=…]: no scope parameter; the user picks one or more Workspaces and is sent back with code (and state)",
                doc: AUTH,
            },
            Behaviour {
                what: "token POST https://api.clickup.com/api/v2/oauth/token with client_id, client_secret and code as query parameters; reply {access_token}",
                doc: TOKEN,
            },
            Behaviour {
                what: "OAuth access tokens go in the Authorization header; they do not expire and come without a refresh token; no revocation endpoint is documented",
                doc: AUTH,
            },
            Behaviour {
                what: "GET https://api.clickup.com/api/v2/user → {user: {id, username, email}}; GET /api/v2/team lists the authorized Workspaces; a bad token is 401 with an `err` message",
                doc: USER,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "app.clickup.com", "/api") => authorize(ctx, r),
            ("POST", "api.clickup.com", "/api/v2/oauth/token") => token(ctx, r),
            ("GET", "api.clickup.com", path) => api(ctx, r, path),
            _ => json(404, json!({"err": "Route not found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "redirect_uri is not one of the app's redirect URLs");
    };
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), offline: false, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    // The documented parameters are query parameters; a body is not where ClickUp reads them.
    let (Some(id), Some(secret), Some(code)) = (q(r, "client_id"), q(r, "client_secret"), q(r, "code")) else {
        return json(400, json!({"err": "Missing client_id, client_secret or code"}));
    };
    if id != CLIENT.id || secret != CLIENT.secret {
        return json(401, json!({"err": "Client not found"}));
    }
    match ctx.grants.redeem_code(code, id, q(r, "redirect_uri"), None) {
        Ok((_, family)) => json(200, json!({"access_token": ctx.grants.access_token(family, "12345678_")})),
        Err(_) => json(400, json!({"err": "Code not found"})),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(401, json!({"err": "Token invalid"}));
    }
    match path {
        "/api/v2/user" => json(
            200,
            json!({"user": {"id": 183, "username": "ada", "email": EMAIL, "color": "#7b68ee", "profilePicture": null, "initials": "A"}}),
        ),
        "/api/v2/team" => {
            json(200, json!({"teams": [{"id": "9012345", "name": "Conformance", "color": "#7b68ee", "members": []}]}))
        }
        _ => json(404, json!({"err": "Route not found"})),
    }
}
