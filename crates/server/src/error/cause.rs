//! The cause of an internal error, carried from the conversion that hid it from the client to
//! the one place that logs it (as crates.io does with its `CauseField`).
//!
//! A conversion (the API's envelope, the UI's error page, the callback's page) only attaches a
//! [`Cause`] to the response it builds; [`log_causes`], a middleware around every route, logs it
//! inside the request's span and strips it, so nothing is logged twice or forgotten.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use patchbay_service::ServiceError;

use super::status::retry_after_of;

/// Why a request failed internally (never shown to the client).
#[derive(Debug, Clone)]
pub(crate) struct Cause(pub String);

impl Cause {
    /// The cause of an internal service error; `None` for every error the client is told about.
    pub fn of(e: &ServiceError) -> Option<Cause> {
        match e {
            ServiceError::Internal(cause) => Some(Cause(cause.clone())),
            ServiceError::DatabaseUnavailable(cause) => Some(Cause(format!("database unavailable: {cause}"))),
            _ => None,
        }
    }

    /// Attaches the cause to `response` for the log middleware.
    pub fn attach(self, mut response: Response) -> Response {
        response.extensions_mut().insert(self);
        response
    }

    /// `response`, carrying the cause of `e` when `e` is internal, and a `Retry-After` header
    /// when `e` passes by itself (the database is unavailable).
    pub fn attach_of(e: &ServiceError, mut response: Response) -> Response {
        if let Some(seconds) = retry_after_of(e) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        match Cause::of(e) {
            Some(cause) => cause.attach(response),
            None => response,
        }
    }
}

/// Middleware: logs the [`Cause`] a response carries, once.
pub(crate) async fn log_causes(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(Cause(cause)) = response.extensions_mut().remove::<Cause>() {
        tracing::error!(%cause, "internal error");
    }
    response
}
