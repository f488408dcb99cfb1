//! Wrike: authorize on login.wrike.com (`/oauth2/authorize/v4`, comma-separated scopes), the
//! token endpoint `login.wrike.com/oauth2/token` with a form body and the client id and secret
//! in it, a reply that names the account's data center in `host` (this emulation: an EU account
//! on `app-eu.wrike.com`, whose API answers only there), refresh tokens that rotate on use, and
//! the v4 API with `GET /contacts?me=true`. Wrike documents no revocation endpoint.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Wrike profile.
#[derive(Debug, Default)]
pub struct Wrike;

const CLIENT: Client =
    Client { id: "C0nfWr1k", secret: "c0nf0rmanceWr1keSecret0000000000000000000000000000000000000001" };
const EMAIL: &str = "ada@conformance.example";
/// The data center of the emulated account: its API answers on this host only.
const HOST: &str = "app-eu.wrike.com";
const OAUTH: &str = "https://developers.wrike.com/oauth-20-authorization/";
const OVERVIEW: &str = "https://developers.wrike.com/overview/";
const SCOPES: &[&str] = &["Default", "wsReadOnly", "wsReadWrite"];

impl Profile for Wrike {
    fn name(&self) -> &'static str {
        "wrike"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["login.wrike.com", "www.wrike.com", HOST]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["login.wrike.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://app-eu.wrike.com/api/v4/tasks", body: None }]
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
                what: "authorize https://login.wrike.com/oauth2/authorize/v4: client_id and response_type=code required; redirect_uri, state and scope (comma-separated: Default, wsReadOnly, wsReadWrite, am…) optional",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://login.wrike.com/oauth2/token, form body: client_id, client_secret, grant_type=authorization_code, code; reply access_token, refresh_token, token_type bearer, expires_in 3600 and host, the account's data center",
                doc: OAUTH,
            },
            Behaviour {
                what: "grant_type=refresh_token with the client returns a new access token and a new refresh token; the used one is spent",
                doc: OAUTH,
            },
            Behaviour {
                what: "API base https://{host}/api/v4 with the token in the Authorization header; a method needs one of its scopes; GET /contacts?me=true names the user",
                doc: OVERVIEW,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "login.wrike.com", "/oauth2/authorize/v4") => authorize(ctx, r),
            ("POST", "login.wrike.com", "/oauth2/token") => token(ctx, r),
            (_, "www.wrike.com" | HOST, path) if path.starts_with("/api/v4/") => api(ctx, r, path),
            _ => json(404, json!({"errorDescription": "Method not found", "error": "method_not_found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    if q(r, "response_type") != Some("code") {
        return page(400, "response_type=code is required");
    }
    // Without redirect_uri the app's redirect URI is used.
    let redirect = match q(r, "redirect_uri") {
        Some(u) if ctx.redirect_uris.iter().any(|x| x == u) => u.to_owned(),
        Some(_) => return page(400, "redirect_uri does not match the app's"),
        None => ctx.redirect_uris[0].clone(),
    };
    let scopes = split_scopes(q(r, "scope"), ',');
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return page(400, &format!("Unknown scope {bad}"));
    }
    // No scope asked: the client's default access (read and write), as Wrike documents.
    let scopes = if scopes.is_empty() { vec!["wsReadWrite".to_owned()] } else { scopes };
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect, scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "form body expected");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Client authentication failed"),
    };
    let reply = |family: u64| {
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "eyJ0dCI6InAiLCJhbGciOiJIUzI1NiJ9.c29uZm9ybWFuY2U."),
                "refresh_token": ctx.grants.refresh_token(family, "c29uZm9ybWFuY2UtcmVmcmVzaA"),
                "token_type": "bearer",
                "expires_in": 3600,
                "host": HOST,
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((_, family)) => reply(family),
            Err(_) => oauth_error(400, "invalid_grant", "Authorization code is invalid"),
        },
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((_, family)) => reply(family),
                Err(_) => oauth_error(400, "invalid_grant", "Refresh token is invalid"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"errorDescription": "Access token is unknown or invalid", "error": "not_authorized"}));
    };
    // The account lives on its data center: another host does not know the token.
    if r.host != HOST {
        return json(401, json!({"errorDescription": "Access token is unknown or invalid", "error": "not_authorized"}));
    }
    let has = |any: &[&str]| grant.scopes.iter().any(|s| any.contains(&s.as_str()));
    let read = has(&["Default", "wsReadOnly", "wsReadWrite"]);
    match (r.method.as_str(), path) {
        ("GET", "/api/v4/contacts") if read && q(r, "me") == Some("true") => json(
            200,
            json!({"kind": "contacts", "data": [{"id": "KUAAAAAC0NF", "firstName": "Ada", "lastName": "Lovelace", "type": "Person", "profiles": [{"accountId": "IEAAAAAC0NF", "email": EMAIL, "role": "User", "external": false, "admin": false, "owner": false}], "me": true}]}),
        ),
        ("GET", "/api/v4/tasks") if read => json(200, json!({"kind": "tasks", "data": []})),
        ("GET", "/api/v4/contacts" | "/api/v4/tasks") => {
            json(403, json!({"errorDescription": "Not allowed for this scope", "error": "not_allowed"}))
        }
        _ => json(404, json!({"errorDescription": "Method not found", "error": "method_not_found"})),
    }
}
