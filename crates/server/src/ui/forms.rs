//! Form bodies of the UI and the anti-CSRF check every POST goes through.
//!
//! A handler that changes something takes a [`CsrfForm`]: the signed-in user and the form,
//! already checked to carry the session's anti-CSRF token. No handler can forget the check: there
//! is no other way to get both. Sign-out takes a [`SignOutForm`], where the session is optional
//! (an expired one is already signed out) but a live one must carry its token. The sign-in form
//! has no session yet; it checks its own double-submit cookie (`login.rs`).

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::Response;
use patchbay_service::sessions::constant_time_eq;

use super::render::message_page;
use super::session::WebUser;
use crate::AppState;

/// A url-encoded form body, keeping repeated keys (checkbox groups).
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(pairs)) => Ok(FormData(pairs)),
            Err(_) => Err(message_page(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                "Send the form from the Patchbay page it belongs to.",
            )),
        }
    }
}

/// A signed-in browser's POST: session found, form read, anti-CSRF token checked. Rejects like
/// [`WebUser`] without a session, with a 400 page for an unreadable form, and with the "form has
/// expired" page for a missing or wrong token.
pub(crate) struct CsrfForm {
    pub user: WebUser,
    pub form: FormData,
}

/// Whether the form carries the session's anti-CSRF token.
fn token_matches(user: &WebUser, form: &FormData) -> bool {
    constant_time_eq(form.get("csrf").unwrap_or_default(), &user.session.csrf_token)
}

impl FromRequest<AppState> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        // The session first, as when the user and the body are separate extractors: a browser
        // without a session is sent to sign in whatever its form holds.
        let (mut parts, body) = req.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        if !token_matches(&user, &form) {
            return Err(csrf_rejected());
        }
        Ok(CsrfForm { user, form })
    }
}

/// The sign-out POST: the form with its token checked when a session is live, `None` when the
/// session has already ended.
pub(crate) struct SignOutForm(pub Option<CsrfForm>);

impl FromRequest<AppState> for SignOutForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await.ok();
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        match user {
            Some(user) if !token_matches(&user, &form) => Err(csrf_rejected()),
            Some(user) => Ok(SignOutForm(Some(CsrfForm { user, form }))),
            None => Ok(SignOutForm(None)),
        }
    }
}

/// The answer to a POST whose anti-CSRF token is missing or wrong.
pub(crate) fn csrf_rejected() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form did not carry a valid security token, so nothing was changed. Go back, reload the page and try again.",
    )
}
