//! Atlassian Cloud OAuth 2.0 (3LO) for Jira and Confluence: authorize on auth.atlassian.com (`audience=
//! api.atlassian.com`, `prompt=consent`, `state` required), the token endpoint with a JSON body
//! carrying the client id and secret, single-use rotating refresh tokens (only with
//! `offline_access`), the accessible-resources call that names the grant's sites, and the Jira
//! REST API through the gateway at `api.atlassian.com/ex/jira/{cloudid}/…`, the Confluence REST
//! API (v1 search and users, v2 pages and spaces) at `api.atlassian.com/ex/confluence/{cloudid}/
//! wiki/…`, each call refusing a token without one of the scopes its reference lists. There is no
//! revocation endpoint: a user removes the app in their account settings.

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page, q,
    split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Atlassian profile.
#[derive(Debug, Default)]
pub struct Atlassian;

const CLIENT: Client =
    Client { id: "Xc0nformanceAt1assianC1ientId000", secret: "ATOAconformance-secret-0123456789abcdef" };
/// The cloud id of the one site the emulated consent grants.
pub const CLOUD_ID: &str = "11223344-a1b2-3b33-c444-def123456789";
const EMAIL: &str = "ada@conformance.example";
const THREE_LO: &str = "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/";
const REFRESH: &str = "https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens";
const CONFLUENCE_3LO: &str = "https://developer.atlassian.com/cloud/confluence/oauth-2-3lo-apps/";

impl Profile for Atlassian {
    fn name(&self) -> &'static str {
        "atlassian"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["auth.atlassian.com", "api.atlassian.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["auth.atlassian.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[EMAIL, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[
            ApiCall {
                method: "GET",
                url: "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789/rest/api/3/search/jql?jql=project%20%3D%20CONF",
                body: None,
            },
            ApiCall {
                method: "GET",
                url: "https://api.atlassian.com/ex/confluence/11223344-a1b2-3b33-c444-def123456789/wiki/rest/api/search?cql=type%3Dpage",
                body: None,
            },
        ]
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
                what: "authorize https://auth.atlassian.com/authorize: audience=api.atlassian.com, client_id, scope (space-separated), redirect_uri, state, response_type=code, prompt=consent",
                doc: THREE_LO,
            },
            Behaviour {
                what: "token POST https://auth.atlassian.com/oauth/token: JSON body grant_type, client_id, client_secret, code, redirect_uri; reply access_token, expires_in, scope",
                doc: THREE_LO,
            },
            Behaviour {
                what: "refresh token only with offline_access; a refresh (JSON grant_type=refresh_token, client_id, client_secret, refresh_token) returns a new refresh token and disables the one used; an unknown one is 403 invalid_grant",
                doc: REFRESH,
            },
            Behaviour {
                what: "GET https://api.atlassian.com/oauth/token/accessible-resources with the bearer token → [{id (the cloudid), name, url, scopes, avatarUrl}]",
                doc: THREE_LO,
            },
            Behaviour {
                what: "Jira REST under https://api.atlassian.com/ex/jira/{cloudid}/rest/api/3/…; GET /myself → accountId, emailAddress, displayName",
                doc: "https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/",
            },
            Behaviour {
                what: "Confluence REST under https://api.atlassian.com/ex/confluence/{cloudid}/wiki/…, the same authorize, token and accessible-resources calls as Jira",
                doc: CONFLUENCE_3LO,
            },
            Behaviour {
                what: "Confluence v1 GET /wiki/rest/api/user/current → accountId, email, publicName, displayName (read:confluence-user, or granular read:content-details:confluence)",
                doc: "https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-users/",
            },
            Behaviour {
                what: "Confluence v1 GET /wiki/rest/api/search?cql=… (cql required; search:confluence, or granular read:content-details:confluence) → results, start, limit, size, _links",
                doc: "https://developer.atlassian.com/cloud/confluence/rest/v1/api-group-search/",
            },
            Behaviour {
                what: "Confluence v2 GET /wiki/api/v2/pages (read:page:confluence), POST /wiki/api/v2/pages with spaceId (write:page:confluence), GET /wiki/api/v2/spaces (read:space:confluence): granular scopes only",
                doc: "https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page/",
            },
            Behaviour {
                what: "no revocation endpoint for 3LO: the user removes the app's access in their Atlassian account settings",
                doc: THREE_LO,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "auth.atlassian.com", "/authorize") => authorize(ctx, r),
            ("POST", "auth.atlassian.com", "/oauth/token") => token(ctx, r),
            ("GET", "api.atlassian.com", "/oauth/token/accessible-resources") => accessible_resources(ctx, r),
            (_, "api.atlassian.com", path) if path.starts_with("/ex/jira/") => jira(ctx, r, path),
            (_, "api.atlassian.com", path) if path.starts_with("/ex/confluence/") => confluence(ctx, r, path),
            _ => json(404, json!({"code": 404, "message": "Not Found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "The redirect_uri does not match the app's callback URL.");
    };
    if q(r, "audience") != Some("api.atlassian.com") {
        return page(400, "audience must be api.atlassian.com");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    if q(r, "response_type") != Some("code") || scopes.is_empty() || q(r, "state").is_none() {
        return page(400, "response_type=code, scope and state are required");
    }
    if q(r, "prompt") != Some("consent") {
        return page(400, "prompt=consent is required");
    }
    let offline = scopes.iter().any(|s| s == "offline_access");
    let grant =
        Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, offline, ..Grant::default() };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/json") {
        return oauth_error(400, "invalid_request", "The request body must be JSON");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "access_denied", "Unauthorized"),
    };
    let reply = |grant: Grant, family: u64| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "eyJraWQiOiJhdGxhc3NpYW4.conf-"),
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": grant.scopes.join(" "),
        });
        if grant.offline {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "eyJraWQiOiJyZWZyZXNo.conf-"));
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
            Err(_) => oauth_error(403, "invalid_grant", "Invalid authorization code"),
        },
        // Rotating: the refresh token used is disabled by this use.
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, true) {
                Ok((grant, family)) => reply(grant, family),
                Err(_) => oauth_error(403, "invalid_grant", "Unknown or invalid refresh token."),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "Unsupported grant type"),
    }
}

