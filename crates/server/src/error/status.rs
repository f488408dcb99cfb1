//! The one table from a service error to its HTTP status, with the heading the web UI shows
//! above the message.

use axum::http::StatusCode;
use patchbay_service::ServiceError;

/// HTTP status and UI heading of each variant.
fn classify(e: &ServiceError) -> (StatusCode, &'static str) {
    match e {
        ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "That did not work"),
        ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "Please sign in"),
        ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        ServiceError::Conflict(_) => (StatusCode::CONFLICT, "That clashes with something"),
        ServiceError::NeedsReauth(_) => (StatusCode::CONFLICT, "The connection needs you"),
        ServiceError::MissingScopes { .. } => (StatusCode::FORBIDDEN, "The connection lacks permissions"),
        ServiceError::CredentialRejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "The app refused the credential"),
        ServiceError::ProviderUnavailable(_) => (StatusCode::BAD_GATEWAY, "The app did not answer"),
        ServiceError::Sealed(_) => (StatusCode::SERVICE_UNAVAILABLE, "Patchbay is sealed"),
        ServiceError::DatabaseUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "The database is not answering"),
        ServiceError::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "Not available"),
        ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    }
}

/// The HTTP status of a service error, the same for the API, the UI and the callback.
pub fn status_of(e: &ServiceError) -> StatusCode {
    classify(e).0
}

/// Seconds a client should wait before retrying, for errors that pass by themselves.
pub(crate) fn retry_after_of(e: &ServiceError) -> Option<u32> {
    match e {
        ServiceError::DatabaseUnavailable(_) => Some(2),
        _ => None,
    }
}

/// The heading of the UI's error page for a service error.
pub(crate) fn heading_of(e: &ServiceError) -> &'static str {
    classify(e).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_the_status_its_docs_name() {
        let cases = [
            (ServiceError::Invalid(String::new()), 400),
            (ServiceError::Unauthenticated(String::new()), 401),
            (ServiceError::Forbidden(String::new()), 403),
            (ServiceError::NotFound(String::new()), 404),
            (ServiceError::Conflict(String::new()), 409),
            (ServiceError::NeedsReauth(String::new()), 409),
            (ServiceError::MissingScopes { message: String::new(), missing: Vec::new() }, 403),
            (ServiceError::CredentialRejected(String::new()), 422),
            (ServiceError::ProviderUnavailable(String::new()), 502),
            (ServiceError::Sealed(String::new()), 503),
            (ServiceError::DatabaseUnavailable(String::new()), 503),
            (ServiceError::Unsupported(String::new()), 501),
            (ServiceError::Internal(String::new()), 500),
        ];
        for (e, status) in cases {
            assert_eq!(status_of(&e).as_u16(), status, "{e:?}");
        }
    }
}
