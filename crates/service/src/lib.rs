//! Patchbay's use-cases, one module per concern, all on the [`Patchbay`] handle.
//!
//! The service owns the rules: who may do what ([`Principal`](patchbay_domain::principal::Principal)
//! checks happen here, not in handlers), what is audited, what is encrypted, and what a failure
//! leaves behind. It knows nothing of HTTP; the server maps [`ServiceError`] to status codes.

pub mod audit;
mod auth;
pub mod connections;
mod error;
pub mod events;
pub mod keys;
pub mod oauth;
mod providers;
pub mod proxy;
pub mod revocations;
pub mod scenarios;
pub mod scheduler;
pub mod sessions;
pub mod tokens;
pub mod ui_queries;
pub mod views;
pub mod webhooks;
mod workers;

use std::sync::Arc;

use patchbay_domain::clock::Clock;
use patchbay_providers::{Catalog, GuardedClient};
use patchbay_store::Store;

pub use error::{ServiceError, ServiceResult};
pub use keys::{KeyService, KeySource};

/// Everything a use-case needs; cheap to share behind an `Arc`.
pub struct Patchbay {
    /// The database.
    pub store: Store,
    /// The provider catalog.
    pub catalog: Arc<Catalog>,
    /// The one guarded outbound HTTP client.
    pub http: GuardedClient,
    /// Key ring and data keys.
    pub keys: KeyService,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Settings of the use-cases.
    pub config: ServiceConfig,
    /// Per-process lifecycle state (lease identity, refresh locks).
    pub runtime: tokens::RuntimeState,
}

/// Settings the use-cases need from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// External base URL without a trailing slash; the redirect URI is `{public_url}/oauth/callback`.
    pub public_url: String,
    /// First delay before retrying a failed revocation (doubles each attempt, capped at 5 min).
    pub revocation_retry_base: std::time::Duration,
    /// How long to keep retrying a revocation before giving up.
    pub revocation_give_up_after: std::time::Duration,
    /// How long lifecycle events (and their finished webhook deliveries) are kept.
    pub event_retention: time::Duration,
    /// How long a refresh lease lasts; must exceed the outbound request timeout.
    pub refresh_lease: time::Duration,
    /// Test failpoint: sleep this long after taking a refresh lease, before the request leaves
    /// (lets tests pause a lease holder at exactly that point). `None` in production.
    pub failpoint_refresh_delay: Option<std::time::Duration>,
}

impl ServiceConfig {
    /// Defaults for a public URL: retry from 5 s, give up after 24 h.
    pub fn new(public_url: &str) -> Self {
        ServiceConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            revocation_retry_base: std::time::Duration::from_secs(5),
            revocation_give_up_after: std::time::Duration::from_secs(24 * 3600),
            event_retention: time::Duration::days(90),
            refresh_lease: time::Duration::seconds(60),
            failpoint_refresh_delay: None,
        }
    }
}

impl std::fmt::Debug for Patchbay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patchbay").field("store", &self.store).field("keys", &self.keys).finish_non_exhaustive()
    }
}
