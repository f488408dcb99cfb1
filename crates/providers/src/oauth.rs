//! The OAuth 2.0 client: authorize URLs (RFC 6749 §4.1.1 with PKCE, RFC 7636), the code,
//! client-credentials and refresh grants (§4.1.3, §4.4, §6) and revocation (RFC 7009).
//!
//! Written against raw HTTP rather than a generic OAuth crate because real providers bend the
//! token response: `token_type` missing, `expires_in` as a string, scopes comma-separated or as
//! an array, errors in 200 bodies. The parser accepts those and keeps the evidence of anything
//! else. Every call goes through the [`GuardedClient`] (no redirects, size cap, address guard),
//! and no error message ever contains a token or the client secret.

use std::collections::BTreeMap;
use std::fmt;

use patchbay_domain::SecretString;
use patchbay_domain::provider::{Provider, TokenEndpointAuth};
use patchbay_domain::scope::ScopeSet;
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use crate::http::{GuardedClient, HttpError};
use crate::template::{self, TemplateError};

/// The OAuth client a connection uses: the platform's (from the provider file) or the user's own
/// (advanced settings).
pub struct OAuthClient {
    /// Client id.
    pub client_id: String,
    /// Client secret (public clients have none).
    pub client_secret: Option<SecretString>,
    /// How to authenticate at the token and revocation endpoints.
    pub auth: TokenEndpointAuth,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

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

/// Why a grant failed, classified by what the caller should do (STYLE 8).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The provider answered with an OAuth error (`invalid_grant`, `invalid_client`, …): retrying
    /// the same request will not help.
    #[error("{provider} refused the token request: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        /// Provider display name.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: OAuthErrorCode,
        /// The `error_description`, shortened.
        description: Option<String>,
    },
    /// A transient failure (5xx, 429, timeout, connection reset): retry later.
    #[error("{message}")]
    Transient {
        /// What happened.
        message: String,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u64>,
        /// The request may have been processed (timeout or reset after sending): a rotating
        /// provider may already have replaced the refresh token.
        outcome_unknown: bool,
    },
    /// The reply could not be understood, or the request could not be made.
    #[error("{message}")]
    Protocol {
        /// What happened.
        message: String,
    },
}

impl TokenError {
    /// Whether the failure means the grant is dead and the user must reauthorize.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TokenError::OAuth { error, .. } if error.is_terminal())
    }
}

/// The `error` code of an OAuth error response (RFC 6749 §5.2), typed for the codes Patchbay acts
/// on, with [`Other`](OAuthErrorCode::Other) keeping any other code verbatim (like oauth2-rs's
/// `BasicErrorResponseType::Extension`). Built with `From<&str>`, so a known code is never held
/// as `Other`; it displays as the code itself, and equality is by code.
#[derive(Debug, Clone)]
pub enum OAuthErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: this client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not support the grant type.
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is invalid or exceeds the grant.
    InvalidScope,
    /// `access_denied`: the resource owner or the server refused (RFC 6749 §4.1.2.1).
    AccessDenied,
    /// Any other code (provider extensions such as `temporarily_unavailable`), as received.
    Other(String),
}

impl OAuthErrorCode {
    /// The codes with a variant of their own, for parsing.
    const KNOWN: [OAuthErrorCode; 7] = [
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::InvalidGrant,
        OAuthErrorCode::UnauthorizedClient,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::AccessDenied,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::Other(code) => code,
        }
    }

    /// Whether the code means the grant is dead and the user must reauthorize.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            OAuthErrorCode::InvalidGrant
                | OAuthErrorCode::UnauthorizedClient
                | OAuthErrorCode::InvalidClient
                | OAuthErrorCode::AccessDenied
        )
    }
}

impl From<&str> for OAuthErrorCode {
    fn from(code: &str) -> Self {
        OAuthErrorCode::KNOWN
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or_else(|| OAuthErrorCode::Other(code.to_owned()))
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Equality by code, so that a hand-built `Other("invalid_grant")` still equals `InvalidGrant`.
impl PartialEq for OAuthErrorCode {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for OAuthErrorCode {}

/// A provider file lists its extra terminal codes as text (`terminal_errors`).
impl PartialEq<OAuthErrorCode> for String {
    fn eq(&self, other: &OAuthErrorCode) -> bool {
        self == other.as_str()
    }
}

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
}

/// Provider-supplied text made safe to quote in a message: control characters dropped, at most
/// 200 characters.
pub fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// One of the OAuth endpoints a provider file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `authorization_url`: the consent page.
    Authorization,
    /// `token_url`: code exchange, client credentials and refresh.
    Token,
    /// `revocation_url`: RFC 7009 revocation.
    Revocation,
}

impl Endpoint {
    /// The provider file's key for this endpoint, as used in messages.
    pub fn key(self) -> &'static str {
        match self {
            Endpoint::Authorization => "authorization_url",
            Endpoint::Token => "token_url",
            Endpoint::Revocation => "revocation_url",
        }
    }

    fn template(self, provider: &Provider) -> Option<&str> {
        match self {
            Endpoint::Authorization => provider.authorization_url.as_deref(),
            Endpoint::Token => provider.token_url.as_deref(),
            Endpoint::Revocation => provider.revocation_url.as_deref(),
        }
    }
}

/// Why an endpoint URL could not be built for a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The provider file does not declare this endpoint.
    #[error("{provider} declares no {}", endpoint.key())]
    Undeclared {
        /// Provider display name.
        provider: String,
        /// The endpoint asked for.
        endpoint: Endpoint,
    },
    /// The connection's settings do not fill the endpoint's template.
    // The template error is part of the message (not a `#[source]`) so the text stays one line.
    #[error("cannot build the {} of {provider}: {error}", endpoint.key())]
    Template {
        /// Provider display name.
        provider: String,
        /// The endpoint asked for.
        endpoint: Endpoint,
        /// What the template refused.
        error: TemplateError,
    },
}

