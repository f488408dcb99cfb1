//! Patchbay's use-cases, all on the [`Patchbay`] handle, in floors that call only downwards.
//!
//! The service owns the rules: who may do what ([`Principal`](patchbay_domain::principal::Principal)
//! checks happen here, not in handlers), what is audited, what is encrypted, and what a failure
//! leaves behind. It knows nothing of HTTP; the server maps [`ServiceError`] to status codes.
//!
//! The floors, lowest first (a module calls only modules on its own floor's left or below):
//! 1. `error`, `words`, [`keys`], [`views`], [`provider_endpoints`], `workers`, `backoff`, `audit_writer` (group commit),
//!    `runtime_cache` (the hot path's generation-checked cache): types and mechanisms, no use-case;
//! 2. `access`, [`audit`], `secrets`: the one authorization check (`require`) and loading what a
//!    principal names; the audit trail; decrypting a connection's secrets, audited first;
//! 3. [`events`], then [`webhooks`]: recording lifecycle events and delivering them;
//! 4. [`lifecycle`]: the token lifecycle (schedule policy, storing a grant, exactly-once
//!    refresh, client-credentials renewal, issuing a token to the runtime), then
//!    [`revocations`] (revoking at the provider: superseded grants, deleted connections, retries);
//! 5. [`oauth`]: consent flows (start, callback);
//! 6. [`connections`], then [`scenarios`], then `step_up`: the resource use-cases, and recording
//!    the scopes a provider's `403 insufficient_scope` names;
//! 7. [`proxy`], [`scheduler`], [`sessions`] → [`receipts`], `auth`, then [`tokens`],
//!    [`data_keys`] (rotating a team's data key), [`teams`] (deleting a team), `providers`,
//!    [`team_providers`], [`ui_queries`], [`connect_sessions`] (a platform's end users adding
//!    connections): front doors and workers built on the floors below.
//!
//! Every module reads `Patchbay`'s (private) fields directly; code outside the crate goes
//! through [`Patchbay::new`] and the accessors and use-cases below.

mod access;
pub mod audit;
mod audit_writer;
mod auth;
mod backoff;
pub mod connect_sessions;
pub mod connections;
pub mod data_keys;
mod error;
pub mod events;
pub mod keys;
pub mod lifecycle;
pub mod oauth;
pub mod provider_endpoints;
mod providers;
pub mod proxy;
pub mod receipts;
pub mod revocations;
mod runtime_cache;
pub mod scenarios;
pub mod scheduler;
mod secrets;
pub mod sessions;
mod step_up;
pub mod team_providers;
pub mod teams;
pub mod tokens;
pub mod ui_queries;
pub mod views;
pub mod webhooks;
mod words;
mod workers;

use std::sync::Arc;

use patchbay_domain::clock::Clock;
use patchbay_providers::{Catalog, GuardedClient};
use patchbay_store::Store;
use time::OffsetDateTime;

pub use auth::NewToken;
pub use error::{ServiceError, ServiceResult};
pub use keys::{KeyService, KeySource};
use keys::{KeyStatus, RotationReport};
pub use runtime_cache::RuntimeCaller;

/// Everything a use-case needs; cheap to share behind an `Arc`. Built with [`Patchbay::new`].
pub struct Patchbay {
    /// The database.
    store: Store,
    /// The provider catalog.
    catalog: Arc<Catalog>,
    /// The one guarded outbound HTTP client.
    http: GuardedClient,
    /// Key ring and data keys.
    keys: KeyService,
    /// The clock.
    clock: Arc<dyn Clock>,
    /// Settings of the use-cases.
    config: ServiceConfig,
    /// Per-process lifecycle state (lease identity, refresh locks).
    runtime: lifecycle::RuntimeState,
    /// RFC 9207 issuers discovered from provider metadata.
    issuers: oauth::IssuerCache,
    /// The group-commit writer of the audit trail.
    audit_writer: audit_writer::AuditWriter,
    /// The runtime hot path's cache (principals, connections; no clear secret).
    cache: runtime_cache::RuntimeCache,
}

