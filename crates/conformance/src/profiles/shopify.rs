//! Shopify, on the kit's store `conformance.myshopify.com`: authorize at `/admin/oauth/authorize`
//! (`client_id`, comma-separated `scope`, `redirect_uri`, `state`), a redirect back signed with
//! HMAC-SHA256 under the client secret over the other parameters (`code`, `host`, `shop`,
//! `state`, `timestamp`); the code exchanged at `/admin/oauth/access_token` with `client_id`,
//! `client_secret` and `code` in the body (form or JSON), an expiring offline token with
//! `expiring=1` (one-hour access token, 90-day refresh token, a new pair on every refresh, the
//! old refresh token spent); uninstalling with `DELETE /admin/api_permissions/current.json`; and
//! the GraphQL Admin API, which takes the token in `X-Shopify-Access-Token`.

use aws_lc_rs::hmac;
use serde_json::json;

use crate::grants::Grant;
use crate::profile::{ApiCall, Behaviour, Client, Ctx, Profile, field, found, json, page, q, split_scopes, with_query};
use crate::record::Recorded;
use axum::response::Response;

/// The Shopify profile.
#[derive(Debug, Default)]
pub struct Shopify;

const CLIENT: Client = Client { id: "c0nf0rmance5h0p1fyc11ent0000001", secret: "shpss_c0nf0rmance5h0p1fy5ecret00001" };
/// The kit's store.
const HOST: &str = "conformance.myshopify.com";
const GRANT: &str =
    "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant";
const EXPIRING: &str =
    "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens";
const UNINSTALL: &str =
    "https://shopify.dev/docs/apps/build/authentication-authorization/app-installation/uninstall-app-api-request";
const GRAPHQL: &str = "https://shopify.dev/docs/api/admin-graphql";

impl Profile for Shopify {
    fn name(&self) -> &'static str {
        "shopify"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }
    fn token_hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }
    fn client(&self) -> Client {
        CLIENT
    }
    fn account_labels(&self) -> &'static [&'static str] {
        &["Conformance Goods", HOST]
    }
    fn api_calls(&self) -> &'static [ApiCall] {
        &[ApiCall {
            method: "POST",
            url: "https://conformance.myshopify.com/admin/api/2026-10/graphql.json",
            body: Some(r#"{"query": "{ orders(first: 5) { nodes { id name } } }"}"#),
        }]
    }
    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[("shop", "conformance")]
    }
    fn revocation(&self) -> Option<Behaviour> {
        Some(Behaviour {
            what: "DELETE https://{shop}.myshopify.com/admin/api_permissions/current.json with X-Shopify-Access-Token: uninstalls the app, every token of the store ends",
            doc: UNINSTALL,
        })
    }
    fn is_documented_revocation(&self, r: &Recorded) -> bool {
        r.method == "DELETE"
            && r.host == HOST
            && r.path == "/admin/api_permissions/current.json"
            && r.header("x-shopify-access-token").is_some()
    }
    fn behaviours(&self) -> &'static [Behaviour] {
        &[
            Behaviour {
                what: "authorize GET https://{shop}.myshopify.com/admin/oauth/authorize: client_id, scope (comma-separated), redirect_uri, state; offline access unless grant_options[]=per-user",
                doc: GRANT,
            },
            Behaviour {
                what: "the redirect back carries code, hmac, host, shop, state, timestamp; hmac = hex HMAC-SHA256 under the client secret of the other parameters sorted and joined name=value&…",
                doc: GRANT,
            },
            Behaviour {
                what: "token POST https://{shop}.myshopify.com/admin/oauth/access_token: client_id, client_secret, code; with expiring=1 the reply has access_token, scope (comma-separated), expires_in 3600, refresh_token, refresh_token_expires_in 7776000",
                doc: EXPIRING,
            },
            Behaviour {
                what: "refresh: grant_type=refresh_token, client_id, client_secret, refresh_token; a new access and refresh token",
                doc: EXPIRING,
            },
            Behaviour {
                what: "uninstall DELETE /admin/api_permissions/current.json with X-Shopify-Access-Token",
                doc: UNINSTALL,
            },
            Behaviour {
                what: "GraphQL Admin API POST /admin/api/{version}/graphql.json with X-Shopify-Access-Token (not Authorization); 401 for a bad token; the orders field needs read_orders, the shop field no scope",
                doc: GRAPHQL,
            },
        ]
    }

    fn handle(&self, ctx: &Ctx, r: &Recorded) -> Response {
        match (r.method.as_str(), r.host.as_str(), r.path.as_str()) {
            ("GET", HOST, "/admin/oauth/authorize") => authorize(ctx, r),
            ("POST", HOST, "/admin/oauth/access_token") => token(ctx, r),
            ("DELETE", HOST, "/admin/api_permissions/current.json") => uninstall(ctx, r),
            ("POST", HOST, path) if path.starts_with("/admin/api/") && path.ends_with("/graphql.json") => {
                graphql(ctx, r)
            }
            _ => json(404, json!({"errors": "Not Found"})),
        }
    }
}

