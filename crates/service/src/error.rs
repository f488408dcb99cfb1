//! The service's error policy.
//!
//! Each variant is an outcome the caller can act on, and maps to exactly one HTTP status in the
//! server. `message` is written for the user: it says what was wrong and what to do, and it never
//! contains a secret (values that came from a credential are never formatted into it). Internal
//! causes are logged by the server and replaced by a generic message in the response.

use patchbay_domain::connection::Connection;
use patchbay_store::StoreError;

/// What a use-case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed or names something invalid (400).
    #[error("{0}")]
    Invalid(String),
    /// No credentials, or credentials not recognised (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The principal's role does not allow the action (403).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or belonging to another team — the same answer for both (404).
    #[error("{0}")]
    NotFound(String),
    /// Clashes with existing state, e.g. a name already in use (409).
    #[error("{0}")]
    Conflict(String),
    /// The connection needs the user: rejected or expired grant (409).
    #[error("{0}")]
    NeedsReauth(String),
    /// The connection never received a credential: its consent was denied, abandoned or not
    /// finished yet (409). Nothing can be verified, issued or proxied until it is connected.
    #[error("{0}")]
    NotConnected(String),
    /// The connection lacks scopes for the module (403), listed.
    #[error("{message}")]
    MissingScopes {
        /// What to do.
        message: String,
        /// The missing scopes.
        missing: Vec<String>,
        /// The connection that lacks them (its id)…
        connection: String,
        /// …and the module to reauthorize it with (`provider.module`) to add them.
        module: String,
    },
    /// The provider rejected the credential (422).
    #[error("{0}")]
    CredentialRejected(String),
    /// The provider could not be reached or answered badly (502).
    #[error("{0}")]
    ProviderUnavailable(String),
    /// A new credential could not be checked because the provider could not be reached, so it
    /// was not saved (502, code `provider_unavailable`). Each front door adds how to save it
    /// unverified (API: `"verify": false`, CLI: `--no-verify`, web: "Save without verifying").
    #[error("{0}")]
    VerifyUnavailable(String),
    /// The key ring is sealed: secrets can be neither read nor written (503).
    #[error("{0}")]
    Sealed(String),
    /// The database does not answer right now (503, with `Retry-After`); the cause is logged,
    /// not returned. Nothing to fix on the caller's side: retry in a few seconds.
    #[error("the database is not answering right now; try again in a few seconds")]
    DatabaseUnavailable(String),
    /// Not available on this server (501).
    #[error("{0}")]
    Unsupported(String),
    /// A bug or an infrastructure failure; details are logged, not returned (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable machine-readable code of the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid(_) => "invalid_request",
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::NeedsReauth(_) => "needs_reauth",
            ServiceError::NotConnected(_) => "not_connected",
            ServiceError::MissingScopes { .. } => "missing_scopes",
            ServiceError::CredentialRejected(_) => "credential_rejected",
            ServiceError::ProviderUnavailable(_) | ServiceError::VerifyUnavailable(_) => "provider_unavailable",
            ServiceError::Sealed(_) => "sealed",
            ServiceError::DatabaseUnavailable(_) => "database_unavailable",
            ServiceError::Unsupported(_) => "unsupported",
            ServiceError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => ServiceError::DatabaseUnavailable(cause),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// The answer for a connection that has no credential yet (never granted): what to do next.
pub(crate) fn not_connected(c: &Connection) -> ServiceError {
    let why = c.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
    ServiceError::NotConnected(format!(
        "connection `{}` is not connected yet{why}: finish the consent first (Connect on its page in the web UI, \
         or POST /v1/connections/{}/reauthorize and open the authorize_url)",
        c.name, c.id
    ))
}

/// Result of a use-case.
pub type ServiceResult<T> = Result<T, ServiceError>;
