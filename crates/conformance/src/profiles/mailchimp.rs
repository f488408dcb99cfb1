//! Mailchimp Marketing OAuth 2 on login.mailchimp.com: authorize (`response_type=code`,
//! `client_id`, `redirect_uri`; no scopes), the token endpoint with the client in the form body
//! and a token that never expires (`expires_in: 0`, no refresh token), the metadata endpoint
//! that names the account's data center and takes `Authorization: OAuth <token>`, and the
//! Marketing API on `https://{dc}.api.mailchimp.com/3.0`. Mailchimp documents no revocation.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Mailchimp profile.
#[derive(Debug, Default)]
pub struct Mailchimp;

const CLIENT: Client = Client { id: "905192837461", secret: "c0nf0rmance0mailchimp0secret0123456789abcdef0123" };
/// The data center of the emulated account.
const DC: &str = "us6";
const API_HOST: &str = "us6.api.mailchimp.com";
const GUIDE: &str = "https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/";
const FUNDAMENTALS: &str = "https://mailchimp.com/developer/marketing/docs/fundamentals/";

impl Profile for Mailchimp {
    fn name(&self) -> &'static str {
        "mailchimp"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["login.mailchimp.com", API_HOST]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["login.mailchimp.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance Co-op", "ada@conformance.example"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://us6.api.mailchimp.com/3.0/lists", body: None }]
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
                what: "authorize GET https://login.mailchimp.com/oauth2/authorize: response_type=code, client_id, redirect_uri; no scopes",
                doc: GUIDE,
            },
            Behaviour {
                what: "token POST https://login.mailchimp.com/oauth2/token: form grant_type=authorization_code, client_id, client_secret, redirect_uri, code; the token does not expire (expires_in 0) and comes without a refresh token",
                doc: GUIDE,
            },
            Behaviour {
                what: "GET https://login.mailchimp.com/oauth2/metadata with Authorization: OAuth <token> → dc, accountname, login, api_endpoint",
                doc: GUIDE,
            },
            Behaviour {
                what: "Marketing API at https://<dc>.api.mailchimp.com/3.0: GET / → account_id, account_name, email; GET /lists; a bad token is 401 (problem details)",
                doc: FUNDAMENTALS,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "login.mailchimp.com", "/oauth2/authorize") => authorize(ctx, r),
            ("POST", "login.mailchimp.com", "/oauth2/token") => token(ctx, r),
            ("GET", "login.mailchimp.com", "/oauth2/metadata") => metadata(ctx, r),
            ("GET", API_HOST, path) if path.starts_with("/3.0/") => api(ctx, r, path),
            _ => problem(404, "Resource Not Found", "The requested resource could not be found."),
        }
    }
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    json(
        status,
        json!({"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title, "status": status, "detail": detail, "instance": ""}),
    )
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid redirect_uri");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "response_type must be code");
    }
    let grant = Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "client_id and client_secret go in the form body"),
    };
    if field(r, "grant_type").as_deref() != Some("authorization_code") {
        return oauth_error(400, "unsupported_grant_type", "only authorization_code; tokens do not expire");
    }
    match ctx.grants.redeem_code(
        &field(r, "code").unwrap_or_default(),
        &client,
        field(r, "redirect_uri").as_deref(),
        None,
    ) {
        // No refresh token and no expiry: Mailchimp does not expire tokens.
        Ok((_, family)) => json(
            200,
            json!({"access_token": ctx.grants.access_token(family, "conf-mailchimp-"), "expires_in": 0, "scope": null}),
        ),
        Err(_) => oauth_error(400, "invalid_grant", "Invalid authorization code"),
    }
}

fn metadata(ctx: &Ctx, r: &Recorded) -> Response {
    // The metadata endpoint takes the OAuth scheme, not Bearer.
    let token = r.header("authorization").and_then(|v| v.strip_prefix("OAuth "));
    if token.and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(
            401,
            json!({"error": "invalid_token", "error_description": "Authorization: OAuth <token> is required"}),
        );
    }
    json(
        200,
        json!({
            "dc": DC, "role": "owner", "accountname": "Conformance Co-op", "user_id": 31415926,
            "login": {"email": "ada@conformance.example", "avatar": null, "login_id": 27182818,
                      "login_name": "ada", "login_email": "ada@conformance.example"},
            "login_url": "https://login.mailchimp.com",
            "api_endpoint": format!("https://{API_HOST}"),
        }),
    )
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return problem(
            401,
            "API Key Invalid",
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        );
    }
    match path {
        "/3.0/" => json(
            200,
            json!({"account_id": "8d3a3db4d97663a9074efcc16", "login_id": "27182818", "account_name": "Conformance Co-op",
                   "email": "ada@conformance.example", "role": "owner"}),
        ),
        "/3.0/lists" => json(200, json!({"lists": [], "total_items": 0})),
        _ => problem(404, "Resource Not Found", "The requested resource could not be found."),
    }
}
