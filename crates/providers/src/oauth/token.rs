//! The token endpoint: the authorization-code, client-credentials and refresh grants (RFC 6749
//! §4.1.3, §4.4, §6), one call shape for all three, and the lenient token-response parser.

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::provider::Provider;
use patchbay_domain::scope::ScopeSet;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::{
    Endpoint, OAuthClient, OAuthErrorCode, TokenError, endpoint, form_request, quoted, request_masker, retry_after,
};
use crate::http::{GuardedClient, HttpError};

/// Tokens from a successful grant.
#[derive(Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when issued.
    pub refresh_token: Option<SecretString>,
    /// `token_type` (Bearer when absent).
    pub token_type: String,
    /// Lifetime in seconds, when stated.
    pub expires_in: Option<i64>,
    /// Granted scopes, when stated.
    pub scope: Option<ScopeSet>,
}

async fn token_call(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    mut form: Vec<(&'static str, String)>,
) -> Result<TokenSet, TokenError> {
    // RFC 8707 §2: a resource the consent was asked for is named on every token request too, so
    // the server issues tokens for that resource (discovered protected resources set it).
    if let Some(resource) = provider.authorization_params.get("resource") {
        form.push(("resource", resource.clone()));
    }
    let name = provider.display_name.clone();
    let url =
        endpoint(provider, Endpoint::Token, settings).map_err(|e| TokenError::Protocol { message: e.to_string() })?;
    // Providers echo what they were sent in error descriptions, sometimes encoded (S-05).
    let masker = request_masker(client, &form);
    let request = form_request(http, url, client, form).map_err(|e| TokenError::Protocol { message: e.to_string() })?;
    let response = match http.fetch(request).await {
        Ok(r) => r,
        Err(e @ HttpError::Timeout { .. }) => {
            return Err(TokenError::Transient {
                message: format!("{name} token endpoint: {e}"),
                retry_after: None,
                outcome_unknown: true,
            });
        }
        Err(e @ (HttpError::Connect { .. } | HttpError::Other { .. })) => {
            // A reset or a broken reply may come after the request was read and processed.
            return Err(TokenError::Transient {
                message: format!("{name} token endpoint: {e}"),
                retry_after: None,
                outcome_unknown: true,
            });
        }
        Err(e) => {
            return Err(TokenError::Protocol { message: format!("{name} token endpoint: {e}") });
        }
    };
    let status = response.status.as_u16();
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let oauth_error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).map(|e| quoted(&masker, e));
    if let Some(error) = oauth_error.filter(|_| status < 500 && status != 429) {
        let description =
            json.as_ref().and_then(|j| j.get("error_description")).and_then(Value::as_str).map(|d| quoted(&masker, d));
        return Err(TokenError::OAuth {
            provider: name,
            status,
            error: OAuthErrorCode::from(error.as_str()),
            description,
        });
    }
    if status == 429 || status >= 500 {
        return Err(TokenError::Transient {
            message: format!("{name} token endpoint answered HTTP {status}"),
            retry_after: retry_after(&response.headers),
            outcome_unknown: false,
        });
    }
    if !(200..300).contains(&status) {
        return Err(TokenError::Protocol {
            message: format!("{name} token endpoint answered HTTP {status} without an OAuth error"),
        });
    }
    let json = json.ok_or_else(|| TokenError::Protocol {
        message: format!("{name} token endpoint answered with a body that is not JSON"),
    })?;
    parse_token_response(&name, &json, &provider.scope_separator)
}

/// Parses a token response leniently (see the module header).
pub fn parse_token_response(provider: &str, json: &Value, separator: &str) -> Result<TokenSet, TokenError> {
    // Some providers nest the tokens (e.g. `{"authed_user": {...}}`) — only top level is standard.
    let access =
        json.get("access_token").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| {
            TokenError::Protocol { message: format!("{provider} token response has no access_token") }
        })?;
    let expires_in = match json.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0);
    let scope = match json.get("scope") {
        Some(Value::String(s)) => {
            Some(ScopeSet::parse(&s.replace(',', " "), if separator == "," { " " } else { separator }))
        }
        Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect()),
        _ => None,
    };
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: json
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned())),
        token_type: json.get("token_type").and_then(Value::as_str).unwrap_or("Bearer").to_owned(),
        expires_in,
        scope,
    })
}

/// Exchanges an authorization code (RFC 6749 §4.1.3 + PKCE verifier).
pub async fn exchange_code(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    code: &str,
    redirect_uri: &str,
    pkce_verifier: Option<&SecretString>,
) -> Result<TokenSet, TokenError> {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", redirect_uri.to_owned()),
    ];
    if let Some(v) = pkce_verifier {
        form.push(("code_verifier", v.expose_secret().to_owned()));
    }
    token_call(http, provider, settings, client, form).await
}

/// Obtains a token with the client credentials grant (RFC 6749 §4.4).
pub async fn client_credentials(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    scopes: &ScopeSet,
) -> Result<TokenSet, TokenError> {
    let mut form = vec![("grant_type", "client_credentials".to_owned())];
    if !scopes.is_empty() {
        form.push(("scope", scopes.join(&provider.scope_separator)));
    }
    token_call(http, provider, settings, client, form).await
}

/// Refreshes an access token (RFC 6749 §6).
pub async fn refresh(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    refresh_token: &SecretString,
) -> Result<TokenSet, TokenError> {
    let form =
        vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh_token.expose_secret().to_owned())];
    token_call(http, provider, settings, client, form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_token_responses() {
        let t = parse_token_response("X", &json!({"access_token": "a", "expires_in": "3600", "scope": "a,b"}), " ")
            .unwrap();
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.scope.unwrap().join(" "), "a b");
        let t = parse_token_response("X", &json!({"access_token": "a", "scope": ["x", "y"], "refresh_token": ""}), " ")
            .unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.scope.unwrap().len(), 2);
        let err = parse_token_response("X", &json!({"token": "a"}), " ").unwrap_err();
        assert!(err.to_string().contains("no access_token"));
    }
}
