//! LinkedIn: authorize on www.linkedin.com (`response_type=code`, `client_id`, `redirect_uri`,
//! space-separated `scope`, `state`), the `/oauth/v2/accessToken` endpoint with a form body and
//! the client id and secret in it (60-day access tokens; the kit's app is an approved partner,
//! so it also gets a refresh token that lives 365 days from the consent and is not extended by
//! refreshing), no revocation endpoint, and the API on api.linkedin.com: the OpenID userinfo
//! call and the versioned Posts API, which needs `LinkedIn-Version`.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The LinkedIn profile.
#[derive(Debug, Default)]
pub struct LinkedIn;

const CLIENT: Client = Client { id: "78conf0rmance1", secret: "c0nf0rmanceL1nked1n5ecret01" };
const EMAIL: &str = "ada@conformance.example";
const FLOW: &str = "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow";
const REFRESH: &str = "https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens";
const OIDC: &str =
    "https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2";
const POSTS: &str = "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api";
/// 60 days, in seconds.
const ACCESS_TTL: u64 = 5_184_000;
/// 365 days, in seconds.
const REFRESH_TTL: u64 = 31_536_000;

impl Profile for LinkedIn {
    fn name(&self) -> &'static str {
        "linkedin"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.linkedin.com", "api.linkedin.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["www.linkedin.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "POST",
            url: "https://api.linkedin.com/rest/posts",
            body: Some(
                r#"{"author": "urn:li:person:782bbtaQ", "commentary": "Hello", "visibility": "PUBLIC", "lifecycleState": "PUBLISHED", "distribution": {"feedDistribution": "MAIN_FEED"}}"#,
            ),
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        // LinkedIn documents no token revocation endpoint for this flow.
        None
    }
    fn is_documented_revocation(&self, _: &Recorded) -> bool {
        false
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://www.linkedin.com/oauth/v2/authorization: response_type=code, client_id, redirect_uri, scope (space-delimited, URL-encoded) required; state recommended",
                doc: FLOW,
            },
            Behaviour {
                what: "token POST https://www.linkedin.com/oauth/v2/accessToken: application/x-www-form-urlencoded grant_type=authorization_code, code, client_id, client_secret, redirect_uri; reply access_token, expires_in (60 days), scope",
                doc: FLOW,
            },
            Behaviour {
                what: "approved partners also get refresh_token and refresh_token_expires_in (365 days from the first consent; refreshing does not extend it); grant_type=refresh_token with client_id and client_secret",
                doc: REFRESH,
            },
            Behaviour {
                what: "GET https://api.linkedin.com/v2/userinfo (openid profile email) → sub, name, given_name, family_name, email; a bad token is 401",
                doc: OIDC,
            },
            Behaviour {
                what: "POST https://api.linkedin.com/rest/posts (w_member_social) with LinkedIn-Version: YYYYMM and X-Restli-Protocol-Version: 2.0.0 → 201 with x-restli-id",
                doc: POSTS,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "www.linkedin.com", "/oauth/v2/authorization") => authorize(ctx, r),
            ("POST", "www.linkedin.com", "/oauth/v2/accessToken") => token(ctx, r),
            ("GET", "api.linkedin.com", "/v2/userinfo") => userinfo(ctx, r),
            ("POST", "api.linkedin.com", "/rest/posts") => posts(ctx, r),
            _ => api_error(404, 0, "Resource not found"),
        }
    }
}

fn api_error(status: u16, code: u32, message: &str) -> Response {
    json(status, json!({"status": status, "serviceErrorCode": code, "message": message}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "invalid_client: The passed in client_id is invalid");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid_redirect_uri: The redirect_uri does not match the registered value");
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() {
        return page(400, "response_type=code and scope are required");
    }
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline: true, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Client authentication failed"),
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => json(
                200,
                json!({
                    "access_token": ctx.grants.access_token(family, "AQconfLinkedInAccess"),
                    "expires_in": ACCESS_TTL,
                    "refresh_token": ctx.grants.refresh_token(family, "AQconfLinkedInRefresh"),
                    "refresh_token_expires_in": REFRESH_TTL,
                    "scope": grant.scopes.join(","),
                }),
            ),
            Err(_) => oauth_error(
                400,
                "invalid_request",
                "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.",
            ),
        },
        // The same refresh token, with what is left of its 365 days (the kit does not model
        // the clock here, so it states a little less than at the consent).
        Some("refresh_token") => {
            let refresh = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&refresh, &client, false) {
                Ok((grant, family)) => json(
                    200,
                    json!({
                        "access_token": ctx.grants.access_token(family, "AQconfLinkedInAccess"),
                        "expires_in": ACCESS_TTL,
                        "refresh_token": refresh,
                        "refresh_token_expires_in": REFRESH_TTL - 86_400,
                        "scope": grant.scopes.join(","),
                    }),
                ),
                Err(_) => oauth_error(400, "invalid_grant", "The provided refresh token is invalid or expired"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn userinfo(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return api_error(401, 65600, "Invalid access token");
    };
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    if !has("openid") {
        return api_error(403, 100, "Not enough permissions to access: userinfo.GET.NO_VERSION");
    }
    let mut info = json!({"sub": "782bbtaQ", "locale": {"country": "GB", "language": "en"}});
    if has("profile") {
        info["name"] = json!("Ada Lovelace");
        info["given_name"] = json!("Ada");
        info["family_name"] = json!("Lovelace");
    }
    if has("email") {
        info["email"] = json!(EMAIL);
        info["email_verified"] = json!(true);
    }
    json(200, info)
}

fn posts(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return api_error(401, 65600, "Invalid access token");
    };
    // The versioned API refuses a call without a version.
    if r.header("linkedin-version").is_none_or(|v| v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit())) {
        return api_error(
            400,
            0,
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        );
    }
    if !grant.scopes.iter().any(|s| s == "w_member_social") {
        return api_error(403, 100, "Not enough permissions to access: partnerApiPostsExternal.CREATE");
    }
    // LinkedIn answers 201 with the post's URN in x-restli-id; the kit's harness expects a 2xx
    // proxied through as 200, so it answers 200 with the same header.
    let mut response = json(200, json!({}));
    response
        .headers_mut()
        .insert("x-restli-id", axum::http::HeaderValue::from_static("urn:li:share:7000000000000000001"));
    response
}
