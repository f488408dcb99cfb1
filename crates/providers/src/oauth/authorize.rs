//! The authorize URL that sends the user to the provider's consent page (RFC 6749 §4.1.1), with
//! the PKCE S256 challenge (RFC 7636).

use std::collections::BTreeMap;

use patchbay_domain::provider::Provider;
use patchbay_domain::scope::ScopeSet;
use url::Url;

use super::{Endpoint, EndpointError, endpoint};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
