//! A revocation call a provider declares instead of RFC 7009 (`revocation:`): one request per
//! listed token, built from the declaration — method, URL (with `{client_id}`), where the token
//! goes (form, JSON, query, or nowhere when it is the bearer credential) and how the call
//! authenticates — and a 2xx reply counted only when the declared success pointer agrees
//! (Slack answers `200 {"ok": false}` to a token it does not know).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::grant_format::{RevocationAuth, RevocationBody, RevocationCall, RevocationMethod};
use patchbay_domain::provider::{Provider, TokenEndpointAuth};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::RevokeOutcome;
use crate::http::{GuardedClient, HttpError};
use crate::oauth::{OAuthClient, quoted, request_masker, retry_after};

/// Revokes `token` (of kind `hint`) with the provider's declared call.
pub(super) async fn revoke(
    http: &GuardedClient,
    provider: &Provider,
    call: &RevocationCall,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    token: &SecretString,
    hint: &str,
) -> RevokeOutcome {
    let name = &provider.display_name;
    if !call.tokens.iter().any(|t| t.hint() == hint) {
        let by: Vec<&str> = call.tokens.iter().map(|t| t.hint()).collect();
        return RevokeOutcome::NotApplicable(format!(
            // Not "that call ends it too": HubSpot's refresh-token revocation leaves access
            // tokens to run out their 30 minutes.
            "{name} revokes a grant with its {}; this {hint} is not revoked on its own",
            by.join(" and ")
        ));
    }
    // `{client_id}` (GitHub's `/applications/{client_id}/grant`) is the connection's client.
    let mut values = settings.clone();
    values.insert("client_id".to_owned(), client.client_id.clone());
    let mut url = match crate::metadata::render(provider, &call.url, &values) {
        Ok(u) => u,
        Err(e) => return RevokeOutcome::Refused(format!("cannot build the revocation URL of {name}: {e}")),
    };
    let secret = token.expose_secret();
    if call.body == RevocationBody::Query {
        url.query_pairs_mut().append_pair(&call.token_field, secret);
    }
    let method = match call.method {
        RevocationMethod::Post => http::Method::POST,
        RevocationMethod::Delete => http::Method::DELETE,
    };
    let masker = request_masker(client, &[("token", secret.to_owned())]);
    let mut request = match http.request(method, url) {
        Ok(r) => r.header(http::header::ACCEPT, "application/json"),
        Err(e) => return RevokeOutcome::Refused(e.to_string()),
    };
    // The OAuth endpoints' own headers (Notion's `Notion-Version` is required here too).
    for (name, value) in &provider.token_request.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    let request = match call.auth {
        // The token as the API takes it: Bearer, or where `oauth_token` puts it (Shopify's
        // X-Shopify-Access-Token on its uninstall call).
        RevocationAuth::Bearer => match &provider.oauth_token {
            Some(place) => match http::HeaderValue::from_str(&format!("{}{secret}", place.prefix)) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    request.header(place.header.as_str(), value)
                }
                Err(_) => return RevokeOutcome::Refused(format!("{name}: the token cannot be sent in a header")),
            },
            None => request.bearer_auth(secret),
        },
        RevocationAuth::None => request,
        RevocationAuth::ClientBasic => {
            let secret = client.client_secret.as_ref().map(|s| s.expose_secret().to_owned());
            request.basic_auth(&client.client_id, secret)
        }
        RevocationAuth::ClientPost => {
            fields.push(("client_id".to_owned(), client.client_id.clone()));
            if let Some(s) = &client.client_secret {
                fields.push(("client_secret".to_owned(), s.expose_secret().to_owned()));
            }
            request
        }
        RevocationAuth::Client => match client.auth {
            TokenEndpointAuth::ClientSecretBasic => {
                let secret = client.client_secret.as_ref().map(|s| s.expose_secret().to_owned());
                request.basic_auth(&client.client_id, secret)
            }
            TokenEndpointAuth::ClientSecretPost | TokenEndpointAuth::None => {
                fields.push(("client_id".to_owned(), client.client_id.clone()));
                if let Some(s) = &client.client_secret {
                    fields.push(("client_secret".to_owned(), s.expose_secret().to_owned()));
                }
                request
            }
        },
    };
    let request = match call.body {
        RevocationBody::Form => {
            fields.push((call.token_field.clone(), secret.to_owned()));
            request.form(&fields)
        }
        RevocationBody::Json => {
            fields.push((call.token_field.clone(), secret.to_owned()));
            let object: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
            request.json(&object)
        }
        RevocationBody::Query | RevocationBody::None if !fields.is_empty() => request.form(&fields),
        RevocationBody::Query | RevocationBody::None => request,
    };
    let how = describe(call, provider, hint);
    match http.fetch(request).await {
        Ok(r) if r.status.is_success() => {
            let Some(pointer) = &call.success_pointer else { return RevokeOutcome::Revoked };
            let json: Option<Value> = serde_json::from_slice(&r.body).ok();
            if json.as_ref().and_then(|j| j.pointer(pointer)) == Some(&Value::Bool(true)) {
                return RevokeOutcome::Revoked;
            }
            let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).map(|e| quoted(&masker, e));
            RevokeOutcome::Refused(format!(
                "{name} did not confirm the revocation ({how}: {pointer} is not true{})",
                error.map(|e| format!(", error `{e}`")).unwrap_or_default()
            ))
        }
        Ok(r) if r.status.as_u16() == 429 || r.status.is_server_error() => RevokeOutcome::Retry {
            reason: format!("{name} revocation ({how}) answered HTTP {}", r.status.as_u16()),
            retry_after: retry_after(&r.headers),
        },
        Ok(r) => {
            let json: Option<Value> = serde_json::from_slice(&r.body).ok();
            let error = json
                .as_ref()
                .and_then(|j| j.get("error").or_else(|| j.get("message")))
                .and_then(Value::as_str)
                .map(|e| quoted(&masker, e));
            RevokeOutcome::Refused(format!(
                "{name} refused the revocation ({how}: HTTP {}{})",
                r.status.as_u16(),
                error.map(|e| format!(": {e}")).unwrap_or_default()
            ))
        }
        Err(e @ (HttpError::Timeout { .. } | HttpError::Connect { .. })) => {
            RevokeOutcome::Retry { reason: format!("{name}: {e}"), retry_after: None }
        }
        Err(e) => RevokeOutcome::Refused(format!("{name}: {e}")),
    }
}

/// How the call was made, for the receipt ("DELETE with the refresh_token in a JSON body").
fn describe(call: &RevocationCall, provider: &Provider, hint: &str) -> String {
    let method = match call.method {
        RevocationMethod::Post => "POST",
        RevocationMethod::Delete => "DELETE",
    };
    let place = match call.body {
        RevocationBody::Form => "in a form body",
        RevocationBody::Json => "in a JSON body",
        RevocationBody::Query => "in the query",
        RevocationBody::None => match &provider.oauth_token {
            Some(place) => return format!("{method} with the {hint} in {}", place.header),
            None => "as the bearer credential",
        },
    };
    format!("{method} with the {hint} {place}")
}
