//! Team providers (issue 16): an OAuth server a team connects by URL. Discovery and registration
//! (`patchbay_providers::discovery`, through the guarded client) produce a provider definition,
//! stored for that team only (`team_providers`) with the registered client secret sealed like
//! any credential; from then on `access::find_provider` finds it for that team, so connections,
//! consent, refresh, the token endpoint, the proxy and revoke-on-delete use it exactly like a
//! catalog provider.
//!
//! Admin only. Bad input, a refused discovery or a failed registration store nothing.

use patchbay_domain::SecretString;
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{Provider, TokenEndpointAuth};
use patchbay_providers::discovery::{
    ClientRegistration, DiscoveredClient, Discovery, DiscoveryError, ServerMetadata, discover, provider_from, register,
};
use patchbay_store::TeamProviderRow;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{TEAM_PROVIDER_SECRET_FIELD, require_to, team_provider_definition, team_provider_owner};
use crate::views::{DiscoveredView, ProviderView};
use crate::{Patchbay, ServiceError, ServiceResult};

/// `POST /v1/providers/discover`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverProvider {
    /// An authorization server's issuer, or a protected resource (an API, an MCP server).
    pub url: String,
    /// The provider id (`[a-z0-9-]`, at most 40); default from the URL's host and port.
    pub id: Option<String>,
    /// The name shown to users; default the URL's host.
    pub display_name: Option<String>,
    /// Your own OAuth client id, when the server has no dynamic registration (or you prefer
    /// yours).
    pub client_id: Option<String>,
    /// Its secret.
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretString>,
}

/// The view of a stored team provider.
fn view(provider: &Provider, row: &TeamProviderRow) -> ProviderView {
    let mut v = ProviderView::new(provider);
    v.discovered = Some(DiscoveredView {
        source_url: row.source_url.clone(),
        discovered_at: row.discovered_at,
        registered_client: row.registered,
    });
    v
}

fn discovery_failed(e: DiscoveryError) -> ServiceError {
    match e {
        DiscoveryError::BadUrl { .. } => ServiceError::Invalid(e.to_string()),
        _ => ServiceError::ProviderUnavailable(e.to_string()),
    }
}

/// `id` or one derived from the URL's host and port; checked either way.
fn provider_id(req: &DiscoverProvider, d: &Discovery) -> ServiceResult<String> {
    let id = match &req.id {
        Some(id) => id.trim().to_owned(),
        None => {
            let url = url::Url::parse(&d.url).map_err(|_| ServiceError::Invalid("the URL does not parse".into()))?;
            let host = url.host_str().unwrap_or("provider").to_ascii_lowercase();
            let with_port = url.port().map_or(host.clone(), |p| format!("{host}-{p}"));
            with_port.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
        }
    };
    let ok = !id.is_empty()
        && id.len() <= 40
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        // The web UI's "Connect a server by URL" form posts to `/connections/new/discover`.
        && id != "discover";
    if !ok {
        return Err(ServiceError::Invalid(format!(
            "provider id `{}` is not valid: use 1 to 40 lowercase letters, digits and dashes",
            patchbay_providers::oauth::short(&id)
        )));
    }
    Ok(id)
}

/// The user's own client, authenticating the best way the server offers.
fn own_client(id: String, secret: Option<SecretString>, server: &ServerMetadata) -> DiscoveredClient {
    let post_only = !server.token_endpoint_auth_methods.iter().any(|m| m == "client_secret_basic")
        && server.token_endpoint_auth_methods.iter().any(|m| m == "client_secret_post");
    let auth = if post_only { TokenEndpointAuth::ClientSecretPost } else { TokenEndpointAuth::ClientSecretBasic };
    DiscoveredClient { client_id: id, client_secret: secret, auth }
}

impl Patchbay {
    /// Every provider `who`'s team can use: the catalog's, then the team's discovered ones.
    pub async fn list_providers_for(&self, who: &Principal) -> ServiceResult<Vec<ProviderView>> {
        require_to(who, Action::Read, "list providers")?;
        let mut out = self.list_providers();
        for row in self.store.team_providers(&who.team_id).await? {
            out.push(view(&team_provider_definition(&row)?, &row));
        }
        Ok(out)
    }

    /// One provider as `who`'s team sees it.
    pub async fn get_provider_for(&self, who: &Principal, id: &str) -> ServiceResult<ProviderView> {
        require_to(who, Action::Read, "read providers")?;
        if self.catalog.get(id).is_some() {
            return self.get_provider(id);
        }
        match self.store.team_provider(&who.team_id, id).await? {
            Some(row) => Ok(view(&team_provider_definition(&row)?, &row)),
            None => self.get_provider(id),
        }
    }

