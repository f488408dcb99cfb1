//! The one way Patchbay builds a URL that a credential is attached to (N-03): the provider's
//! API host (`api_base_url`, or an `api_hosts` entry) rendered with the connection's settings and
//! metadata — an origin learned after the grant vetted by [`crate::metadata`] — then joined with
//! the call's path by [`join_api_url`], which keeps the base's origin and path prefix.

use std::collections::BTreeMap;

use patchbay_domain::provider::Provider;
use url::Url;

use crate::template::{TemplateError, join_api_url};

/// The provider's API base URL rendered with `settings`, joined with `path` (N-03: the only
/// way Patchbay builds a URL that a credential is attached to).
pub fn api_url(provider: &Provider, settings: &BTreeMap<String, String>, path: &str) -> Result<Url, TemplateError> {
    api_url_on(provider, None, settings, path)
}

/// Like [`api_url`], on the API host `host`: `None` is `api_base_url`, `Some(key)` an `api_hosts`
/// entry (G4). Both are hosts the credential may go to (N-03).
pub fn api_url_on(
    provider: &Provider,
    host: Option<&str>,
    settings: &BTreeMap<String, String>,
    path: &str,
) -> Result<Url, TemplateError> {
    let base = provider.api_host(host).ok_or_else(|| match host {
        None => TemplateError::NoApiBase { provider: provider.id.clone() },
        Some(h) => TemplateError::UnknownApiHost {
            provider: provider.id.clone(),
            host: h.to_owned(),
            known: if provider.api_hosts.is_empty() {
                "it declares none".to_owned()
            } else {
                provider.api_hosts.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            },
        },
    })?;
    let base = crate::metadata::render(provider, base, settings)?;
    join_api_url(&base, path)
}
