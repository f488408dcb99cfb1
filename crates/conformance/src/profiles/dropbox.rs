//! Dropbox: `/oauth2/authorize` on www.dropbox.com (a refresh token only with
//! `token_access_type=offline`), `/oauth2/token` on api.dropboxapi.com (HTTP Basic or body
//! credentials; reply with `account_id` and `uid`; refresh not rotating), the Bearer revocation
//! `POST /2/auth/token/revoke`, and RPC endpoints such as `users/get_current_account`, which
//! take no body or the JSON body `null`.

use serde_json::json;

use crate::grants::{Grant, Refusal};
use crate::profile::{
    ApiCall, Behaviour, Client, Ctx, Profile, approve, client_auth, field, json, page, pkce_challenge, q, split_scopes,
};
use crate::record::Recorded;
use axum::response::Response;

/// The Dropbox profile.
#[derive(Debug, Default)]
pub struct Dropbox;

const CLIENT: Client = Client { id: "conformanceappkey", secret: "conformanceappsecret" };
const GUIDE: &str = "https://developers.dropbox.com/oauth-guide";
const EMAIL: &str = "ada@conformance.example";

impl Profile for Dropbox {
    fn name(&self) -> &'static str {
        "dropbox"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.dropbox.com", "api.dropboxapi.com", "content.dropboxapi.com"]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &["api.dropboxapi.com", "www.dropbox.com"]
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
            url: "https://api.dropboxapi.com/2/files/list_folder",
            body: Some(r#"{"path":""}"#),
        }]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "POST https://api.dropboxapi.com/2/auth/token/revoke with the token as Bearer and no body",
            doc: "https://www.dropbox.com/developers/documentation/http/documentation#auth-token-revoke",
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.path == "/2/auth/token/revoke" && r.bearer().is_some() && rpc_body_ok(r)
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize: client_id and response_type=code required; redirect_uri must be registered; token_access_type online|offline|legacy",
                doc: GUIDE,
            },
            Behaviour {
                what: "a refresh token only with token_access_type=offline",
                doc: "https://dropbox.tech/developers/using-oauth-2-0-with-offline-access",
            },
            Behaviour {
                what: "token: form body; credentials by HTTP Basic or client_id/client_secret in the body; reply access_token, expires_in, token_type bearer, scope, account_id, uid, refresh_token",
                doc: "https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token",
            },
            Behaviour { what: "refresh: reply without refresh_token (not rotating)", doc: GUIDE },
            Behaviour {
                what: "RPC calls: POST, no body or Content-Type application/json with a JSON body (`null` for no arguments); anything else 400",
                doc: "https://www.dropbox.com/developers/documentation/http/documentation#formats",
            },
            Behaviour {
                what: "users/get_current_account → account_id, name, email",
                doc: "https://www.dropbox.com/developers/documentation/http/documentation#users-get_current_account",
            },
            Behaviour {
                what: "auth/token/revoke: Bearer, no body",
                doc: "https://www.dropbox.com/developers/documentation/http/documentation#auth-token-revoke",
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", "www.dropbox.com", "/oauth2/authorize") => authorize(ctx, r),
            ("POST", "api.dropboxapi.com" | "www.dropbox.com", "/oauth2/token") => token(ctx, r),
            ("POST", "api.dropboxapi.com", "/2/auth/token/revoke") => rpc(ctx, r, "auth/token/revoke", |token| {
                ctx.grants.revoke(token, true);
                json!(null)
            }),
            ("POST", "api.dropboxapi.com", "/2/users/get_current_account") => {
                rpc(ctx, r, "users/get_current_account", |_| {
                    json!({
                        "account_id": "dbid:AADconformance0000000000000000000001",
                        "name": {"given_name": "Ada", "surname": "Lovelace", "familiar_name": "Ada", "display_name": "Ada Lovelace", "abbreviated_name": "AL"},
                        "email": EMAIL, "email_verified": true, "disabled": false, "country": "GB", "locale": "en",
                        "account_type": {".tag": "basic"}, "is_paired": false,
                    })
                })
            }
            ("POST", "api.dropboxapi.com", "/2/files/list_folder") => {
                if r.media_type().as_deref() != Some("application/json") || r.json().is_none() {
                    return text(
                        400,
                        "Error in call to API function \"files/list_folder\": request body: could not decode input as JSON",
                    );
                }
                rpc(
                    ctx,
                    r,
                    "files/list_folder",
                    |_| json!({"entries": [], "cursor": "AAconformance", "has_more": false}),
                )
            }
            _ => text(404, "Unknown API function"),
        }
    }
}