/// The parts [`Patchbay::new`] assembles (the composition root opens each of them).
pub struct PatchbayParts {
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
    /// Entries of the runtime cache per map (principals, connections); 0 disables it.
    pub runtime_cache_entries: usize,
    /// Largest request or response body the proxy passes through (streamed, never buffered whole).
    pub proxy_max_body_bytes: usize,
    /// How long a data-key rotation waits before its last pass, so that writes which sealed
    /// under the old key just before the new one existed have landed (`data_keys`).
    pub data_key_settle: std::time::Duration,
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
            runtime_cache_entries: 20_000,
            proxy_max_body_bytes: 32 * 1024 * 1024,
            data_key_settle: std::time::Duration::from_secs(5),
        }
    }
}

/// Whether this node can serve secrets (the answer of `/readyz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Database reachable, key ring open.
    Ready,
    /// The key ring is sealed; the reason says why.
    Sealed(String),
    /// The database does not answer; the error is for the log, not for the response.
    DatabaseUnavailable(String),
}

impl Patchbay {
    /// Assembles the service from its parts, with a fresh per-process lifecycle identity.
    pub fn new(parts: PatchbayParts) -> Patchbay {
        let PatchbayParts { store, catalog, http, keys, clock, config } = parts;
        let audit_writer = audit_writer::AuditWriter::new(store.clone());
        let cache = runtime_cache::RuntimeCache::new(config.runtime_cache_entries);
        Patchbay {
            store,
            catalog,
            http,
            keys,
            clock,
            config,
            runtime: lifecycle::RuntimeState::default(),
            issuers: oauth::IssuerCache::default(),
            audit_writer,
            cache,
        }
    }

    /// The provider catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// This process's latest refresh exposure windows (see [`lifecycle::RuntimeState::exposure_samples`]).
    pub fn refresh_exposure_samples(&self) -> Vec<std::time::Duration> {
        self.runtime.exposure_samples()
    }

    /// The key ring (sealed or not, and why).
    pub fn keys(&self) -> &KeyService {
        &self.keys
    }

    /// The settings the service runs with.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The current time on the service's clock (pages compute "3 minutes ago" with it).
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Sealed key ring first (it names the fix), then a database round trip.
    pub async fn readiness(&self) -> Readiness {
        if let Some(reason) = self.keys.sealed_reason() {
            return Readiness::Sealed(reason);
        }
        match self.store.ping().await {
            Ok(()) => Readiness::Ready,
            Err(e) => Readiness::DatabaseUnavailable(e.to_string()),
        }
    }

    /// Closes the database pool (at shutdown, after the last request).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// The key-ring use-cases of the `patchbay keys` commands, on the service handle.
impl Patchbay {
    /// Where the master key comes from, whether it is sealed, and the data keys per version.
    pub async fn key_status(&self) -> ServiceResult<KeyStatus> {
        self.keys.status(&self.store).await
    }

    /// Rotates the master key now (see [`KeyService::rotate`]).
    pub async fn rotate_keys(&self) -> ServiceResult<RotationReport> {
        self.keys.rotate(&self.store, self.clock.now()).await
    }

    /// Writes a verified private copy of the key ring to `dest` (see [`KeyService::backup`]).
    pub async fn backup_keys(&self, dest: &std::path::Path) -> ServiceResult<Vec<u32>> {
        self.keys.backup(&self.store, dest).await
    }

    /// Checks that a key file opens this database (see [`KeyService::verify_key_file`]).
    pub async fn verify_key_file(&self, path: &std::path::Path) -> ServiceResult<Vec<u32>> {
        self.keys.verify_key_file(&self.store, path).await
    }
}

impl std::fmt::Debug for Patchbay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patchbay").field("store", &self.store).field("keys", &self.keys).finish_non_exhaustive()
    }
}
