//! Token revocation, and what came of it: RFC 7009 (`revocation_url`, a form with the token and
//! its `token_type_hint`), or the call a provider declares instead (`revocation:`: its method,
//! URL, where the token goes and how the call authenticates — Google's `?token=`, Dropbox's and
//! Slack's bearer call, GitHub's `DELETE` with JSON, Intuit's JSON with Basic).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::grant_format::TokenRequestShape;
use patchbay_domain::provider::Provider;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::{Endpoint, OAuthClient, endpoint, form_request, quoted, request_masker, retry_after};
use crate::http::{GuardedClient, HttpError};

mod declared;

/// Outcome of revoking one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The provider confirmed (HTTP 200).
    Revoked,
    /// Transient failure: retry later (not before `retry_after` seconds when the provider said so).
    Retry {
        /// What happened.
        reason: String,
        /// The provider's `Retry-After`, in seconds.
        retry_after: Option<u64>,
    },
    /// The provider refused for good (e.g. `unsupported_token_type`).
    Refused(String),
    /// The provider's declared call does not revoke this kind of token on its own: revoking the
    /// grant's other token ends it (Dropbox, Slack: the access token ends the whole grant).
    NotApplicable(String),
}

/// Revokes one token (RFC 7009) with a `token_type_hint`.
pub async fn revoke(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    token: &SecretString,
    hint: &str,
) -> RevokeOutcome {
    if let Some(call) = &provider.revocation {
        return declared::revoke(http, provider, call, settings, client, token, hint).await;
    }
    let name = &provider.display_name;
    let url = match endpoint(provider, Endpoint::Revocation, settings) {
        Ok(u) => u,
        Err(e) => return RevokeOutcome::Refused(e.to_string()),
    };
    let form = vec![("token", token.expose_secret().to_owned()), ("token_type_hint", hint.to_owned())];
    let masker = request_masker(client, &form);
    // RFC 7009 requests are plain forms whatever the token endpoint's shape.
    let request = match form_request(http, url, client, form, &TokenRequestShape::default()) {
        Ok(r) => r,
        Err(e) => return RevokeOutcome::Refused(e.to_string()),
    };
    match http.fetch(request).await {
        Ok(r) if r.status.is_success() => RevokeOutcome::Revoked,
        Ok(r) if r.status.as_u16() == 429 || r.status.is_server_error() => RevokeOutcome::Retry {
            reason: format!("{name} revocation endpoint answered HTTP {}", r.status.as_u16()),
            retry_after: retry_after(&r.headers),
        },
        Ok(r) => {
            let json: Option<Value> = serde_json::from_slice(&r.body).ok();
            let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).map(|e| quoted(&masker, e));
            RevokeOutcome::Refused(format!(
                "{name} refused the revocation (HTTP {}{})",
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
