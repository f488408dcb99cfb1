//! Webflow: authorize on webflow.com (`response_type=code`, `client_id`, space-separated
//! `scope`, optional `state` and `redirect_uri`), the token endpoint on api.webflow.com with
//! `client_id`, `client_secret`, `code` and `grant_type` in the body (reply `access_token` and
//! `token_type`, no expiry, no refresh token), revocation of the whole authorization by
//! `POST /oauth/revoke_authorization` with a JSON body naming the client and the access token
//! (`{"did_revoke": true}`), and the Data API v2 (`GET /v2/token/authorized_by`, `GET /v2/sites`)
//! with per-scope checks.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Webflow profile.
#[derive(Debug, Default)]
pub struct Webflow;

const CLIENT: Client = Client {
    id: "c0nf0rmancewebf10wc1ientid00000000000000000000000000000000000001",
    secret: "c0nf0rmancewebf10wsecret000000000000000000000000000000000000001",
};
const EMAIL: &str = "ada@conformance.example";
const OAUTH: &str = "https://developers.webflow.com/data/reference/oauth-app";
const SCOPES: &str = "https://developers.webflow.com/data/reference/scopes";

impl Profile for Webflow {
    fn name(&self) -> &'static str {
        "webflow"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["webflow.com", "api.webflow.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.webflow.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.webflow.com/v2/sites", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://webflow.com/oauth/revoke_authorization, JSON client_id, client_secret, access_token; reply {\"did_revoke\": true}",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        let body = r.json().unwrap_or_default();
        r.method == "POST"
            && r.host == "webflow.com"
            && r.path == "/oauth/revoke_authorization"
            && r.media_type().as_deref() == Some("application/json")
            && ["client_id", "client_secret", "access_token"].iter().all(|k| body.get(k).is_some_and(|v| v.is_string()))
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://webflow.com/oauth/authorize: response_type=code, client_id, scope (space-separated) required; state and redirect_uri (the app's registered one) optional; the user picks sites or a workspace",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://api.webflow.com/oauth/access_token: client_id, client_secret, code, grant_type=authorization_code, redirect_uri in the body; reply access_token and token_type bearer",
                doc: OAUTH,
            },
            Behaviour {
                what: "access tokens do not expire and there is no refresh token; a refresh_token grant is unsupported",
                doc: OAUTH,
            },
            Behaviour {
                what: "revoke_authorization with client_id, client_secret and access_token ends the app's authorization",
                doc: OAUTH,
            },
            Behaviour {
                what: "GET /v2/token/authorized_by needs authorized_user:read (id, email, firstName, lastName), GET /v2/sites sites:read; a bad token is 401, a missing scope 403 missing_scopes",
                doc: SCOPES,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "webflow.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "webflow.com", "/oauth/revoke_authorization") => revoke(ctx, r),
            ("POST", "api.webflow.com", "/oauth/access_token") => token(ctx, r),
            ("GET", "api.webflow.com", path) => api(ctx, r, path),
            _ => json(404, json!({"code": "route_not_found", "message": "Requested route not found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    // Without redirect_uri the app's registered one is used.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri does not match the app's"),
        None => ctx.redirect_uris[0].clone(),
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, scopes, offline: false, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Invalid client credentials"),
    };
    if field(r, "grant_type").as_deref() != Some("authorization_code") {
        return oauth_error(400, "unsupported_grant_type", "Only authorization_code is supported");
    }
    match ctx.grants.redeem_code(
        &field(r, "code").unwrap_or_default(),
        &client,
        field(r, "redirect_uri").as_deref(),
        None,
    ) {
        Ok((_, family)) => {
            json(200, json!({"access_token": ctx.grants.access_token(family, "c0nfwebf10w"), "token_type": "bearer"}))
        }
        Err(_) => oauth_error(400, "invalid_grant", "The authorization code is invalid or was already used"),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/json") {
        return json(400, json!({"code": "bad_request", "message": "Expected a JSON body"}));
    }
    let (Some(id), Some(secret), Some(token)) =
        (field(r, "client_id"), field(r, "client_secret"), field(r, "access_token"))
    else {
        return json(
            400,
            json!({"code": "bad_request", "message": "client_id, client_secret and access_token are required"}),
        );
    };
    if id != CLIENT.id || secret != CLIENT.secret {
        return json(401, json!({"code": "not_authorized", "message": "Invalid client credentials"}));
    }
    // Revoking ends the app's authorization for the user.
    json(200, json!({"did_revoke": ctx.grants.revoke(&token, true)}))
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"code": "not_authorized", "message": "Request not authorized"}));
    };
    let needed = match path {
        "/v2/token/authorized_by" => "authorized_user:read",
        "/v2/sites" => "sites:read",
        _ => return json(404, json!({"code": "route_not_found", "message": "Requested route not found"})),
    };
    if !grant.scopes.iter().any(|s| s == needed) {
        return json(
            403,
            json!({"code": "missing_scopes", "message": format!("OAuthForbidden: You are missing the following scopes - {needed}")}),
        );
    }
    match path {
        "/v2/token/authorized_by" => json(
            200,
            json!({"id": "6c0nf0rmance0000000000001", "email": EMAIL, "firstName": "Ada", "lastName": "Lovelace"}),
        ),
        _ => json(200, json!({"sites": []})),
    }
}