/// Renders one of the provider's endpoint URLs with the connection's settings.
pub fn endpoint(
    provider: &Provider,
    which: Endpoint,
    settings: &BTreeMap<String, String>,
) -> Result<Url, EndpointError> {
    let name = || provider.display_name.clone();
    let raw =
        which.template(provider).ok_or_else(|| EndpointError::Undeclared { provider: name(), endpoint: which })?;
    template::render_url(raw, settings).map_err(|error| EndpointError::Template {
        provider: name(),
        endpoint: which,
        error,
    })
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Parameters of an authorize URL.
#[derive(Debug)]
pub struct AuthorizeParams<'a> {
    /// Client id.
    pub client_id: &'a str,
    /// The exact redirect URI.
    pub redirect_uri: &'a str,
    /// Scopes to request.
    pub scopes: &'a ScopeSet,
    /// The state value.
    pub state: &'a str,
    /// The PKCE verifier (its challenge goes in the URL), when PKCE is on.
    pub pkce_verifier: Option<&'a str>,
    /// Extra parameters (e.g. `include_granted_scopes`).
    pub extra: &'a [(&'a str, &'a str)],
}

/// Builds the URL that sends the user to the provider's consent page.
pub fn authorize_url(
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    p: &AuthorizeParams<'_>,
) -> Result<Url, EndpointError> {
    let mut url = endpoint(provider, Endpoint::Authorization, settings)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", p.client_id);
        q.append_pair("redirect_uri", p.redirect_uri);
        if !p.scopes.is_empty() {
            q.append_pair("scope", &p.scopes.join(&provider.scope_separator));
        }
        q.append_pair("state", p.state);
        if let Some(verifier) = p.pkce_verifier {
            q.append_pair("code_challenge", &pkce_challenge(verifier));
            q.append_pair("code_challenge_method", "S256");
        }
        for (k, v) in &provider.authorization_params {
            q.append_pair(k, v);
        }
        for (k, v) in p.extra {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

fn form_request(
    http: &GuardedClient,
    url: Url,
    client: &OAuthClient,
    mut form: Vec<(&'static str, String)>,
) -> Result<reqwest::RequestBuilder, HttpError> {
    let mut request = http.request(http::Method::POST, url)?.header(http::header::ACCEPT, "application/json");
    match client.auth {
        TokenEndpointAuth::ClientSecretBasic => {
            // RFC 6749 §2.3.1: both parts are form-urlencoded before the basic encoding.
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let secret = client.client_secret.as_ref().map(|s| enc(s.expose_secret()));
            request = request.basic_auth(enc(&client.client_id), secret);
        }
        TokenEndpointAuth::ClientSecretPost => {
            form.push(("client_id", client.client_id.clone()));
            if let Some(secret) = &client.client_secret {
                form.push(("client_secret", secret.expose_secret().to_owned()));
            }
        }
    }
    Ok(request.form(&form))
}

fn retry_after(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

async fn token_call(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    form: Vec<(&'static str, String)>,
) -> Result<TokenSet, TokenError> {
    let name = provider.display_name.clone();
    let url =
        endpoint(provider, Endpoint::Token, settings).map_err(|e| TokenError::Protocol { message: e.to_string() })?;
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
    let oauth_error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).map(short);
    if let Some(error) = oauth_error.filter(|_| status < 500 && status != 429) {
        let description = json.as_ref().and_then(|j| j.get("error_description")).and_then(Value::as_str).map(short);
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

/// Revokes one token (RFC 7009) with a `token_type_hint`.
pub async fn revoke(
    http: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    client: &OAuthClient,
    token: &SecretString,
    hint: &str,
) -> RevokeOutcome {
    let name = &provider.display_name;
    let url = match endpoint(provider, Endpoint::Revocation, settings) {
        Ok(u) => u,
        Err(e) => return RevokeOutcome::Refused(e.to_string()),
    };
    let form = vec![("token", token.expose_secret().to_owned()), ("token_type_hint", hint.to_owned())];
    let request = match form_request(http, url, client, form) {
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
            let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).map(short);
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

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn oauth_error_codes_parse_display_and_compare_by_code() {
        assert_eq!(OAuthErrorCode::from("invalid_grant"), OAuthErrorCode::InvalidGrant);
        assert_eq!(OAuthErrorCode::from("slow_down"), OAuthErrorCode::Other("slow_down".into()));
        assert_eq!(OAuthErrorCode::Other("invalid_grant".into()), OAuthErrorCode::InvalidGrant);
        for known in OAuthErrorCode::KNOWN {
            assert_eq!(OAuthErrorCode::from(known.as_str()), known);
            assert_eq!(known.to_string(), known.as_str());
        }
        assert!("invalid_scope".to_owned() == OAuthErrorCode::InvalidScope);
        assert!("slow_down".to_owned() == OAuthErrorCode::from("slow_down"));
    }

    #[test]
    fn terminal_errors() {
        let e = |error: &str| TokenError::OAuth {
            provider: "X".into(),
            status: 400,
            error: error.into(),
            description: None,
        };
        assert!(e("invalid_grant").is_terminal());
        assert!(!e("temporarily_unavailable").is_terminal());
        assert!(
            !TokenError::Transient { message: String::new(), retry_after: None, outcome_unknown: false }.is_terminal()
        );
    }
}
