//! Eventbrite: authorize on www.eventbrite.com (`response_type=code`, `client_id` = the app's
//! API key, optional `redirect_uri` from the app settings; no scopes), the server-side token
//! exchange with a form body carrying `client_id`, `client_secret`, `code` and `grant_type`
//! (a token that does not expire, without a refresh token), no revocation endpoint, and the
//! v3 API on www.eventbriteapi.com (`GET /v3/users/me/`, `GET /v3/users/me/organizations/`).

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, page, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Eventbrite profile.
#[derive(Debug, Default)]
pub struct Eventbrite;

const CLIENT: Client =
    Client { id: "C0NF0RMANCEEVBAPIKEY", secret: "C0NF0RMANCEEVENTBRITECLIENTSECRET0000000000000001" };
const EMAIL: &str = "ada@conformance.example";
const AUTH: &str = "https://www.eventbrite.com/platform/api#/introduction/authentication";
const FLOW: &str = "https://www.eventbrite.com/platform/docs/app-oauth-flow";
const ME: &str = "https://www.eventbrite.com/platform/api#/reference/user/retrieve-your-user/retrieve-your-user";

impl Profile for Eventbrite {
    fn name(&self) -> &'static str {
        "eventbrite"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.eventbrite.com", "www.eventbriteapi.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["www.eventbrite.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://www.eventbriteapi.com/v3/users/me/organizations/", body: None }]
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
                what: "authorize https://www.eventbrite.com/oauth/authorize: response_type=code and client_id (the API key) required; redirect_uri is the one set in the app settings",
                doc: FLOW,
            },
            Behaviour {
                what: "token POST https://www.eventbrite.com/oauth/token, application/x-www-form-urlencoded: grant_type=authorization_code, client_id, client_secret, code, redirect_uri; reply access_token, token_type bearer",
                doc: FLOW,
            },
            Behaviour {
                what: "no scopes; tokens are tied to the user and end only when, for example, the user changes their password; there is no refresh token and no revocation endpoint",
                doc: AUTH,
            },
            Behaviour {
                what: "GET https://www.eventbriteapi.com/v3/users/me/ → id, name, emails; a bad token is 401 INVALID_AUTH",
                doc: ME,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "www.eventbrite.com", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "www.eventbrite.com", "/oauth/token") => token(ctx, r),
            ("GET", "www.eventbriteapi.com", path) => api(ctx, r, path),
            _ => not_found(),
        }
    }
}

fn not_found() -> Response {
    json(
        404,
        json!({"status_code": 404, "error_description": "The path you requested does not exist.", "error": "NOT_FOUND"}),
    )
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid API key");
    }
    if q(r, "response_type") != Some("code") {
        return page(400, "response_type must be code for a server-side app");
    }
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri does not match the app's"),
        None => ctx.redirect_uris[0].clone(),
    };
    let grant = Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, offline: false, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let error = |status: u16, code: &str, text: &str| json(status, json!({"error": code, "error_description": text}));
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return error(400, "invalid_request", "the body must be form-encoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return error(401, "invalid_client", "client_id and client_secret are required in the body"),
    };
    if field(r, "grant_type").as_deref() != Some("authorization_code") {
        return error(400, "unsupported_grant_type", "grant_type must be authorization_code");
    }
    match ctx.grants.redeem_code(
        &field(r, "code").unwrap_or_default(),
        &client,
        field(r, "redirect_uri").as_deref(),
        None,
    ) {
        Ok((_, family)) => {
            json(200, json!({"access_token": ctx.grants.access_token(family, "C0NFEVBT0KEN"), "token_type": "bearer"}))
        }
        Err(_) => error(400, "invalid_grant", "the code is invalid or was already used"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"status_code": 401, "error_description": "The OAuth token you provided was invalid.", "error": "INVALID_AUTH"}),
        );
    }
    match path {
        "/v3/users/me/" => json(
            200,
            json!({
                "id": "1234567890123", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
                "emails": [{"email": EMAIL, "verified": true, "primary": true}], "is_public": false, "image_id": null,
            }),
        ),
        "/v3/users/me/organizations/" => json(
            200,
            json!({
                "organizations": [{"id": "987654321", "name": "Conformance Events", "vertical": "default", "image_id": null}],
                "pagination": {"object_count": 1, "page_number": 1, "page_size": 50, "page_count": 1, "has_more_items": false},
            }),
        ),
        _ => not_found(),
    }
}
