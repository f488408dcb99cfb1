//! GitHub OAuth apps: `/login/oauth/authorize` and `/login/oauth/access_token` on github.com
//! (client id and secret as parameters; a JSON reply only with `Accept: application/json`,
//! form-encoded otherwise; errors as HTTP 200 with `error`; tokens without expiry or refresh
//! token; granted scopes comma-separated), `GET /user` on api.github.com, and the token
//! revocation `DELETE /applications/{client_id}/token` with HTTP Basic client credentials and a
//! JSON `{"access_token": …}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, field, json, page, pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;

/// The GitHub profile.
#[derive(Debug, Default)]
pub struct GitHub;

const CLIENT: Client = Client { id: "Ov23liConformance0001", secret: "conformance0github0secret0000000000000000" };
const AUTHORIZING: &str = "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps";
const OAUTH_APPS_API: &str = "https://docs.github.com/en/rest/apps/oauth-applications";
const LOGIN: &str = "ada-conformance";

impl Profile for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["github.com", "api.github.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["github.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[LOGIN]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://api.github.com/user/repos", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "DELETE https://api.github.com/applications/{client_id}/token with HTTP Basic client_id:client_secret and a JSON body {access_token}",
            doc: "https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token",
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "DELETE"
            && r.host == "api.github.com"
            && r.path == format!("/applications/{}/token", CLIENT.id)
            && r.basic() == Some((CLIENT.id.to_owned(), CLIENT.secret.to_owned()))
            && r.json().is_some_and(|j| j.get("access_token").and_then(Value::as_str).is_some())
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize: client_id required; redirect_uri the app's callback URL or a path below it (optional: the callback URL); scope space-delimited; state; code_challenge with S256 only (optional)",
                doc: AUTHORIZING,
            },
            Behaviour {
                what: "PKCE: S256 supported on the OAuth app flow, not required",
                doc: "https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication",
            },
            Behaviour {
                what: "access_token: POST with client_id, client_secret, code, redirect_uri, code_verifier; JSON reply {access_token, scope (comma-separated), token_type bearer} with Accept: application/json, else form-encoded",
                doc: AUTHORIZING,
            },
            Behaviour {
                what: "token errors are HTTP 200 with error, error_description, error_uri (incorrect_client_credentials, redirect_uri_mismatch, bad_verification_code)",
                doc: "https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
            },
            Behaviour {
                what: "OAuth app tokens carry no expires_in and no refresh_token",
                doc: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/differences-between-github-apps-and-oauth-apps",
            },
            Behaviour {
                what: "GET /user → login, id (Bearer or `token` scheme); 401 {message: Bad credentials}",
                doc: "https://docs.github.com/en/rest/users/users#get-the-authenticated-user",
            },
            Behaviour {
                what: "GET /user/repos → a list of repositories",
                doc: "https://docs.github.com/en/rest/repos/repos#list-repositories-for-the-authenticated-user",
            },
            Behaviour {
                what: "DELETE /applications/{client_id}/token: HTTP Basic with the app's client id and secret, JSON {access_token}; 204; 404 for an unknown token, 422 without access_token",
                doc: OAUTH_APPS_API,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        let revoke_path = format!("/applications/{}/token", CLIENT.id);
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "github.com", "/login/oauth/authorize") => authorize(ctx, r),
            ("POST", "github.com", "/login/oauth/access_token") => token(ctx, r),
            ("GET", "api.github.com", "/user") => api(
                ctx,
                r,
                |_| json!({"login": LOGIN, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User", "name": "Ada Lovelace"}),
            ),
            ("GET", "api.github.com", "/user/repos") => api(ctx, r, |_| json!([])),
            ("DELETE", "api.github.com", p) if p == revoke_path => revoke(ctx, r),
            _ => message(404, "Not Found"),
        }
    }
}

/// GitHub's REST error body.
fn message(status: u16, text: &str) -> Response {
    json(
        status,
        json!({"message": text, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
    )
}

/// The token of `Authorization: Bearer …` or GitHub's older `Authorization: token …`.
fn token_of(r: &Recorded) -> Option<&str> {
    r.bearer().or_else(|| r.header("authorization").and_then(|a| a.strip_prefix("token ")))
}

fn api(ctx: &Ctx, r: &Recorded, f: impl FnOnce(&Grant) -> Value) -> Response {
    match token_of(r).and_then(|t| ctx.grants.check_access(t)) {
        Some(grant) => json(200, f(&grant)),
        None => message(401, "Bad credentials"),
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(404, "Not Found");
    }
    // Without redirect_uri GitHub uses the app's callback URL; the kit registers exactly one.
    let redirect = match q(r, "redirect_uri") {
        // GitHub accepts the callback URL itself or a path below it on the same host.
        Some(u) if ctx.redirect_uris.iter().any(|x| u == x || u.starts_with(&format!("{x}/"))) => u.to_owned(),
        Some(_) => return page(400, "The redirect_uri is not associated with this application."),
        None => ctx.redirect_uris[0].clone(),
    };
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect,
        scopes: split_scopes(q(r, "scope"), ' '),
        offline: false,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

/// A token-endpoint reply: JSON when asked for, else GitHub's default form encoding.
fn reply(r: &Recorded, pairs: &[(&str, &str)]) -> Response {
    let wants_json = r.header("accept").is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let body: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        return json(200, Value::Object(body));
    }
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    (StatusCode::OK, [("content-type", "application/x-www-form-urlencoded; charset=utf-8")], body).into_response()
}

fn token_error(r: &Recorded, error: &str, description: &str) -> Response {
    let uri = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
    reply(r, &[("error", error), ("error_description", description), ("error_uri", uri)])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    // GitHub documents the client as the client_id and client_secret parameters.
    if r.basic().is_some() || field(r, "client_id").as_deref() != Some(CLIENT.id) {
        return token_error(
            r,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    if field(r, "client_secret").as_deref() != Some(CLIENT.secret) {
        return token_error(
            r,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    match field(r, "grant_type").as_deref() {
        None | Some("authorization_code") => {}
        // OAuth app tokens have no refresh token to use.
        Some(_) => return token_error(r, "unsupported_grant_type", "The grant type is not supported."),
    }
    let code = field(r, "code").unwrap_or_default();
    match ctx.grants.redeem_code(
        &code,
        CLIENT.id,
        field(r, "redirect_uri").as_deref(),
        field(r, "code_verifier").as_deref(),
    ) {
        Ok((grant, family)) => {
            let access = ctx.grants.access_token(family, "gho_conf");
            let scope = grant.scopes.join(",");
            reply(r, &[("access_token", &access), ("scope", &scope), ("token_type", "bearer")])
        }
        Err(Refusal::RedirectMismatch) => token_error(
            r,
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        ),
        Err(_) => token_error(r, "bad_verification_code", "The code passed is incorrect or expired."),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if r.basic() != Some((CLIENT.id.to_owned(), CLIENT.secret.to_owned())) {
        return message(401, "Requires authentication");
    }
    let Some(token) = r.json().and_then(|j| j.get("access_token").and_then(Value::as_str).map(str::to_owned)) else {
        return message(422, "Invalid request.\n\n\"access_token\" wasn't supplied.");
    };
    if ctx.grants.check_access(&token).is_none() {
        return message(404, "Not Found");
    }
    ctx.grants.revoke(&token, false);
    StatusCode::NO_CONTENT.into_response()
}
