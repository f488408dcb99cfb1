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
    /// How long the refresh token lives, in seconds, when the reply or the file says.
    pub refresh_expires_in: Option<i64>,
    /// Non-secret metadata the reply carried (`token_response.metadata`), vetted.
    pub metadata: BTreeMap<String, String>,
}

async fn token_call(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    which: Endpoint,
    mut form: Vec<(&'static str, String)>,
) -> Result<TokenSet, TokenError> {
    // RFC 8707 §2: a resource the consent was asked for is named on every token request too, so
    // the server issues tokens for that resource (discovered protected resources set it).
    if let Some(resource) = provider.authorization_params.get("resource") {
        form.push(("resource", resource.clone()));
    }
    let name = provider.display_name.clone();
    let url = endpoint(provider, which, settings).map_err(|e| TokenError::Protocol { message: e.to_string() })?;
    // Providers echo what they were sent in error descriptions, sometimes encoded (S-05).
    let masker = request_masker(client, &form);
    let request = form_request(http, url, client, form, &provider.token_request)
        .map_err(|e| TokenError::Protocol { message: e.to_string() })?;
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
    parse_token_response(provider, &json)
}

/// Parses a token response leniently (see the module header), reading each part where the
/// provider's `token_response:` says (the RFC 6749 §5.1 top-level fields by default) and
/// capturing its metadata, which is vetted ([`crate::metadata::capture`]): a reply whose
/// metadata names a host the provider does not allow is an error, so nothing of it is stored.
pub fn parse_token_response(provider: &Provider, json: &Value) -> Result<TokenSet, TokenError> {
    let name = &provider.display_name;
    let map = &provider.token_response;
    let at = |pointer: &Option<String>, default: &str| json.pointer(pointer.as_deref().unwrap_or(default)).cloned();
    let seconds = |v: Option<Value>| {
        match v {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|n: &i64| *n > 0)
    };
    let access_pointer = map.access_token.as_deref().unwrap_or("/access_token");
    let access = json.pointer(access_pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| {
        TokenError::Protocol { message: format!("{name} token response has no access token at {access_pointer}") }
    })?;
    // A lifetime the reply leaves out is the provider's documented one (Salesforce), so the
    // token is refreshed before it dies rather than after a failed call.
    let expires_in = seconds(at(&map.expires_in, "/expires_in")).or(map.default_expires_in.map(|l| l.seconds));
    let separator = map.scope_separator.as_deref().unwrap_or(&provider.scope_separator);
    let scope = match at(&map.scope, "/scope") {
        Some(Value::String(s)) => {
            Some(ScopeSet::parse(&s.replace(',', " "), if separator == "," { " " } else { separator }))
        }
        Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect()),
        _ => None,
    };
    let refresh_token = at(&map.refresh_token, "/refresh_token")
        .as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()));
    let refresh_expires_in = match &map.refresh_token_expires_in {
        Some(pointer) => seconds(json.pointer(pointer).cloned()),
        None => None,
    }
    .or(map.refresh_token_lifetime.filter(|_| refresh_token.is_some()).map(|l| l.seconds));
    let metadata = crate::metadata::capture(provider, "token reply", json, &map.metadata)
        .map_err(|message| TokenError::Protocol { message })?;
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token,
        token_type: json.get("token_type").and_then(Value::as_str).unwrap_or("Bearer").to_owned(),
        expires_in,
        scope,
        refresh_expires_in,
        metadata,
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
    token_call(http, provider, settings, client, Endpoint::Token, form).await
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
    token_call(http, provider, settings, client, Endpoint::Token, form).await
}

/// Refreshes an access token (RFC 6749 §6) at `refresh_url`, else `token_url`.
pub async fn refresh(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    refresh_token: &SecretString,
) -> Result<TokenSet, TokenError> {
    let form =
        vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh_token.expose_secret().to_owned())];
    token_call(http, provider, settings, client, Endpoint::Refresh, form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider(extra: serde_json::Value) -> Provider {
        let mut base = json!({"id": "x", "display_name": "X", "auth_mode": "oauth2"});
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn lenient_token_responses() {
        let p = provider(json!({}));
        let t = parse_token_response(&p, &json!({"access_token": "a", "expires_in": "3600", "scope": "a,b"})).unwrap();
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.scope.unwrap().join(" "), "a b");
        let t =
            parse_token_response(&p, &json!({"access_token": "a", "scope": ["x", "y"], "refresh_token": ""})).unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.scope.unwrap().len(), 2);
        let err = parse_token_response(&p, &json!({"token": "a"})).unwrap_err();
        assert!(err.to_string().contains("no access token at /access_token"));
    }

    #[test]
    fn mapped_token_responses() {
        // Slack's user token lives in `authed_user`, with its own scopes and lifetime.
        let slack = provider(json!({"token_response": {
            "access_token": "/authed_user/access_token", "refresh_token": "/authed_user/refresh_token",
            "expires_in": "/authed_user/expires_in", "scope": "/authed_user/scope", "scope_separator": ",",
            "metadata": {"team_id": "/team/id", "team_name": "/team/name"}}}));
        let reply = json!({"ok": true, "access_token": "xoxb-bot", "scope": "chat:write",
            "team": {"id": "T1", "name": "Ops"},
            "authed_user": {"access_token": "xoxe.xoxp-user", "refresh_token": "xoxe-1-r", "expires_in": 43200,
                            "scope": "search:read,users:read"}});
        let t = parse_token_response(&slack, &reply).unwrap();
        assert_eq!(t.access_token.expose_secret(), "xoxe.xoxp-user");
        assert_eq!(t.refresh_token.unwrap().expose_secret(), "xoxe-1-r");
        assert_eq!(t.expires_in, Some(43200));
        assert_eq!(t.scope.unwrap().join(" "), "search:read users:read");
        assert_eq!(t.metadata["team_id"], "T1");
        assert_eq!(t.metadata["team_name"], "Ops");
        // Salesforce: no expires_in, so the declared default applies.
        let sf = provider(json!({"token_response": {"default_expires_in": "2h"}}));
        assert_eq!(parse_token_response(&sf, &json!({"access_token": "a"})).unwrap().expires_in, Some(7200));
        // QuickBooks states the refresh token's lifetime in its own field; Xero declares a fixed one.
        let qb = provider(json!({"token_response": {"refresh_token_expires_in": "/x_refresh_token_expires_in"}}));
        let t = parse_token_response(
            &qb,
            &json!({"access_token": "a", "refresh_token": "r", "x_refresh_token_expires_in": 8726400}),
        )
        .unwrap();
        assert_eq!(t.refresh_expires_in, Some(8_726_400));
        let xero = provider(json!({"token_response": {"refresh_token_lifetime": "60d"}}));
        let t = parse_token_response(&xero, &json!({"access_token": "a", "refresh_token": "r"})).unwrap();
        assert_eq!(t.refresh_expires_in, Some(60 * 86_400));
        assert_eq!(parse_token_response(&xero, &json!({"access_token": "a"})).unwrap().refresh_expires_in, None);
    }
}
