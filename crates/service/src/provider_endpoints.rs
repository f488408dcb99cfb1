//! What a provider will talk to and with which client, as `GET /v1/providers[/{id}]` and
//! `patchbay providers list --json` show it: its endpoints and API hosts as written in its file
//! (templates, `{setting}` placeholders unfilled), and whether the platform's OAuth client is
//! configured, with the variables that configure it. Never a secret: the client secret is not
//! even a field here, and the client id is shown only as "configured".

use std::collections::BTreeMap;

use patchbay_domain::provider::Provider;
use serde::Serialize;
use utoipa::ToSchema;

/// The URLs a provider's connections call, as templates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointsView {
    /// The consent page (OAuth authorization code).
    pub authorization_url: Option<String>,
    /// The token endpoint.
    pub token_url: Option<String>,
    /// Where refreshes go, when not to the token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_url: Option<String>,
    /// The revocation endpoint called on delete.
    pub revocation_url: Option<String>,
    /// The base of API calls (the proxy's default host).
    pub api_base_url: Option<String>,
    /// More API hosts a credential may go to, key → base URL (the proxy's `Patchbay-Api-Host`).
    pub api_hosts: BTreeMap<String, String>,
    /// The verify call, `METHOD URL` (`POST https://api.dropboxapi.com/2/users/get_current_account`).
    pub verify: Option<String>,
}

impl EndpointsView {
    /// The endpoints of `p`.
    pub fn new(p: &Provider) -> Self {
        let verify = p.verify.as_ref().and_then(|v| {
            let base = p.api_host(v.host.as_deref())?;
            Some(format!("{} {}{}", v.method, base.trim_end_matches('/'), v.path))
        });
        EndpointsView {
            authorization_url: p.authorization_url.clone(),
            token_url: p.token_url.clone(),
            refresh_url: p.refresh_url.clone(),
            revocation_url: p.revocation_url.clone(),
            api_base_url: p.api_base_url.clone(),
            api_hosts: p.api_hosts.clone(),
            verify,
        }
    }
}

/// Whether an OAuth provider's platform client is configured, and how to configure it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    /// The OAuth app: the file's `oauth_app`, or its own id.
    pub oauth_app: String,
    /// Whether the platform's client is configured (connections can use it).
    pub configured: bool,
    /// The environment variables that configure it (`PATCHBAY_GOOGLE_CLIENT_ID`, `…_SECRET`);
    /// empty when the provider file names its client itself, or cannot have a platform client.
    pub variables: Vec<String>,
    /// Whether a connection may bring its own client (the `client_id` advanced setting).
    pub own_client: bool,
}

impl ClientView {
    /// The client state of `p`; `None` for a provider that does not use OAuth.
    pub fn new(p: &Provider) -> Option<Self> {
        p.auth_mode.is_oauth().then(|| ClientView {
            oauth_app: p.app_id().to_owned(),
            configured: p.has_platform_client(),
            variables: p.client_variables.clone(),
            own_client: p.setting("client_id").is_some(),
        })
    }

    /// What to do when a connection needs a client and the platform has none, naming exactly the
    /// variables to set (or the file field) and the advanced settings when they exist.
    pub fn missing_client_message(p: &Provider) -> String {
        let operator = if p.client_variables.is_empty() {
            "the operator sets `client_id` and `client_secret` in its provider file".to_owned()
        } else {
            format!("the operator sets {} and restarts Patchbay", p.client_variables.join(" and "))
        };
        let own = if p.setting("client_id").is_some() {
            ", or you enter your own client id and secret in the advanced settings"
        } else {
            ""
        };
        format!("{} has no OAuth client configured: {operator}{own}", p.display_name)
    }
}
