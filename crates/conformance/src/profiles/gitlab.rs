//! GitLab.com as an OAuth 2.0 provider (Doorkeeper): authorize on `/oauth/authorize`
//! (`response_type=code`, space-separated `scope`, `state`, PKCE S256), the token endpoint
//! `/oauth/token` with a form body and the application's id and secret, access tokens of two
//! hours, a refresh that invalidates the refresh token it used and returns a new pair,
//! revocation on `/oauth/revoke` with `client_id`, `client_secret`, `token`, and the REST API
//! under `/api/v4` (`GET /user` for the identity, scope-checked with 403 `insufficient_scope`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::grants::Grant;
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, client_auth, field, found, json, oauth_error, page,
    pkce_challenge, q, split_scopes, with_query,
};
use crate::record::Recorded;
use axum::response::Response;

/// The GitLab profile.
#[derive(Debug, Default)]
pub struct GitLab;

const CLIENT: Client = Client {
    id: "c0nf0rmance9e7f1ab0c0a7e0000000000000000000000000000000000000001",
    secret: "gloas-c0nf0rmance0000000000000000000000000000000000000000000000001",
};
const USERNAME: &str = "ada-conformance";
const OAUTH: &str = "https://docs.gitlab.com/api/oauth2/";
const PROVIDER: &str = "https://docs.gitlab.com/integration/oauth_provider/";
/// Every scope a GitLab OAuth application can be given (the provider documentation's table).
const SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "read_observability",
    "write_observability",
    "ai_features",
    "sudo",
    "admin_mode",
    "read_service_ping",
    "openid",
    "profile",
    "email",
];

impl Profile for GitLab {
    fn name(&self) -> &'static str {
        "gitlab"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["gitlab.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["gitlab.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &[USERNAME, "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall { method: "GET", url: "https://gitlab.com/api/v4/projects", body: None }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://gitlab.com/oauth/revoke, form client_id, client_secret, token; 200 and an empty JSON object",
            doc: OAUTH,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST"
            && r.host == "gitlab.com"
            && r.path == "/oauth/revoke"
            && r.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            && r.form_param("client_id").as_deref() == Some(CLIENT.id)
            && r.form_param("client_secret").is_some()
            && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize https://gitlab.com/oauth/authorize: client_id, redirect_uri, response_type=code, state, scope (space-separated), code_challenge + code_challenge_method=S256 (PKCE, recommended for server apps too)",
                doc: OAUTH,
            },
            Behaviour {
                what: "token POST https://gitlab.com/oauth/token: form client_id, client_secret, code, grant_type=authorization_code, redirect_uri (must match the authorize call), code_verifier; reply access_token, token_type bearer, expires_in 7200, refresh_token, created_at",
                doc: OAUTH,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token with client_id, client_secret, refresh_token, redirect_uri; invalidates the existing access and refresh token and sends a new pair",
                doc: OAUTH,
            },
            Behaviour { what: "access tokens expire after two hours; not configurable", doc: PROVIDER },
            Behaviour {
                what: "scopes: api, read_api, read_user, read_repository, write_repository, … (read_user: GET /user)",
                doc: PROVIDER,
            },
            Behaviour {
                what: "revoke POST https://gitlab.com/oauth/revoke: client_id, client_secret, token; 200 and {}",
                doc: OAUTH,
            },
            Behaviour {
                what: "the API takes Authorization: Bearer <token>; GET /api/v4/user → id, username, name",
                doc: "https://docs.gitlab.com/api/users/",
            },
            Behaviour {
                what: "GET /api/v4/projects lists projects; a bad token is 401 {message: 401 Unauthorized}, a missing scope 403 insufficient_scope",
                doc: "https://docs.gitlab.com/api/rest/troubleshooting/",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/oauth/authorize") => authorize(ctx, r),
            ("POST", "/oauth/token") => token(ctx, r),
            ("POST", "/oauth/revoke") => revoke(ctx, r),
            ("GET", path) if path.starts_with("/api/v4/") => api(ctx, r, &path["/api/v4".len()..]),
            _ => json(404, json!({"message": "404 Not Found"})),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    // Without a known client or a registered redirect URI nothing can be sent back: an error page.
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(401, "invalid_client: Client authentication failed due to unknown client");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "invalid_redirect_uri: The redirect URI included is not valid.");
    };
    let back = |error: &str| {
        let mut pairs = vec![("error", error)];
        pairs.extend(q(r, "state").map(|s| ("state", s)));
        found(&with_query(redirect, &pairs))
    };
    if q(r, "response_type") != Some("code") {
        return back("unsupported_response_type");
    }
    let scopes = split_scopes(q(r, "scope"), ' ');
    if scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return back("invalid_scope");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(_) => return back("invalid_request"),
    };
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        // Every code exchange gets a refresh token.
        offline: true,
        code_challenge: challenge,
        ..Grant::default()
    };
    approve(ctx, grant, q(r, "state"), &[])
}