fn text(status: u16, body: &str) -> Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::from_u16(status).expect("status"),
        [("content-type", "text/plain; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

/// No body and no JSON content type, or a JSON content type with a JSON body.
fn rpc_body_ok(r: &Recorded) -> bool {
    match r.media_type().as_deref() {
        None | Some("") => r.body.is_empty(),
        Some("application/json") => serde_json::from_slice::<serde_json::Value>(&r.body).is_ok(),
        _ => false,
    }
}

fn rpc(ctx: &Ctx, r: &Recorded, function: &str, f: impl FnOnce(&str) -> serde_json::Value) -> Response {
    if !rpc_body_ok(r) {
        return text(
            400,
            &format!(
                "Error in call to API function \"{function}\": Bad HTTP \"Content-Type\" header or body; expected no body, or application/json with a JSON body (`null` for no arguments)"
            ),
        );
    }
    let Some(token) = r.bearer().filter(|t| ctx.grants.check_access(t).is_some()) else {
        return json(401, json!({"error_summary": "invalid_access_token/", "error": {".tag": "invalid_access_token"}}));
    };
    json(200, f(token))
}

fn oauth_error(error: &str, description: &str) -> Response {
    json(400, json!({"error": error, "error_description": description}))
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Invalid client_id");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(
            400,
            "Invalid redirect_uri. It must exactly match one of the redirect URIs you've pre-configured for your app",
        );
    };
    if q(r, "response_type") != Some("code") {
        return page(400, "Invalid response_type");
    }
    let offline = match q(r, "token_access_type") {
        None | Some("online") | Some("legacy") => false,
        Some("offline") => true,
        Some(_) => return page(400, "Invalid token_access_type"),
    };
    let challenge = match pkce_challenge(r) {
        Ok(c) => c,
        Err(e) => return page(400, e),
    };
    let scopes = split_scopes(q(r, "scope"), ' ');
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
        Ok((_, id, secret)) if id == CLIENT.id && secret == CLIENT.secret => id,
        _ => return oauth_error("invalid_client", "Invalid client_id or client_secret"),
    };
    let reply = |grant: &Grant, family: u64, first: bool| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "sl.conf-"),
            "expires_in": 14400,
            "token_type": "bearer",
        });
        if first {
            body["scope"] = json!(grant.scopes.join(" "));
            body["account_id"] = json!("dbid:AADconformance0000000000000000000001");
            body["uid"] = json!("12345678");
            if grant.offline {
                body["refresh_token"] = json!(ctx.grants.refresh_token(family, "conf-rt-"));
            }
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        Some("authorization_code") => {
            match ctx.grants.redeem_code(
                &field(r, "code").unwrap_or_default(),
                &client,
                field(r, "redirect_uri").as_deref(),
                field(r, "code_verifier").as_deref(),
            ) {
                Ok((grant, family)) => reply(&grant, family, true),
                Err(Refusal::RedirectMismatch) => oauth_error("invalid_grant", "redirect_uri mismatch"),
                Err(_) => oauth_error("invalid_grant", "code doesn't exist or has expired"),
            }
        }
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), &client, false) {
                Ok((grant, family)) => reply(&grant, family, false),
                Err(_) => oauth_error("invalid_grant", "refresh token is invalid or revoked"),
            }
        }
        _ => oauth_error("unsupported_grant_type", "grant_type is not supported"),
    }
}
