//! The OAuth 2.0 client: authorize URLs (RFC 6749 §4.1.1 with PKCE, RFC 7636), the code,
//! client-credentials and refresh grants (§4.1.3, §4.4, §6) and revocation (RFC 7009).
//!
//! Written against raw HTTP rather than a generic OAuth crate because real providers bend the
//! token response: `token_type` missing, `expires_in` as a string, scopes comma-separated or as
//! an array, errors in 200 bodies. The parser accepts those and keeps the evidence of anything
//! else. Every call goes through the [`GuardedClient`] (no redirects, size cap, address guard),
//! and no error message ever contains a token or the client secret.
//!
//! This module owns the client type, the endpoint URLs and the request every token and RFC 7009
//! call shares (form or JSON body, client authentication, `token_request` extras); `authorize`
//! builds the consent URL, `token` runs the three grants and maps the reply, `context` the
//! follow-up call after a grant, `revoke` revocation (RFC 7009 or declared), and `error` types
//! the failures.

mod authorize;
mod context;
mod error;
mod revoke;
mod token;

use std::collections::BTreeMap;
use std::fmt;

use patchbay_domain::SecretString;
use patchbay_domain::grant_format::{TokenBody, TokenRequestShape};
use patchbay_domain::provider::{Provider, TokenEndpointAuth};
use secrecy::ExposeSecret;
use url::Url;

use crate::http::{GuardedClient, HttpError};
use crate::mask::Masker;
use crate::template::TemplateError;

pub use authorize::{AuthorizeParams, authorize_url, pkce_challenge};
pub use context::learn_context;
pub use error::{OAuthErrorCode, TokenError};
pub use revoke::{RevokeOutcome, revoke};
pub use token::{TokenSet, client_credentials, exchange_code, parse_token_response, refresh};

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

/// Provider-supplied text made safe to quote in a message: control characters dropped, at most
/// 200 characters.
pub fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Form fields of token and revocation requests whose values are secrets.
const SECRET_FORM_FIELDS: [&str; 5] = ["code", "code_verifier", "refresh_token", "client_secret", "token"];

/// The secrets one token or revocation request carries, for masking the provider's answer: the
/// secret form fields, the client secret, and the client's `Basic` header form (S-05).
fn request_masker(client: &OAuthClient, form: &[(&'static str, String)]) -> Masker {
    let mut masker = Masker::new(form.iter().filter(|(k, _)| SECRET_FORM_FIELDS.contains(k)).map(|(_, v)| v.as_str()));
    if let Some(secret) = &client.client_secret {
        masker.add_basic(&client.client_id, secret.expose_secret());
    }
    masker
}

/// Provider text quoted in a message: the request's secrets masked first (a cut could leave
/// part of one unmasked), then [`short`].
fn quoted(masker: &Masker, text: &str) -> String {
    short(&masker.mask(text))
}

/// One of the OAuth endpoints a provider file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `authorization_url`: the consent page.
    Authorization,
    /// `token_url`: code exchange, client credentials, and refresh unless `refresh_url` is set.
    Token,
    /// `refresh_url`, else `token_url`: the refresh grant.
    Refresh,
    /// `revocation_url`: RFC 7009 revocation.
    Revocation,
}

impl Endpoint {
    /// The provider file's key for this endpoint, as used in messages.
    pub fn key(self) -> &'static str {
        match self {
            Endpoint::Authorization => "authorization_url",
            Endpoint::Token => "token_url",
            Endpoint::Refresh => "refresh_url",
            Endpoint::Revocation => "revocation_url",
        }
    }

    fn template(self, provider: &Provider) -> Option<&str> {
        match self {
            Endpoint::Authorization => provider.authorization_url.as_deref(),
            Endpoint::Token => provider.token_url.as_deref(),
            Endpoint::Refresh => provider.refresh_url.as_deref().or(provider.token_url.as_deref()),
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
    crate::metadata::render(provider, raw, settings).map_err(|error| EndpointError::Template {
        provider: name(),
        endpoint: which,
        error,
    })
}

/// A token or RFC 7009 request: the client authenticated as `token_endpoint_auth` says, the
/// parameters encoded as `shape.body` says (form unless the provider declares JSON or the query
/// string), plus the shape's extra parameters and headers.
fn form_request(
    http: &GuardedClient,
    url: Url,
    client: &OAuthClient,
    mut form: Vec<(&'static str, String)>,
    shape: &TokenRequestShape,
) -> Result<reqwest::RequestBuilder, HttpError> {
    let mut request = http.request(http::Method::POST, url)?.header(http::header::ACCEPT, "application/json");
    for (name, value) in &shape.headers {
        request = request.header(name.as_str(), value.as_str());
    }
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
        // A public client (RFC 6749 §2.3, §3.2.1): it names itself and proves nothing; PKCE
        // binds the code to this flow instead (the catalog requires `pkce: true`).
        TokenEndpointAuth::None => form.push(("client_id", client.client_id.clone())),
    }
    let mut pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend(
        shape.params.iter().filter(|(k, _)| !form.iter().any(|(f, _)| f == k)).map(|(k, v)| (k.as_str(), v.as_str())),
    );
    Ok(match shape.body {
        TokenBody::Form => request.form(&pairs),
        TokenBody::Json => {
            let object: serde_json::Map<String, serde_json::Value> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), serde_json::Value::from(v))).collect();
            request.json(&object)
        }
        // The service reads its parameters from the URL only (ClickUp); the guarded client
        // never quotes a URL's query in an error, and the masker covers what the query carries.
        TokenBody::Query => request.query(&pairs),
    })
}

