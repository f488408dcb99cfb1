//! `discovery_url` in provider files: at start, the catalog asks the URL's metadata (through
//! [`crate::discovery`], so through the guarded client) for the OAuth endpoints the file left out.
//!
//! The file wins: a field it declares is never replaced. A provider that still lacks
//! `authorization_url` or `token_url` after a failed discovery is an error (the catalog refuses
//! to start, as for any invalid file); one that declares both only logs the failure and keeps
//! its own endpoints.

use std::sync::Arc;

use patchbay_domain::provider::Provider;

use crate::catalog::Catalog;
use crate::discovery::{Discovery, discover};
use crate::http::GuardedClient;
use crate::validate::{CatalogError, CatalogErrors};

impl Catalog {
    /// Fills the endpoints of every provider declaring `discovery_url`; returns how many were
    /// discovered.
    ///
    /// # Errors
    /// One error per provider whose discovery failed and which cannot work without it.
    pub async fn resolve_discovery(&mut self, http: &GuardedClient) -> Result<usize, CatalogErrors> {
        let wanted: Vec<Arc<Provider>> = self.list().filter(|p| p.discovery_url.is_some()).cloned().collect();
        let mut errors = Vec::new();
        let mut found = 0;
        for provider in wanted {
            let url = provider.discovery_url.clone().unwrap_or_default();
            match discover(http, &url).await {
                Ok(discovery) => {
                    let mut filled = (*provider).clone();
                    fill(&mut filled, &discovery);
                    tracing::info!(provider = %filled.id, url = %url, "provider endpoints discovered");
                    self.replace(Arc::new(filled));
                    found += 1;
                }
                Err(e) if provider.authorization_url.is_some() && provider.token_url.is_some() => {
                    tracing::warn!(provider = %provider.id, error = %e, "discovery failed; the file's endpoints are used");
                }
                Err(e) => errors.push(CatalogError {
                    file: format!("provider {}", provider.id),
                    line: None,
                    field: "discovery_url".into(),
                    message: format!("{e}; fix the URL, or write authorization_url and token_url in the file"),
                }),
            }
        }
        if errors.is_empty() { Ok(found) } else { Err(CatalogErrors(errors)) }
    }
}

/// Copies what the file left out from the discovered metadata.
fn fill(p: &mut Provider, d: &Discovery) {
    let s = &d.server;
    p.authorization_url.get_or_insert_with(|| s.authorization_endpoint.clone());
    p.token_url.get_or_insert_with(|| s.token_endpoint.clone());
    if p.revocation_url.is_none() {
        p.revocation_url.clone_from(&s.revocation_endpoint);
    }
    if p.issuer.is_none() && s.iss_parameter_supported {
        p.issuer = Some(s.issuer.clone());
    }
    if p.scopes.is_empty() {
        p.scopes = d.scopes().into_iter().map(|s| (s.clone(), s)).collect();
    }
    if let Some(r) = &d.resource {
        p.api_base_url.get_or_insert_with(|| r.resource.clone());
        p.authorization_params.entry("resource".to_owned()).or_insert_with(|| r.resource.clone());
    }
}
