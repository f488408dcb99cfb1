//! Intercom (US region): authorize on app.intercom.com (`client_id` required, `state` and
//! `redirect_uri` optional, no scope parameter: the app's permissions are fixed in the Developer
//! Hub), the token endpoint `/auth/eagle/token` with `code`, `client_id` and `client_secret`
//! (reply `token` and `access_token`, no expiry and no refresh token), and the REST API with
//! `GET /me`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Intercom profile.
#[derive(Debug, Default)]
pub struct Intercom;

const CLIENT: Client =
    Client { id: "c0nf0rma-nce0-4int-erc0-m00000000001", secret: "c0nf0rma-nce0-4int-erc0-m0secret0001" };
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://developers.intercom.com/building-apps/docs/setting-up-oauth";

impl Profile for Intercom {
    fn name(&self) -> &'static str {
        "intercom"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["app.intercom.com", "api.intercom.io"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.intercom.io"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.intercom.io/conversations", body: None }]
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
                what: "authorize https://app.intercom.com/oauth: client_id required; state and redirect_uri (one of the app's) optional; permissions are the app's, not a scope parameter",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.intercom.io/auth/eagle/token: code, client_id, client_secret; the token is used as a bearer token and does not expire",
                doc: OAUTH,
            },
            Behaviour {
                what: "GET https://api.intercom.io/me → type admin, id, name, email, app; a bad token is 401 unauthorized",
                doc: "https://developers.intercom.com/docs/references/rest-api/api.intercom.io/admins/identifyadmin",
            },
            Behaviour {
                what: "the OAuth guide documents no token revocation endpoint: the workspace uninstalls the app",
                doc: OAUTH,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "app.intercom.com", "/oauth") => authorize(ctx, r),
            ("POST", "api.intercom.io", "/auth/eagle/token") => token(ctx, r),
            ("GET", "api.intercom.io", path) => api(ctx, r, path),
            _ => json(
                404,
                json!({"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]}),
            ),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    // Without redirect_uri the app's first (default) redirect URL is used.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri is not one of the app's redirect URLs"),
        None => ctx.redirect_uris[0].clone(),
    };
    let grant = Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, offline: false, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => {
            return json(
                401,
                json!({"type": "error.list", "errors": [{"code": "unauthorized", "message": "Invalid client"}]}),
            );
        }
    };
    match ctx.grants.redeem_code(
        &field(r, "code").unwrap_or_default(),
        &client,
        field(r, "redirect_uri").as_deref(),
        None,
    ) {
        Ok((_, family)) => {
            let token = ctx.grants.access_token(family, "dG9rOmNvbmZvcm1hbmNl");
            json(200, json!({"token_type": "Bearer", "token": token, "access_token": token}))
        }
        Err(_) => json(400, json!({"error": "invalid_grant"})),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"type": "error.list", "request_id": "conf", "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]}),
        );
    }
    match path {
        "/me" => json(
            200,
            json!({"type": "admin", "id": "991267460", "name": "Ada Lovelace", "email": EMAIL, "email_verified": true, "app": {"type": "app", "id_code": "conf1234", "name": "Conformance"}}),
        ),
        "/conversations" => json(200, json!({"type": "conversation.list", "conversations": [], "total_count": 0})),
        _ => {
            json(404, json!({"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]}))
        }
    }
}