fn retry_after(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    use super::*;

    #[test]
    fn a_query_shaped_token_request_has_every_parameter_in_the_url_and_no_body() {
        let http = GuardedClient::new(crate::http::GuardOptions::default()).unwrap();
        let client = OAuthClient {
            client_id: "app 1".into(),
            client_secret: Some(SecretString::from("s&cret")),
            auth: TokenEndpointAuth::ClientSecretPost,
        };
        let shape = TokenRequestShape { body: TokenBody::Query, ..TokenRequestShape::default() };
        let url = Url::parse("https://api.clickup.com/api/v2/oauth/token").unwrap();
        let form = vec![("grant_type", "authorization_code".to_owned()), ("code", "c0de".to_owned())];
        let request = form_request(&http, url, &client, form, &shape).unwrap().build().unwrap();
        assert_eq!(request.method(), http::Method::POST);
        let query: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            query,
            [
                pair("grant_type", "authorization_code"),
                pair("code", "c0de"),
                pair("client_id", "app 1"),
                pair("client_secret", "s&cret")
            ]
        );
        assert!(request.body().is_none(), "nothing in the body");
        assert!(request.headers().get(http::header::AUTHORIZATION).is_none());
        assert!(request.headers().get(http::header::CONTENT_TYPE).is_none());
    }

    #[test]
    fn token_and_revocation_errors_mask_what_the_request_carried() {
        let client = OAuthClient {
            client_id: "my app".into(),
            client_secret: Some(SecretString::from("cs-Secret/1")),
            auth: TokenEndpointAuth::ClientSecretBasic,
        };
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", "rt-Rotating+42".to_owned()),
            ("redirect_uri", "https://patchbay.example/oauth/callback".to_owned()),
        ];
        let masker = request_masker(&client, &form);
        let basic = STANDARD.encode("my+app:cs-Secret%2F1");
        let said = format!(
            "refresh token RT-ROTATING+42 ({}) unknown; client Basic {basic} or cs-secret/1 refused; see https://patchbay.example/oauth/callback",
            URL_SAFE_NO_PAD.encode("rt-Rotating+42")
        );
        assert_eq!(
            quoted(&masker, &said),
            "refresh token [redacted] ([redacted]) unknown; client Basic [redacted] or [redacted] refused; see https://patchbay.example/oauth/callback",
            "the grant type and redirect URI are not secrets"
        );
        // Masked before it is shortened, so a cut cannot leave a piece of a secret behind.
        let long = format!("{}rt-Rotating+42", "x".repeat(190));
        assert_eq!(quoted(&masker, &long), format!("{}[redacted]", "x".repeat(190)));
    }
}