/// The confidential application's credentials. The documented requests carry them as form
/// parameters; Doorkeeper takes HTTP Basic as well (GitLab shows it for the password grant).
fn client(r: &Recorded) -> Option<String> {
    match client_auth(r) {
        Ok((_, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => Some(id),
        _ => None,
    }
}

fn invalid_client() -> Response {
    oauth_error(
        401,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

fn invalid_grant() -> Response {
    oauth_error(
        400,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    if r.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(400, "invalid_request", "The request is missing a required parameter.");
    }
    let Some(client) = client(r) else { return invalid_client() };
    let reply = |family: u64| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        json(
            200,
            json!({
                "access_token": ctx.grants.access_token(family, "c0nfg1abaccess"),
                "token_type": "bearer",
                "expires_in": 7200,
                "refresh_token": ctx.grants.refresh_token(family, "c0nfg1abrefresh"),
                "created_at": now,
            }),
        )
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => match ctx.grants.redeem_code(
            &field(r, "code").unwrap_or_default(),
            &client,
            field(r, "redirect_uri").as_deref(),
            field(r, "code_verifier").as_deref(),
        ) {
            Ok((_, family)) => reply(family),
            Err(_) => invalid_grant(),
        },
        // The refresh token is spent: GitLab invalidates it (and its access token) and sends a
        // new pair. The kit does not track which access token a refresh token came with, so the
        // old access token stays good here; Patchbay must use the new one either way.
        Some("refresh_token") => {
            let refresh = field(r, "refresh_token").unwrap_or_default();
            match ctx.grants.use_refresh(&refresh, &client, true) {
                Ok((grant, _)) if field(r, "redirect_uri").is_some_and(|u| u != grant.redirect_uri) => invalid_grant(),
                Ok((_, family)) => reply(family),
                Err(_) => invalid_grant(),
            }
        }
        _ => oauth_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ),
    }
}

fn revoke(ctx: &Ctx, r: &Recorded) -> Response {
    if client(r).is_none() {
        return oauth_error(403, "unauthorized_client", "You are not authorized to revoke this token");
    }
    match r.form_param("token") {
        Some(token) => {
            // Doorkeeper keeps an access token and its refresh token in one record: revoking
            // either ends both. An unknown token is answered alike (RFC 7009 §2.2).
            ctx.grants.revoke(&token, true);
            json(200, json!({}))
        }
        None => oauth_error(400, "invalid_request", "The request is missing a required parameter."),
    }
}

fn api(ctx: &Ctx, r: &Recorded, path: &str) -> Response {
    let Some(grant) = r.bearer().and_then(|t| ctx.grants.check_access(t)) else {
        return json(401, json!({"message": "401 Unauthorized"}));
    };
    let has = |any: &[&str]| grant.scopes.iter().any(|s| any.contains(&s.as_str()));
    let (needs, body): (&[&str], _) = match path {
        "/user" => (
            &["read_user", "read_api", "api"],
            json!({"id": 1_234_567, "username": USERNAME, "name": "Ada Lovelace", "state": "active", "web_url": "https://gitlab.com/ada-conformance"}),
        ),
        "/projects" => (&["read_api", "api"], json!([])),
        _ => return json(404, json!({"message": "404 Not Found"})),
    };
    if !has(needs) {
        return json(
            403,
            json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": needs.join(" "),
            }),
        );
    }
    json(200, body)
}
