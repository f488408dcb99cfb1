//! Extractors: who is calling (the tenant comes from here and nowhere else, docs/security.md
//! T-01/T-03), request bodies and queries whose parse errors become the API's envelope, and the
//! lenient query of the browser-facing pages.

use std::convert::Infallible;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use patchbay_domain::SecretString;
use patchbay_domain::principal::Principal;
use patchbay_service::RuntimeCaller;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, redact_serde_message};

/// The authenticated principal of an API request (`Authorization: Bearer <token>`).
pub struct Authed(pub Principal);

/// The bearer token of `Authorization: Bearer <token>`, or the answer for its absence.
fn bearer(parts: &Parts) -> Result<SecretString, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "send `Authorization: Bearer <token>`; create a token with `patchbay admin create-token`",
        )
    };
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    Ok(SecretString::from(token.to_owned()))
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = state.patchbay.authenticate_token(&bearer(parts)?).await?;
        Ok(Authed(principal))
    }
}

/// The caller of a runtime endpoint (token, proxy): authenticated like [`Authed`], through the
/// runtime cache, with the team's change generation the rest of the request is checked against.
pub struct RuntimeAuthed(pub RuntimeCaller);

impl FromRequestParts<AppState> for RuntimeAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = state.patchbay.authenticate_runtime(&bearer(parts)?).await?;
        Ok(RuntimeAuthed(caller))
    }
}

/// A JSON body whose errors say what was wrong, without echoing input values.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::bad_request(format!("the body is not valid JSON: {}", redact_serde_message(&e.body_text())))
        }
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!(
            "the JSON body does not match the expected shape: {}",
            redact_serde_message(&e.body_text())
        )),
        JsonRejection::BytesRejection(e) => {
            ApiError::new(e.status(), "invalid_request", format!("cannot read the body: {}", e.body_text()))
        }
        other => ApiError::bad_request(redact_serde_message(&other.body_text())),
    }
}

/// Path parameters whose errors become the envelope (`/steps/abc/…` is a `400` JSON error
/// saying which segment is wrong, not axum's plain-text rejection).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "a path segment is not valid: {} (step positions are whole numbers from 0)",
                redact_serde_message(&e.body_text())
            ))),
        }
    }
}

/// Query parameters whose errors become the envelope.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::bad_request(format!("bad query parameters: {}", redact_serde_message(&e.body_text()))))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// Query parameters of a browser-facing page, where a malformed query is treated like an empty
/// one: the page then shows its default view (or, at the OAuth callback, the service answers
/// "no valid state") instead of an error about the URL.
pub(crate) struct LenientQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default + Send> FromRequestParts<S> for LenientQuery<T> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(LenientQuery(Query::<T>::from_request_parts(parts, state).await.map(|Query(q)| q).unwrap_or_default()))
    }
}