/// Shopify's signature of a redirect: hex HMAC-SHA256 under the client secret of the
/// parameters sorted by name and joined `name=value&…`.
fn sign(pairs: &[(&str, &str)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let message: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let key = hmac::Key::new(hmac::HMAC_SHA256, CLIENT.secret.as_bytes());
    hmac::sign(&key, message.join("&").as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn authorize(ctx: &Ctx, r: &Recorded) -> Response {
    if q(r, "client_id") != Some(CLIENT.id) {
        return page(400, "Oauth error invalid_request: The client_id is invalid");
    }
    let Some(redirect) = q(r, "redirect_uri").filter(|u| ctx.redirect_uris.iter().any(|x| x == u)) else {
        return page(400, "Oauth error invalid_request: The redirect_uri is not whitelisted");
    };
    let (Some(state), Some(scope)) = (q(r, "state"), q(r, "scope")) else {
        return page(400, "Oauth error invalid_request: scope and state are required");
    };
    let scopes = split_scopes(Some(scope), ',');
    let grant = Grant { client_id: CLIENT.id.into(), redirect_uri: redirect.into(), scopes, ..Grant::default() };
    let code = ctx.grants.issue_code(grant);
    let host = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvY29uZm9ybWFuY2U"; // base64url("admin.shopify.com/store/conformance")
    let mut pairs =
        vec![("code", code.as_str()), ("host", host), ("shop", HOST), ("state", state), ("timestamp", "1798761600")];
    let signature = sign(&pairs);
    pairs.push(("hmac", signature.as_str()));
    found(&with_query(redirect, &pairs))
}

fn token(ctx: &Ctx, r: &Recorded) -> Response {
    let media = r.media_type();
    if !matches!(media.as_deref(), Some("application/x-www-form-urlencoded" | "application/json")) {
        return json(400, json!({"error": "invalid_request", "error_description": "a form or JSON body is required"}));
    }
    if field(r, "client_id").as_deref() != Some(CLIENT.id)
        || field(r, "client_secret").as_deref() != Some(CLIENT.secret)
    {
        return json(401, json!({"error": "invalid_client", "error_description": "Client credentials are invalid"}));
    }
    let expiring = field(r, "expiring").as_deref() == Some("1");
    let reply = |grant: &Grant, family: u64| {
        let mut body = json!({
            "access_token": ctx.grants.access_token(family, "shpca_conformance_"),
            "scope": grant.scopes.join(","),
        });
        if expiring {
            body["expires_in"] = json!(3600);
            body["refresh_token"] = json!(ctx.grants.refresh_token(family, "shprt_conformance_"));
            body["refresh_token_expires_in"] = json!(7_776_000);
        }
        json(200, body)
    };
    match field(r, "grant_type").as_deref() {
        // The documented exchange names no grant_type; one sent along is tolerated.
        None | Some("authorization_code") => {
            match ctx.grants.redeem_code(&field(r, "code").unwrap_or_default(), CLIENT.id, None, None) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => json(
                    400,
                    json!({"error": "invalid_request", "error_description": "The authorization code was not found or was already used"}),
                ),
            }
        }
        Some("refresh_token") => {
            match ctx.grants.use_refresh(&field(r, "refresh_token").unwrap_or_default(), CLIENT.id, true) {
                Ok((grant, family)) => reply(&grant, family),
                Err(_) => {
                    json(400, json!({"error": "invalid_grant", "error_description": "The refresh token is invalid"}))
                }
            }
        }
        _ => json(400, json!({"error": "unsupported_grant_type"})),
    }
}

fn uninstall(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(token) = r.header("x-shopify-access-token").filter(|t| ctx.grants.check_access(t).is_some()) else {
        return json(
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        );
    };
    // Uninstalling ends the app's every token on the store.
    ctx.grants.revoke(token, true);
    json(200, json!({}))
}

fn graphql(ctx: &Ctx, r: &Recorded) -> Response {
    let Some(grant) = r.header("x-shopify-access-token").and_then(|t| ctx.grants.check_access(t)) else {
        return json(
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        );
    };
    let query = r.json().and_then(|b| b.get("query").and_then(|q| q.as_str()).map(str::to_owned)).unwrap_or_default();
    let has = |scope: &str| grant.scopes.iter().any(|s| s == scope);
    if query.contains("orders") {
        if !has("read_orders") {
            return json(
                200,
                json!({"errors": [{"message": "Access denied for orders field. Required access: `read_orders` access scope.", "extensions": {"code": "ACCESS_DENIED"}}]}),
            );
        }
        return json(200, json!({"data": {"orders": {"nodes": []}}}));
    }
    if query.contains("shop") {
        return json(
            200,
            json!({"data": {"shop": {"id": "gid://shopify/Shop/1138", "name": "Conformance Goods", "myshopifyDomain": HOST}}}),
        );
    }
    json(200, json!({"errors": [{"message": "Field is not defined on QueryRoot"}]}))
}
