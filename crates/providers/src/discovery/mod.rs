//! Finding an OAuth server from one URL, and registering Patchbay with it (docs/security.md
//! N-01; RFC 8414, RFC 9728, RFC 7591).
//!
//! The URL is either an authorization server's issuer or a protected resource (an MCP server's
//! endpoint, an API). [`discover`] tries, in order:
//!
//! 1. the resource's metadata at `/.well-known/oauth-protected-resource[/path]` (RFC 9728
//!    §3.1), else the `resource_metadata` of a `401`'s `WWW-Authenticate: Bearer` challenge
//!    from the URL itself (§5.1); the metadata's `resource` must be the URL asked for (§3.3) and
//!    its first `authorization_servers` entry is the issuer;
//! 2. otherwise the URL is taken as the issuer;
//! 3. the issuer's metadata at `/.well-known/oauth-authorization-server[/path]`, then
//!    `/.well-known/openid-configuration` (both placements), whose `issuer` must be exactly the
//!    one asked for (RFC 8414 §3.3), which must support PKCE `S256` and the code flow.
//!
//! Every request goes through the [`GuardedClient`] (address guard, no redirects, timeouts) with
//! a metadata cap of [`METADATA_LIMIT`] bytes. A document that is malformed, too large or
//! inconsistent is an error naming what was wrong; nothing is half-discovered. [`register`]
//! performs RFC 7591 registration; [`provider_from`] turns the result into a provider
//! definition. This module stores nothing.

mod fetch;
mod provider;
mod register;
mod resource;
mod server;

use url::Url;

use crate::http::{GuardedClient, HttpError};

pub use provider::{DiscoveredClient, provider_from};
pub use register::{ClientRegistration, RegisteredClient, register};
pub use resource::{ResourceMetadata, bearer_param, challenge_params, resource_metadata_from_challenge};
pub use server::{ServerMetadata, metadata_urls};

/// The largest metadata or registration answer read (64 KiB: real documents are a few KiB).
pub const METADATA_LIMIT: usize = 64 * 1024;

/// What [`discover`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The URL the user gave, normalised by the URL parser.
    pub url: String,
    /// The protected resource, when the URL was one.
    pub resource: Option<ResourceMetadata>,
    /// The authorization server.
    pub server: ServerMetadata,
}

impl Discovery {
    /// Scopes to offer: the resource's own list first, then the server's, without repeats.
    pub fn scopes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let resource = self.resource.iter().flat_map(|r| r.scopes_supported.iter());
        for scope in resource.chain(self.server.scopes_supported.iter()) {
            if !out.contains(scope) {
                out.push(scope.clone());
            }
        }
        out
    }
}

/// Why discovery or registration failed. Messages are for the user and name the document and
/// the field at fault; none contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// The URL given is not usable.
    #[error("`{url}` is not a URL Patchbay can discover: {reason}")]
    BadUrl {
        /// The URL as given (at most 200 characters).
        url: String,
        /// Why.
        reason: String,
    },
    /// An outbound call was refused or failed (address guard, timeout, redirect, size cap…).
    #[error("{what}: {error}")]
    Http {
        /// Which document was being fetched.
        what: String,
        /// The guarded client's error.
        error: HttpError,
    },
    /// A document was missing, malformed or inconsistent.
    #[error("{what}: {reason}")]
    Metadata {
        /// Which document.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No authorization server metadata at any of the well-known places.
    #[error("no OAuth authorization server metadata was found for {issuer} (tried {tried})")]
    NotFound {
        /// The issuer looked up.
        issuer: String,
        /// The URLs tried.
        tried: String,
    },
    /// The server refused the registration (RFC 7591 §3.2.2), with its error.
    #[error("{server} refused to register Patchbay: {error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    RegistrationRefused {
        /// The registration endpoint's host.
        server: String,
        /// The RFC 7591 error code (or `HTTP <status>`).
        error: String,
        /// Its `error_description`, shortened.
        description: Option<String>,
    },
}

/// Finds the authorization server behind `url` (see the module header).
///
/// # Errors
/// [`DiscoveryError`] naming the document and the problem; nothing is returned half-checked.
pub async fn discover(http: &GuardedClient, url: &str) -> Result<Discovery, DiscoveryError> {
    let parsed = parse_url(url)?;
    http.check_url(&parsed).map_err(|error| DiscoveryError::Http { what: format!("calling {}", short(url)), error })?;
    let resource = resource::find(http, &parsed).await?;
    let issuer = match &resource {
        Some(r) => r.authorization_servers[0].clone(),
        // Typed by a user: a trailing slash is not a different issuer to them.
        None => url.trim().trim_end_matches('/').to_owned(),
    };
    let server = server::find(http, &issuer, resource.is_none()).await?;
    Ok(Discovery { url: parsed.to_string(), resource, server })
}

/// An absolute http(s) URL without credentials, query or fragment.
fn parse_url(url: &str) -> Result<Url, DiscoveryError> {
    let bad = |reason: &str| DiscoveryError::BadUrl { url: short(url), reason: reason.to_owned() };
    let parsed = Url::parse(url.trim()).map_err(|_| bad("write an absolute https:// URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("only https:// URLs can be discovered"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("an issuer or resource URL has no query or fragment"));
    }
    Ok(parsed)
}

/// Text from a URL or a server, safe to quote: no control characters, at most 200 characters.
pub(crate) fn short(text: &str) -> String {
    crate::oauth::short(text)
}