fn unauthorized() -> Response {
    json(401, json!({"code": 401, "message": "Unauthorized"}))
}

fn accessible_resources(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else { return unauthorized() };
    json(
        200,
        json!([{
            "id": CLOUD_ID,
            "name": "conformance",
            "url": "https://conformance.atlassian.net",
            "scopes": grant.scopes,
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }]),
    )
}

fn jira(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else { return unauthorized() };
    let Some(rest) = path.strip_prefix(&format!("/ex/jira/{CLOUD_ID}/rest/api/3/")) else {
        return json(404, json!({"errorMessages": ["Site not found"], "errors": {}}));
    };
    // Jira answers a call outside the granted scopes with 401 "scope does not match".
    let needs = |scope: &str| !grant.scopes.iter().any(|s| s == scope);
    match (r.method.as_str(), rest) {
        ("GET", "myself") if needs("read:jira-user") => scope_mismatch(),
        ("GET", "myself") => json(
            200,
            json!({
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "accountType": "atlassian",
                "emailAddress": EMAIL,
                "displayName": "Ada Lovelace",
                "active": true,
                "timeZone": "Europe/London",
            }),
        ),
        ("GET" | "POST", "search/jql") if needs("read:jira-work") => scope_mismatch(),
        ("GET" | "POST", "search/jql") => json(200, json!({"issues": [], "isLast": true})),
        _ => json(404, json!({"errorMessages": ["Not found"], "errors": {}})),
    }
}

fn scope_mismatch() -> Response {
    json(401, json!({"code": 401, "message": "Unauthorized; scope does not match"}))
}

/// Confluence through the gateway: v1 (`rest/api`) for the user and CQL search, which also take
/// classic scopes, and v2 (`api/v2`) for pages and spaces, documented with granular scopes only.
fn confluence(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else { return unauthorized() };
    let Some(rest) = path.strip_prefix(&format!("/ex/confluence/{CLOUD_ID}/wiki/")) else {
        return json(404, json!({"statusCode": 404, "message": "Site not found"}));
    };
    // Like Jira, a call outside the granted scopes is 401 "scope does not match".
    let lacks = |any_of: &[&str]| !any_of.iter().any(|want| grant.scopes.iter().any(|s| s == want));
    match (r.method.as_str(), rest) {
        ("GET", "rest/api/user/current") if lacks(&["read:confluence-user", "read:content-details:confluence"]) => {
            scope_mismatch()
        }
        ("GET", "rest/api/user/current") => json(
            200,
            json!({
                "type": "known",
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "accountType": "atlassian",
                "email": EMAIL,
                "publicName": "Ada Lovelace",
                "displayName": "Ada Lovelace",
            }),
        ),
        ("GET", "rest/api/search") if lacks(&["search:confluence", "read:content-details:confluence"]) => {
            scope_mismatch()
        }
        ("GET", "rest/api/search") if q(r, "cql").is_none() => {
            json(400, json!({"statusCode": 400, "message": "CQL query parameter is required"}))
        }
        ("GET", "rest/api/search") => json(
            200,
            json!({"results": [], "start": 0, "limit": 25, "size": 0, "_links": {"base": "https://conformance.atlassian.net/wiki", "context": "/wiki"}}),
        ),
        ("GET", "api/v2/pages") if lacks(&["read:page:confluence"]) => scope_mismatch(),
        ("GET", "api/v2/pages") => json(200, json!({"results": [], "_links": {}})),
        ("GET", "api/v2/spaces") if lacks(&["read:space:confluence"]) => scope_mismatch(),
        ("GET", "api/v2/spaces") => json(
            200,
            json!({"results": [{"id": "98306", "key": "CONF", "name": "Conformance", "type": "global", "status": "current"}], "_links": {}}),
        ),
        ("POST", "api/v2/pages") if lacks(&["write:page:confluence"]) => scope_mismatch(),
        ("POST", "api/v2/pages") => {
            let body = r.json().unwrap_or_default();
            if body.get("spaceId").is_none_or(serde_json::Value::is_null) {
                return json(
                    400,
                    json!({"errors": [{"status": 400, "code": "INVALID_REQUEST_PARAMETER", "title": "spaceId is required"}]}),
                );
            }
            json(
                200,
                json!({"id": "229390", "status": body.get("status").cloned().unwrap_or(json!("current")), "title": body["title"], "spaceId": body["spaceId"], "version": {"number": 1}}),
            )
        }
        _ => json(404, json!({"statusCode": 404, "message": "Not Found"})),
    }
}
