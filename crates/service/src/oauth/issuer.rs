//! The RFC 9207 issuer a callback's `iss` must equal, also for providers whose file declares no
//! `issuer:` (SECURITY O-06): when the provider's RFC 8414 metadata, at
//! `{origin of authorization_url}/.well-known/oauth-authorization-server`, advertises
//! `authorization_response_iss_parameter_supported: true`, its `issuer` is required.
//!
//! Discovered on first use and cached per provider for an hour; a failed discovery (no metadata,
//! an error, no `issuer`) is cached for a minute and requires nothing beyond the file.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use patchbay_domain::provider::Provider;
use serde::Deserialize;

use crate::Patchbay;

const FOUND_FOR: Duration = Duration::from_secs(3600);
const MISSING_FOR: Duration = Duration::from_secs(60);

/// Discovered issuers by provider id, with when each answer expires.
#[derive(Default)]
pub(crate) struct IssuerCache(Mutex<HashMap<String, (Option<String>, Instant)>>);

#[derive(Deserialize)]
struct Metadata {
    issuer: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

impl Patchbay {
    /// The issuer the callback's `iss` must equal: the declared one, else the discovered one.
    pub(super) async fn required_issuer(&self, provider: &Provider) -> Option<String> {
        if let Some(issuer) = &provider.issuer {
            return Some(issuer.clone());
        }
        let now = Instant::now();
        if let Some((found, until)) = self.issuers.0.lock().unwrap_or_else(|e| e.into_inner()).get(&provider.id)
            && *until > now
        {
            return found.clone();
        }
        let found = self.discover_issuer(provider).await;
        let until = now + if found.is_some() { FOUND_FOR } else { MISSING_FOR };
        self.issuers.0.lock().unwrap_or_else(|e| e.into_inner()).insert(provider.id.clone(), (found.clone(), until));
        found
    }

    async fn discover_issuer(&self, provider: &Provider) -> Option<String> {
        let mut url = url::Url::parse(provider.authorization_url.as_deref()?).ok()?;
        url.set_path("/.well-known/oauth-authorization-server");
        url.set_query(None);
        let request = self.http.request(http::Method::GET, url).ok()?.header(http::header::ACCEPT, "application/json");
        let response = self.http.fetch(request).await.ok().filter(|r| r.status.is_success())?;
        let metadata: Metadata = serde_json::from_slice(&response.body).ok()?;
        let issuer = metadata.issuer.filter(|_| metadata.authorization_response_iss_parameter_supported)?;
        tracing::info!(provider = %provider.id, "authorization server requires `iss` on callbacks (RFC 9207 metadata)");
        Some(issuer)
    }
}
