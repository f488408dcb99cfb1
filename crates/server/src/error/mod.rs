//! Errors to HTTP, in one place for the API, the web UI and the OAuth callback.
//!
//! * [`status_of`] is the one table from a [`ServiceError`] variant to its HTTP status (and the
//!   UI's page heading); the machine-readable code is the service's own [`ServiceError::code`].
//! * The message is the service's user-facing text. An internal error is answered with a generic
//!   message, since a driver or crypto error is of no use to the caller and could reveal
//!   internals; its cause travels in a [`Cause`] response extension and is logged once, by the
//!   [`log_causes`] middleware, not inside the conversions.
//! * The API answers with one JSON envelope ([`ApiError`]); JSON parse errors from serde are
//!   passed through only after removing any quoted input value ([`redact_serde_message`]), so a
//!   secret sent in the wrong place is not echoed back or logged.

mod api;
mod cause;
mod redact;
mod status;

pub use api::{ApiError, ErrorBody, ErrorEnvelope, not_found_fallback, panic_response};
pub(crate) use cause::{Cause, log_causes};
pub use redact::redact_serde_message;
pub(crate) use status::heading_of;
pub use status::status_of;

use patchbay_service::ServiceError;

/// The text an answer shows for `e`: the service's message, or `internal` for an internal error
/// (whose cause goes to the log through [`Cause`] instead).
pub(crate) fn public_message(e: &ServiceError, internal: &str) -> String {
    match e {
        ServiceError::Internal(_) => internal.to_owned(),
        other => other.to_string(),
    }
}
