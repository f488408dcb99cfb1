//! Patchbay's use-cases, one module per concern, all on the [`Patchbay`] handle.
//!
//! The service owns the rules: who may do what ([`Principal`](patchbay_domain::principal::Principal)
//! checks happen here, not in handlers), what is audited, what is encrypted, and what a failure
//! leaves behind. It knows nothing of HTTP; the server maps [`ServiceError`] to status codes.

pub mod audit;
mod auth;
pub mod connections;
mod error;
pub mod keys;
mod providers;
pub mod views;

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
}

impl std::fmt::Debug for Patchbay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patchbay")
            .field("store", &self.store)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}
