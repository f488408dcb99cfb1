//! Errors to HTTP: one envelope, one status per [`ServiceError`] variant.
//!
//! The message is the service's user-facing text. Internal errors are logged with their cause and
//! answered with a generic message, since a driver or crypto error is of no use to the caller and
//! could reveal internals. JSON parse errors from serde are passed through only after removing any
//! quoted input value, so a secret sent in the wrong place is not echoed back or logged.

use std::any::Any;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patchbay_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// Code and message of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: String,
    /// What was wrong and what to do.
    pub message: String,
    /// For `missing_scopes`: the scopes the connection lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_scopes: Option<Vec<String>>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    missing_scopes: Option<Vec<String>>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_owned(), message: message.into(), missing_scopes: None }
    }

    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::NeedsReauth(_) => StatusCode::CONFLICT,
            ServiceError::MissingScopes { .. } => StatusCode::FORBIDDEN,
            ServiceError::CredentialRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            ServiceError::Sealed(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &e {
            ServiceError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal error: the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let missing_scopes = match &e {
            ServiceError::MissingScopes { missing, .. } => Some(missing.clone()),
            _ => None,
        };
        ApiError { status, code: e.code().to_owned(), message, missing_scopes }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            error: ErrorBody { code: self.code, message: self.message, missing_scopes: self.missing_scopes },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Removes quoted input values from a serde error message: `invalid type: string "sk-…",
/// expected a map` becomes `invalid type: string, expected a map`.
pub fn redact_serde_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" \"") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let quotes_a_value = before.ends_with("string") || before.ends_with("value") || before.ends_with("str");
        match closing_quote(after) {
            Some(end) if quotes_a_value => {
                out.push_str(before);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Byte index of the first unescaped `"` in `s`.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Answer for unknown paths.
pub async fn not_found_fallback() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint: see /openapi.json for the API")
}

/// Answer for a handler panic: no panic text reaches the client.
pub fn panic_response(_err: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error: the server log has the details")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_values_are_removed_but_field_names_kept() {
        let m = redact_serde_message("invalid type: string \"sk-CANARY\", expected a map at line 1 column 30");
        assert_eq!(m, "invalid type: string, expected a map at line 1 column 30");
        let m = redact_serde_message("unknown field `foo`, expected one of `provider`, `name`");
        assert_eq!(m, "unknown field `foo`, expected one of `provider`, `name`");
        let m = redact_serde_message("invalid value: string \"x\\\"y\", expected z");
        assert_eq!(m, "invalid value: string, expected z");
    }
}
