//! The authorization server's metadata (RFC 8414, and OpenID Connect Discovery as a fallback):
//! where to look for it, and the checks that make it usable for a code flow with PKCE.

use url::Url;

use super::fetch::{Fetched, Fields, get_json};
use super::{DiscoveryError, short};
use crate::http::GuardedClient;

/// An authorization server's metadata, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    /// `issuer`, exactly the one asked for.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `revocation_endpoint` (RFC 7009), if any.
    pub revocation_endpoint: Option<String>,
    /// `registration_endpoint` (RFC 7591), if any.
    pub registration_endpoint: Option<String>,
    /// `scopes_supported`, in the server's order (may be empty).
    pub scopes_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported` (RFC 8414's default `client_secret_basic` when
    /// absent).
    pub token_endpoint_auth_methods: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    pub iss_parameter_supported: bool,
    /// Where the document was read.
    pub metadata_url: String,
}

/// The places metadata for `issuer` may be, in the order tried: RFC 8414 §3.1 (well-known
/// segment before the issuer's path), then OpenID Connect Discovery (after the path) and its
/// RFC 8414 §5 placement (before it).
pub fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let at = |p: String| {
        let mut u = issuer.clone();
        u.set_path(&p);
        u
    };
    let mut out = vec![at(format!("/.well-known/oauth-authorization-server{path}"))];
    out.push(at(format!("{path}/.well-known/openid-configuration")));
    if !path.is_empty() {
        out.push(at(format!("/.well-known/openid-configuration{path}")));
    }
    out
}

/// Reads and checks the metadata of `issuer`. `typed`: the issuer was typed by a user (not read
/// from a resource's metadata), so a trailing slash more or less is not a mismatch.
pub(crate) async fn find(http: &GuardedClient, issuer: &str, typed: bool) -> Result<ServerMetadata, DiscoveryError> {
    let parsed = Url::parse(issuer).map_err(|_| DiscoveryError::BadUrl {
        url: short(issuer),
        reason: "the authorization server's issuer is not an absolute URL".into(),
    })?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(DiscoveryError::BadUrl {
            url: short(issuer),
            reason: "an issuer has no query or fragment (RFC 8414 §2)".into(),
        });
    }
    let candidates = metadata_urls(&parsed);
    for url in &candidates {
        if let Fetched::Json(map) = get_json(http, url, "the authorization server metadata").await? {
            return check(http, &map, Expected { issuer, typed }, url);
        }
    }
    let tried = candidates.iter().map(Url::as_str).collect::<Vec<_>>().join(", ");
    Err(DiscoveryError::NotFound { issuer: short(issuer), tried })
}

/// The issuer asked for.
struct Expected<'a> {
    issuer: &'a str,
    typed: bool,
}

/// RFC 8414 §3.3 and what Patchbay needs: the exact issuer, both endpoints, the code flow, S256.
fn check(
    http: &GuardedClient,
    map: &serde_json::Map<String, serde_json::Value>,
    expected: Expected<'_>,
    at: &Url,
) -> Result<ServerMetadata, DiscoveryError> {
    let issuer = expected.issuer;
    let what = format!("the authorization server metadata at {}", short(at.as_str()));
    let fields = Fields { map, what: &what };
    let wrong = |reason: String| DiscoveryError::Metadata { what: what.clone(), reason };
    let found = fields.required("issuer")?;
    let same = found == issuer || (expected.typed && found.trim_end_matches('/') == issuer.trim_end_matches('/'));
    if !same {
        return Err(wrong(format!(
            "its issuer is `{}`, not `{}` (RFC 8414 §3.3 requires them to be identical, so another server \
             cannot impersonate this one)",
            short(&found),
            short(issuer)
        )));
    }
    let authorization_endpoint = fields
        .url(http, "authorization_endpoint")?
        .ok_or_else(|| wrong("`authorization_endpoint` is missing".into()))?;
    let token_endpoint =
        fields.url(http, "token_endpoint")?.ok_or_else(|| wrong("`token_endpoint` is missing".into()))?;
    if !fields.list("response_types_supported")?.unwrap_or_else(|| vec!["code".into()]).iter().any(|t| t == "code") {
        return Err(wrong(
            "the server does not support the authorization code flow (`response_types_supported`)".into(),
        ));
    }
    if let Some(grants) = fields.list("grant_types_supported")?
        && !grants.iter().any(|g| g == "authorization_code")
    {
        return Err(wrong("the server does not support the `authorization_code` grant".into()));
    }
    // RFC 8414 §2: absent means the server does not support PKCE.
    let pkce = fields.list("code_challenge_methods_supported")?.unwrap_or_default();
    if !pkce.iter().any(|m| m == "S256") {
        return Err(wrong(
            "the server does not support PKCE with S256 (`code_challenge_methods_supported`), which Patchbay \
             requires for every consent"
                .into(),
        ));
    }
    let iss_parameter_supported = match map.get("authorization_response_iss_parameter_supported") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err(wrong("`authorization_response_iss_parameter_supported` must be true or false".into())),
    };
    Ok(ServerMetadata {
        issuer: found,
        authorization_endpoint,
        token_endpoint,
        revocation_endpoint: fields.url(http, "revocation_endpoint")?,
        registration_endpoint: fields.url(http, "registration_endpoint")?,
        scopes_supported: fields.list("scopes_supported")?.unwrap_or_default(),
        token_endpoint_auth_methods: fields
            .list("token_endpoint_auth_methods_supported")?
            .unwrap_or_else(|| vec!["client_secret_basic".into()]),
        iss_parameter_supported,
        metadata_url: at.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_places() {
        let urls = |u: &str| metadata_urls(&Url::parse(u).unwrap()).iter().map(Url::to_string).collect::<Vec<_>>();
        assert_eq!(
            urls("https://as.example"),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            urls("https://as.example/tenant1"),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
                "https://as.example/.well-known/openid-configuration/tenant1"
            ]
        );
    }
}