    /// Discovers the server behind `req.url`, registers Patchbay (or takes the given client)
    /// and stores the provider for `who`'s team.
    pub async fn discover_provider(&self, who: &Principal, req: DiscoverProvider) -> ServiceResult<ProviderView> {
        require_to(who, Action::Administer, "add providers")?;
        self.keys.require_unsealed()?;
        let found = discover(&self.http, &req.url).await.map_err(discovery_failed)?;
        let id = provider_id(&req, &found)?;
        if self.catalog.get(&id).is_some() || self.store.team_provider(&who.team_id, &id).await?.is_some() {
            return Err(ServiceError::Conflict(format!("a provider `{id}` exists already: choose another id")));
        }
        let host = url::Url::parse(&found.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let name = req.display_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or(host);
        let (client, registered) = match req.client_id.clone().filter(|c| !c.is_empty()) {
            Some(client_id) => (own_client(client_id, req.client_secret, &found.server), false),
            None if found.server.registration_endpoint.is_some() => {
                let registration =
                    ClientRegistration { client_name: "Patchbay".into(), redirect_uri: self.redirect_uri() };
                let r = register(&self.http, &found.server, &registration).await.map_err(discovery_failed)?;
                (DiscoveredClient { client_id: r.client_id, client_secret: r.client_secret, auth: r.auth }, true)
            }
            None => {
                return Err(ServiceError::Invalid(format!(
                    "{} offers no dynamic client registration: register Patchbay there (redirect URI {}) and give \
                     its client id and secret",
                    found.server.issuer,
                    self.redirect_uri()
                )));
            }
        };
        let now = self.clock.now();
        let sealed = match &client.client_secret {
            Some(secret) => Some(
                self.keys
                    .seal_owned(
                        &self.store,
                        &who.team_id,
                        &team_provider_owner(&id),
                        TEAM_PROVIDER_SECRET_FIELD,
                        secret,
                        now,
                    )
                    .await?,
            ),
            None => None,
        };
        let provider = provider_from(&id, &name, &found, Some(client));
        let row = TeamProviderRow {
            id: id.clone(),
            definition: serde_json::to_string(&provider).map_err(|e| ServiceError::Internal(e.to_string()))?,
            source_url: found.url.clone(),
            registered,
            client_secret: sealed,
            discovered_at: now,
        };
        if !self.store.insert_team_provider(&who.team_id, &row).await? {
            return Err(ServiceError::Conflict(format!("a provider `{id}` exists already: choose another id")));
        }
        tracing::info!(provider = %id, url = %found.url, registered, "team provider discovered");
        Ok(view(&provider, &row))
    }

    /// Reads the metadata of a team provider again and replaces its endpoints and scopes; its
    /// client stays.
    pub async fn rediscover_provider(&self, who: &Principal, id: &str) -> ServiceResult<ProviderView> {
        require_to(who, Action::Administer, "refresh providers")?;
        let row = self.team_row(who, id).await?;
        let old = team_provider_definition(&row)?;
        let found = discover(&self.http, &row.source_url).await.map_err(discovery_failed)?;
        let client = old.client_id.clone().map(|client_id| DiscoveredClient {
            client_id,
            client_secret: None,
            auth: old.token_endpoint_auth,
        });
        let provider = provider_from(id, &old.display_name, &found, client);
        let definition = serde_json::to_string(&provider).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.clock.now();
        self.store.update_team_provider(&who.team_id, id, &definition, now).await?;
        Ok(view(&provider, &TeamProviderRow { definition, discovered_at: now, ..row }))
    }

    /// Deletes a team provider no connection uses.
    pub async fn delete_team_provider(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        require_to(who, Action::Administer, "delete providers")?;
        if self.catalog.get(id).is_some() {
            return Err(ServiceError::Invalid(format!(
                "`{id}` is a catalog provider: only providers your team discovered can be deleted"
            )));
        }
        match self.store.delete_team_provider(&who.team_id, id).await? {
            Some(true) => Ok(()),
            Some(false) => Err(ServiceError::Conflict(format!(
                "provider `{id}` is used by connections of your team: delete them first"
            ))),
            None => Err(team_provider_missing(id)),
        }
    }

    async fn team_row(&self, who: &Principal, id: &str) -> ServiceResult<TeamProviderRow> {
        self.store.team_provider(&who.team_id, id).await?.ok_or_else(|| team_provider_missing(id))
    }
}

fn team_provider_missing(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("your team has no discovered provider `{id}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery(url: &str) -> Discovery {
        let server = ServerMetadata {
            issuer: url.to_owned(),
            authorization_endpoint: format!("{url}/a"),
            token_endpoint: format!("{url}/t"),
            revocation_endpoint: None,
            registration_endpoint: None,
            scopes_supported: Vec::new(),
            token_endpoint_auth_methods: vec!["client_secret_post".into()],
            iss_parameter_supported: false,
            metadata_url: format!("{url}/.well-known/oauth-authorization-server"),
        };
        Discovery { url: url.to_owned(), resource: None, server }
    }

    fn request(id: Option<&str>) -> DiscoverProvider {
        DiscoverProvider {
            url: String::new(),
            id: id.map(str::to_owned),
            display_name: None,
            client_id: None,
            client_secret: None,
        }
    }

    #[test]
    fn ids_default_to_host_and_port_and_are_checked() {
        let d = discovery("https://MCP.example.com:8443/mcp");
        assert_eq!(provider_id(&request(None), &d).unwrap(), "mcp-example-com-8443");
        assert_eq!(provider_id(&request(Some("my-app")), &d).unwrap(), "my-app");
        for bad in ["", "Bad", "a b", "-x", "discover", &"x".repeat(41)] {
            assert!(provider_id(&request(Some(bad)), &d).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_own_client_uses_the_method_the_server_offers() {
        let d = discovery("https://as.example");
        assert_eq!(own_client("c".into(), None, &d.server).auth, TokenEndpointAuth::ClientSecretPost);
        let mut both = d.server.clone();
        both.token_endpoint_auth_methods.push("client_secret_basic".into());
        assert_eq!(own_client("c".into(), None, &both).auth, TokenEndpointAuth::ClientSecretBasic);
    }
}
