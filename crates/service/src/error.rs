//! The service's error policy.
//!
//! Each variant is an outcome the caller can act on, and maps to exactly one HTTP status in the
//! server. `message` is written for the user: it says what was wrong and what to do, and it never
//! contains a secret (values that came from a credential are never formatted into it). Internal
//! causes are logged by the server and replaced by a generic message in the response.

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
    /// The connection needs the user: pending consent, rejected or expired grant (409).
    #[error("{0}")]
    NeedsReauth(String),
    /// The connection lacks scopes for the module (403), listed.
    #[error("{message}")]
    MissingScopes {
        /// What to do.
        message: String,
        /// The missing scopes.
        missing: Vec<String>,
    },
    /// The provider rejected the credential (422).
    #[error("{0}")]
    CredentialRejected(String),
    /// The provider could not be reached or answered badly (502).
    #[error("{0}")]
    ProviderUnavailable(String),
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
            ServiceError::MissingScopes { .. } => "missing_scopes",
            ServiceError::CredentialRejected(_) => "credential_rejected",
            ServiceError::ProviderUnavailable(_) => "provider_unavailable",
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

/// Result of a use-case.
pub type ServiceResult<T> = Result<T, ServiceError>;
