//! Bitbucket Cloud OAuth 2.0 consumers: authorize on `bitbucket.org/site/oauth2/authorize`
//! (`client_id`, `response_type=code`, optional `state` and `redirect_uri` below the consumer's
//! callback URL; the token gets the consumer's permissions, and a `scope` parameter may not add
//! any), the token endpoint `site/oauth2/access_token` with HTTP Basic and a form body, access
//! tokens of two hours with a refresh token, no revocation endpoint, and the 2.0 REST API on
//! api.bitbucket.org, scope-checked, errors as `{"type": "error", "error": {"message"}}`.

use serde_json::{Value, json};

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, found, json, oauth_error, page,
    q, split_scopes, with_query,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Bitbucket profile.
#[derive(Debug, Default)]
pub struct Bitbucket;

const CLIENT: Client = Client { id: "C0nf0rmanceBbKey001", secret: "c0nf0rmancebitbucketsecret00000001" };
const OAUTH: &str = "https://developer.atlassian.com/cloud/bitbucket/oauth-2/";
const SCOPES: &str = "https://developer.atlassian.com/cloud/bitbucket/bitbucket-cloud-rest-api-scopes/";
/// The permissions ticked on the kit's consumer: what every token gets.
const CONSUMER_SCOPES: &[&str] = &["account", "repository", "pullrequest", "pullrequest:write", "issue:write"];

impl Profile for Bitbucket {
    fn name(&self) -> &'static str {
        "bitbucket"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["bitbucket.org", "api.bitbucket.org"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["bitbucket.org"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada-conformance", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.bitbucket.org/2.0/repositories/conformance", body: None }]
    }
    /// Bitbucket Cloud documents no token revocation endpoint.
    fn revocation(&self) -> Option<Behaviour> {
        None
    }
    fn is_documented_revocation(&self, _: &Recorded) -> bool {
        false
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://bitbucket.org/site/oauth2/authorize?client_id=…&response_type=code; redirect_uri optional, and when given it must be the consumer's callback URL or below it",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://bitbucket.org/site/oauth2/access_token with -u client_id:secret and form grant_type=authorization_code, code; reply access_token, scopes, expires_in, refresh_token, token_type bearer",
                doc: OAUTH,
            },
            Behaviour {
                what: "access tokens expire in two hours (401 then); grant_type=refresh_token with the refresh token gets a new access token",
                doc: OAUTH,
            },
            Behaviour {
                what: "scopes: repository, pullrequest (implies repository), pullrequest:write, issue:write, account…; an endpoint needs its scope",
                doc: SCOPES,
            },
            Behaviour {
                what: "GET https://api.bitbucket.org/2.0/user → uuid, account_id, username, display_name (account scope)",
                doc: "https://developer.atlassian.com/cloud/bitbucket/rest/api-group-users/#api-user-get",
            },
            Behaviour {
                what: "GET https://api.bitbucket.org/2.0/repositories/{workspace} lists a workspace's repositories (repository scope)",
                doc: "https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-get",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "bitbucket.org", "/site/oauth2/authorize") => authorize(ctx, r),
            ("POST", "bitbucket.org", "/site/oauth2/access_token") => token(ctx, r),
            ("GET", "api.bitbucket.org", path) => api(ctx, r, path),
            _ => error(404, "Resource not found"),
        }
    }
}

/// The API's error body.
fn error(status: u16, message: &str) -> Response {
    json(status, json!({"type": "error", "error": {"message": message}}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    // The request's callback must be the consumer's callback URL or a URL below it; without one
    // Bitbucket sends the browser to the consumer's.
    let registered = ctx.redirect_uris.first().cloned().unwrap_or_default();
    let redirect = match q(r, "redirect_uri") {
        None => registered,
        Some(u) if ctx.redirect_uris.iter().any(|x| u == x || u.starts_with(&format!("{x}/"))) => u.to_owned(),
        Some(_) => return page(400, "The redirect_uri does not match the consumer's callback URL"),
    };
    let back = |error: &str| {
        let mut pairs = vec![("error", error)];
        pairs.extend(q(r, "state").map(|s| ("state", s)));
        found(&with_query(&redirect, &pairs))
    };
    if q(r, "response_type") != Some("code") {
        return back("unsupported_response_type");
    }
    // A scope parameter may not ask for more than the consumer has; fewer changes nothing.
    if split_scopes(q(r, "scope"), ' ').iter().any(|s| !CONSUMER_SCOPES.contains(&s.as_str())) {
        return back("invalid_scope");
    }
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.clone(),
        scopes: CONSUMER_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        offline: true,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "The request must be form-encoded");
    }
    let client = match client_auth(r) {
        Ok((ClientAuth::Basic, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(401, "invalid_client", "Invalid OAuth client credentials"),
    };
    let reply = |grant: Grant, family: u64, refresh: String, state: &str| -> Response {
        let body: Value = json!({
            "access_token": ctx.grants.access_token(family, "conf-bb-access-"),
            "scopes": grant.scopes.join(" "),
            "expires_in": 7200,
            "refresh_token": refresh,
            "token_type": "bearer",
            "state": state,
        });
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            None,
        ) {
            Ok((grant, family)) => {
                let refresh = ctx.grants.refresh_token(family, "conf-bb-refresh-");
                reply(grant, family, refresh, "authorization_code")
            }
            Err(_) => oauth_error(400, "invalid_grant", "The specified code is not valid."),
        },
        // Bitbucket does not say whether a refresh rotates; the kit hands back the same refresh
        // token, which stays good (Patchbay must keep whichever one comes back).
        Some("refresh_token") => {
            let token = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&token, &client, false) {
                Ok((grant, family)) => reply(grant, family, token, "refresh_token"),
                Err(_) => oauth_error(400, "invalid_grant", "Invalid refresh_token"),
            }
        }
        Some(other) => oauth_error(400, "unsupported_grant_type", &format!("Unsupported grant type: {other}")),
        None => oauth_error(400, "invalid_grant", "Unsupported grant type: None"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return error(401, "Token is invalid, expired, or not supported for this endpoint.");
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (scope, body) = match segments.as_slice() {
        ["2.0", "user"] => (
            "account",
            json!({"type": "user", "uuid": "{6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}", "account_id": "557058:0f6e3a56-1d2b-4c8e-9a3f-5b7d2c1e4f60", "username": "ada-conformance", "display_name": "Ada Lovelace", "nickname": "ada"}),
        ),
        ["2.0", "repositories", _] => ("repository", json!({"pagelen": 10, "size": 0, "page": 1, "values": []})),
        _ => return error(404, "Resource not found"),
    };
    // pullrequest implies repository.
    let has = grant.scopes.iter().any(|s| s == scope || (scope == "repository" && s.starts_with("pullrequest")));
    if !has {
        return json(
            403,
            json!({"type": "error", "error": {"message": "Your credentials lack one or more required privilege scopes.", "detail": {"granted": grant.scopes, "required": [scope]}}}),
        );
    }
    json(200, body)
}
