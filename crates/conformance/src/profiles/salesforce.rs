//! Salesforce: the web-server flow on login.salesforce.com (and test.salesforce.com), a token
//! reply with `instance_url`, `id`, `issued_at` and `signature` but no `expires_in`, refresh
//! tokens only with the `refresh_token` scope (not rotating), `/services/oauth2/revoke`, and
//! userinfo and the REST API on the org's My Domain host (`instance_url`).

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile, approve, client_auth, field, json, oauth_error, page,
    pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Salesforce profile.
#[derive(Debug, Default)]
pub struct Salesforce;

const CLIENT: Client = Client { id: "3MVG9conformance.consumer.key", secret: "CONFORMANCE0CONSUMER0SECRET" };
const INSTANCE: &str = "https://conformance.my.salesforce.com";
const ID_URL: &str = "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA";
const FLOW: &str = "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm&type=5";

impl Profile for Salesforce {
    fn name(&self) -> &'static str {
        "salesforce"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["login.salesforce.com", "test.salesforce.com", "conformance.my.salesforce.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["login.salesforce.com", "test.salesforce.com"]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["ada@conformance.example", "ada@conformance.example.org", "Ada Lovelace"]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "GET",
            url: "https://conformance.my.salesforce.com/services/data/v62.0/sobjects",
            body: None,
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST …/services/oauth2/revoke, form body token=…",
            doc: "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm&type=5",
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.path == "/services/oauth2/revoke" && r.form_param("token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize /services/oauth2/authorize: response_type=code, client_id, redirect_uri required; PKCE S256 accepted",
                doc: FLOW,
            },
            Behaviour {
                what: "token: form body with client_id and client_secret; errors 400 invalid_client / invalid_grant (authentication failure)",
                doc: FLOW,
            },
            Behaviour {
                what: "reply: access_token, refresh_token (with the refresh_token scope), signature, scope, instance_url, id, token_type Bearer, issued_at (ms); no expires_in",
                doc: FLOW,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token, reply without a new refresh_token",
                doc: "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_refresh_token_flow.htm&type=5",
            },
            Behaviour {
                what: "userinfo GET {instance_url}/services/oauth2/userinfo → email, preferred_username, name",
                doc: "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_userinfo_endpoint.htm&type=5",
            },
            Behaviour {
                what: "REST API under instance_url; a bad token is 401 [{errorCode: INVALID_SESSION_ID}]",
                doc: "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        let login = r.host == "login.salesforce.com" || r.host == "test.salesforce.com";
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/services/oauth2/authorize") if login => authorize(ctx, r),
            ("POST", "/services/oauth2/token") if login => token(ctx, r),
            ("POST", "/services/oauth2/revoke") => {
                let token = r.form_param("token").or_else(|| r.query_param("token").map(str::to_owned));
                // "Revoking a refresh token also revokes its access tokens"; an access token
                // alone is only that token.
                match token {
                    Some(t) if ctx.grants.revoke(&t, ctx.grants.is_refresh_token(&t)) => json(200, json!({})),
                    _ => oauth_error(400, "unsupported_token_type", "this token type is not supported"),
                }
            }
            ("GET", "/services/oauth2/userinfo") => api(ctx, r, || {
                json!({
                    "sub": ID_URL, "user_id": "005000000000001AAA", "organization_id": "00D000000000001EAA",
                    "preferred_username": "ada@conformance.example.org", "name": "Ada Lovelace",
                    "email": "ada@conformance.example", "email_verified": true,
                    "urls": {"rest": format!("{INSTANCE}/services/data/v{{version}}/")},
                })
            }),
            ("GET", "/services/data/v62.0/sobjects") if !login => {
                api(ctx, r, || json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": []}))
            }
            _ => json(404, json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])),
        }
    }
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "error=invalid_client_id&error_description=client identifier invalid");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "error=redirect_uri_mismatch&error_description=redirect_uri must match configuration");
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "error=unsupported_response_type");
    }
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
    let offline = scopes.iter().any(|s| s == "refresh_token" || s == "offline_access");
    let grant = Grant {
        client_id: CLIENT.id.into(),
        redirect_uri: redirect.into(),
        scopes,
        offline,
        code_challenge: challenge,
        extra: Default::default(),
    };
    approve(ctx, grant, q(r, "state"), &[])
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let client = match client_auth(r) {
        Ok((ClientAuth::Body, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error(400, "invalid_client", "invalid client credentials"),
    };
    let reply = |grant: &Grant, family: u64, with_refresh: bool| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "00D000000000001!conf-"),
            "signature": "c29uZm9ybWFuY2Utc2lnbmF0dXJl",
            "scope": grant.scopes.join(" "),
            "instance_url": INSTANCE,
            "id": ID_URL,
            "token_type": "Bearer",
            "issued_at": "1767225600000",
        });
        if with_refresh {
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "5Aep861conf-"));
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = field(r, "code").unwrap_or_default();
            match ctx.grants.redeem_code(
                &code,
                &client,
                field(r, "redirect_uri").as_deref(),
                field(r, "code_verifier").as_deref(),
            ) {
                Ok((grant, family)) => reply(&grant, family, grant.offline),
                Err(Refusal::RedirectMismatch) => {
                    oauth_error(400, "redirect_uri_mismatch", "redirect_uri must match configuration")
                }
                Err(_) => oauth_error(400, "invalid_grant", "authentication failure"),
            }
        }
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, family)) => reply(&grant, family, false),
                Err(_) => oauth_error(400, "invalid_grant", "expired access/refresh token"),
            }
        }
        _ => oauth_error(400, "unsupported_grant_type", "grant type not supported"),
    }
}

fn api(ctx: &Ctx, r: &Recorded, body: impl FnOnce() -> serde_json::Value) -> Response {
    if r.bearer().and_then(|t| ctx.grants.check_access(t)).is_none() {
        return json(401, json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]));
    }
    json(200, body())
}
