//! The API's error answer: one JSON envelope, `{"error": {"code", "message"}}`, with the status
//! from the shared table.

use std::any::Any;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

use super::status::retry_after_of;
use super::{Cause, public_message, status_of};

/// The message of an internal error in the envelope.
const INTERNAL_MESSAGE: &str = "internal error: the server log has the details";

/// How an API client saves a credential unverified, appended to a `VerifyUnavailable` message
/// (the CLI names its own `--no-verify` instead, the web form its "Save without verifying").
pub const VERIFY_FALSE_HINT: &str = " (send \"verify\": false)";

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
    retry_after: Option<u32>,
    cause: Option<Cause>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            missing_scopes: None,
            retry_after: None,
            cause: None,
        }
    }

    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let missing_scopes = match &e {
            ServiceError::MissingScopes { missing, .. } => Some(missing.clone()),
            _ => None,
        };
        let message = match &e {
            // The API names the request that adds the scopes; the service only names the action.
            ServiceError::MissingScopes { message, connection, module, .. } => {
                format!("{message} (POST /v1/connections/{connection}/reauthorize {{\"modules\": [\"{module}\"]}})")
            }
            // The API's way to save a credential the provider could not check.
            e @ ServiceError::VerifyUnavailable(_) => {
                format!("{}{VERIFY_FALSE_HINT}", public_message(e, INTERNAL_MESSAGE))
            }
            e => public_message(e, INTERNAL_MESSAGE),
        };
        ApiError {
            status: status_of(&e),
            code: e.code().to_owned(),
            message,
            missing_scopes,
            retry_after: retry_after_of(&e),
            cause: Cause::of(&e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            error: ErrorBody { code: self.code, message: self.message, missing_scopes: self.missing_scopes },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        match self.cause {
            Some(cause) => cause.attach(resp),
            None => resp,
        }
    }
}

/// Answer for unknown paths.
pub async fn not_found_fallback() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint: see /openapi.json for the API")
}

/// Answer for a handler panic: no panic text reaches the client.
pub fn panic_response(_err: Box<dyn Any + Send + 'static>) -> Response {
    // Logged here, not through `Cause`: the panic layer sits outside the log middleware (it must
    // catch panics of every layer within it).
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", INTERNAL_MESSAGE).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_cause_rides_along_for_the_log_and_stays_out_of_the_message() {
        let e = ApiError::from(ServiceError::Internal("the database is gone".into()));
        assert_eq!(e.message, INTERNAL_MESSAGE);
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = response.extensions().get::<Cause>().expect("the cause is attached");
        assert_eq!(cause.0, "the database is gone");

        let response = ApiError::from(ServiceError::DatabaseUnavailable("connection refused".into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert!(response.extensions().get::<Cause>().is_some_and(|c| c.0.contains("connection refused")));

        let response = ApiError::from(ServiceError::Conflict("taken".into())).into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(response.extensions().get::<Cause>().is_none());
    }
}
