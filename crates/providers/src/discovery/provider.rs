//! A provider definition from a [`Discovery`]: the shape a provider file would have, so a
//! discovered server is used exactly like a built-in one (docs/providers.md).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::provider::{AuthMode, Provider, RevocationScope, TokenEndpointAuth};

use super::Discovery;

/// The OAuth client a discovered provider uses: registered (RFC 7591) or given by the user.
#[derive(Clone)]
pub struct DiscoveredClient {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Option<SecretString>,
    /// How it authenticates at the token and revocation endpoints.
    pub auth: TokenEndpointAuth,
}

impl std::fmt::Debug for DiscoveredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveredClient")
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The provider for `discovery`, with `client` as its platform client (`None`: connections
/// bring their own in the advanced settings).
///
/// A protected resource becomes the API base and the RFC 8707 `resource` parameter of the
/// authorize request (the token client repeats an authorize `resource` on every grant).
pub fn provider_from(
    id: &str,
    display_name: &str,
    discovery: &Discovery,
    client: Option<DiscoveredClient>,
) -> Provider {
    let server = &discovery.server;
    let resource = discovery.resource.as_ref().map(|r| r.resource.clone());
    let scopes: BTreeMap<String, String> = discovery.scopes().into_iter().map(|s| (s.clone(), s)).collect();
    let (client_id, client_secret, auth) = match client {
        Some(c) => (Some(c.client_id), c.client_secret, c.auth),
        None => (None, None, TokenEndpointAuth::ClientSecretBasic),
    };
    Provider {
        id: id.to_owned(),
        display_name: display_name.to_owned(),
        auth_mode: AuthMode::Oauth2,
        description: Some(format!("Discovered from {}", discovery.url)),
        // Nothing in OAuth metadata says what a server is for: the picker shows it under Other.
        category: None,
        docs_url: None,
        access_advice: None,
        discovery_url: Some(discovery.url.clone()),
        authorization_url: Some(server.authorization_endpoint.clone()),
        token_url: Some(server.token_endpoint.clone()),
        refresh_url: None,
        revocation_url: server.revocation_endpoint.clone(),
        revocation_scope: RevocationScope::default(),
        issuer: server.iss_parameter_supported.then(|| server.issuer.clone()),
        token_endpoint_auth: auth,
        pkce: true,
        scope_separator: " ".to_owned(),
        // Without scopes to pick from, every connection asks for the server's default access.
        granular_scopes: !scopes.is_empty(),
        default_scopes: Vec::new(),
        authorization_params: resource.iter().map(|r| ("resource".to_owned(), r.clone())).collect(),
        client_id,
        client_secret,
        grant_lifetime: None,
        incremental_authorization: false,
        refresh_margin: None,
        keep_alive: None,
        terminal_errors: Vec::new(),
        reverify_every: None,
        scopes,
        api_base_url: resource,
        headers: BTreeMap::new(),
        api_key: None,
        basic: None,
        verify: None,
        modules: BTreeMap::new(),
        settings: Vec::new(),
        token_response: Default::default(),
        callback_params: BTreeMap::new(),
        callback_hmac: None,
        context: None,
        metadata_hosts: BTreeMap::new(),
        token_request: Default::default(),
        revocation: None,
        oauth_app: None,
        api_hosts: BTreeMap::new(),
        oauth_token: None,
        client_variables: Vec::new(),
    }
}
