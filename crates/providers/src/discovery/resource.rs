//! The protected-resource side (RFC 9728): the resource's metadata at its well-known place or
//! named by a `401`'s Bearer challenge, checked against the URL asked for; and the parser of
//! Bearer challenge parameters (RFC 6750 §3), which the step-up rule reads too.

use url::Url;

use super::fetch::{Fetched, Fields, get_json};
use super::{DiscoveryError, METADATA_LIMIT, short};
use crate::http::{GuardedClient, HttpError};

/// A protected resource's metadata, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    /// Its identifier, equal to the URL asked for: the API base and the `resource` parameter.
    pub resource: String,
    /// Issuers of the authorization servers it trusts; never empty.
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`, in its order (may be empty).
    pub scopes_supported: Vec<String>,
    /// Where the document was read.
    pub metadata_url: String,
}

/// `/.well-known/oauth-protected-resource` inserted between the origin and the path.
fn well_known(url: &Url) -> Url {
    let mut out = url.clone();
    let path = url.path().trim_end_matches('/');
    out.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
    out
}

/// The resource's metadata, or `None` when `url` does not present itself as a resource.
pub(crate) async fn find(http: &GuardedClient, url: &Url) -> Result<Option<ResourceMetadata>, DiscoveryError> {
    let at = well_known(url);
    if let Fetched::Json(map) = get_json(http, &at, "the protected resource metadata").await? {
        return check(http, &map, url, &at).map(Some);
    }
    let Some(named) = probe(http, url).await? else { return Ok(None) };
    let named = Url::parse(&named).map_err(|_| DiscoveryError::Metadata {
        what: format!("the WWW-Authenticate challenge of {}", short(url.as_str())),
        reason: "`resource_metadata` is not an absolute URL".into(),
    })?;
    match get_json(http, &named, "the protected resource metadata").await? {
        Fetched::Json(map) => check(http, &map, url, &named).map(Some),
        Fetched::Absent => Err(DiscoveryError::Metadata {
            what: "the protected resource metadata".into(),
            reason: format!("{} answered 404", short(named.as_str())),
        }),
    }
}

/// GETs the URL itself: a `401` whose Bearer challenge names `resource_metadata` returns it.
async fn probe(http: &GuardedClient, url: &Url) -> Result<Option<String>, DiscoveryError> {
    let http_error = |error| DiscoveryError::Http { what: format!("calling {}", short(url.as_str())), error };
    let request = http.request(http::Method::GET, url.clone()).map_err(http_error)?;
    let response = match http.send(request).await {
        Ok(r) => r,
        // An issuer's home page may redirect to a sign-in page: not a resource, not an error.
        Err(HttpError::Redirect { .. }) => return Ok(None),
        Err(e) => return Err(http_error(e)),
    };
    let named = (response.status() == http::StatusCode::UNAUTHORIZED)
        .then(|| resource_metadata_from_challenge(response.headers()))
        .flatten();
    // Drain within the cap so the pooled connection can be reused; the body is not used.
    let _ = http.read_body_within(response, METADATA_LIMIT).await;
    Ok(named)
}

/// The `resource_metadata` parameter of a `WWW-Authenticate: Bearer` challenge, if any.
pub fn resource_metadata_from_challenge(headers: &http::HeaderMap) -> Option<String> {
    bearer_param(headers, "resource_metadata")
}

/// Parameter `name` of the first Bearer challenge carrying it.
pub fn bearer_param(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| challenge_params(v).into_iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The auth-params of the Bearer challenge in one header value (`Bearer a="x", b=y`); empty when
/// the value is no Bearer challenge.
pub fn challenge_params(value: &str) -> Vec<(String, String)> {
    let value = value.trim_start();
    let Some(rest) = value.get(..6).filter(|s| s.eq_ignore_ascii_case("bearer")).map(|_| &value[6..]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next_if_eq(&'=').is_none() {
            // A second scheme starts here (`Bearer x="1", Basic realm=…`): stop.
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next()),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            val = std::iter::from_fn(|| chars.next_if(|c| *c != ',' && !c.is_whitespace())).collect();
        }
        out.push((key, val));
    }
    out
}

/// RFC 9728 §3.3: the document describes the URL asked for, and names at least one server.
fn check(
    http: &GuardedClient,
    map: &serde_json::Map<String, serde_json::Value>,
    asked: &Url,
    at: &Url,
) -> Result<ResourceMetadata, DiscoveryError> {
    let what = format!("the protected resource metadata at {}", short(at.as_str()));
    let fields = Fields { map, what: &what };
    let resource = fields.required("resource")?;
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    if !same(&resource, asked.as_str()) {
        return Err(DiscoveryError::Metadata {
            what,
            reason: format!(
                "it describes `{}`, not `{}` (RFC 9728 §3.3): use the resource's own URL",
                short(&resource),
                short(asked.as_str())
            ),
        });
    }
    let servers = fields.list("authorization_servers")?.unwrap_or_default();
    let Some(first) = servers.first() else {
        return Err(DiscoveryError::Metadata { what, reason: "`authorization_servers` is missing or empty".into() });
    };
    let first_url = Url::parse(first).map_err(|_| DiscoveryError::Metadata {
        what: what.clone(),
        reason: "`authorization_servers` must hold absolute URLs".into(),
    })?;
    http.check_url(&first_url).map_err(|error| DiscoveryError::Http { what: what.clone(), error })?;
    Ok(ResourceMetadata {
        resource: asked.as_str().trim_end_matches('/').to_owned(),
        authorization_servers: servers,
        scopes_supported: fields.list("scopes_supported")?.unwrap_or_default(),
        metadata_url: at.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters_are_parsed() {
        let params = challenge_params(
            r#"Bearer realm="Demo \"Cloud\"", error="insufficient_scope", scope="a b", resource_metadata=https://x/y"#,
        );
        let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("realm"), Some("Demo \"Cloud\""));
        assert_eq!(get("scope"), Some("a b"));
        assert_eq!(get("resource_metadata"), Some("https://x/y"));
        assert!(challenge_params(r#"Basic realm="x""#).is_empty());
        assert!(challenge_params("Bearer").is_empty());
        assert_eq!(challenge_params(r#"bearer error="x", Basic realm="y""#).len(), 1);
    }

    #[test]
    fn the_well_known_segment_goes_before_the_path() {
        let at = |u: &str| well_known(&Url::parse(u).unwrap()).to_string();
        assert_eq!(at("https://mcp.example/mcp/"), "https://mcp.example/.well-known/oauth-protected-resource/mcp");
        assert_eq!(at("https://api.example"), "https://api.example/.well-known/oauth-protected-resource");
    }
}
