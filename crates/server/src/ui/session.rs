//! The signed-in browser: the [`WebUser`] extractor behind every page, the frame and top bar it
//! gives a page, and where a browser without a session is sent (the sign-in page, remembering a
//! same-origin path to continue to).
//!
//! The session cookie itself is written and read by [`crate::cookies`], which the OAuth callback
//! shares; the anti-CSRF check of a POST is [`super::forms::CsrfForm`].

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_domain::principal::Action;
use patchbay_service::ServiceError;
use patchbay_service::connections::validate_return_to;
use patchbay_service::sessions::WebSession;

use super::pages::{Frame, Nav};
use super::render::UiError;
use crate::AppState;
use crate::cookies::{SESSION_COOKIE, clear_session_cookie, cookie};

/// Where a browser goes after sign-in when it was going nowhere in particular.
const HOME: &str = "/connections";

/// A same-origin path to continue to after sign-in; anything else becomes `/connections`. The
/// same-origin rule is the service's (the one an OAuth landing obeys); the sign-in pages
/// themselves are no place to continue to.
pub(crate) fn safe_next(next: &str) -> String {
    match validate_return_to(next) {
        Ok(path) if !path.starts_with("/login") && !path.starts_with("/logout") => path,
        _ => HOME.to_owned(),
    }
}

/// A signed-in browser. Rejects with a redirect to the sign-in page (remembering where the user
/// was going on GET), clearing a stale cookie.
pub struct WebUser {
    /// The live session.
    pub session: WebSession,
}

impl WebUser {
    /// Turns a service error into an error page under the section's top bar: `.map_err(user.fail("connections"))?`.
    pub(crate) fn fail(&self, section: &'static str) -> impl FnOnce(ServiceError) -> UiError + '_ {
        move |error| UiError::new(self.nav(section), error)
    }

    /// Whether the user may change connections (admin, member).
    pub fn can_manage(&self) -> bool {
        self.session.principal.may(Action::Manage)
    }

    /// The top bar for a page of `section`.
    pub(crate) fn nav(&self, section: &'static str) -> Option<Nav> {
        Some(Nav {
            login: self.session.login.clone(),
            role: self.session.principal.role.to_string(),
            csrf: self.session.csrf_token.clone(),
            section,
            // Events are for admins (the service refuses others): no entry they cannot open.
            events: self.session.principal.may(Action::Administer),
        })
    }

    /// The frame of a page of `section` titled `title`.
    pub(crate) fn frame(&self, section: &'static str, title: impl Into<String>) -> Frame {
        Frame {
            title: title.into(),
            nav: self.nav(section),
            csrf: self.session.csrf_token.clone(),
            can_manage: self.can_manage(),
            banner: None,
        }
    }

    /// Refuses a page that only offers changes (an Add form, an editor, a confirmation) to a
    /// user who may not make them; `what` says what they may not do ("add connections").
    ///
    /// The service refuses the change itself anyway. This check stays in the UI because the page
    /// it guards calls no use-case that would refuse (listing the catalog, reading a scenario),
    /// or would refuse only later and with the service's generic "may not do this": without it a
    /// viewer would see the form, or a different status and text.
    pub(crate) fn require_manage(&self, section: &'static str, what: &str) -> Result<(), UiError> {
        if self.can_manage() {
            return Ok(());
        }
        let role = &self.session.principal.role;
        Err(UiError::new(
            self.nav(section),
            ServiceError::Forbidden(format!("the `{role}` role may not {what}: ask an admin")),
        ))
    }
}

fn to_login(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET {
        let here = parts.uri.path_and_query().map_or(HOME, |p| p.as_str());
        let next = safe_next(here);
        if next == HOME { "/login".to_owned() } else { format!("/login?next={}", percent_encode(&next)) }
    } else {
        "/login".to_owned()
    }
}

/// Percent-encodes everything but unreserved characters (for a path inside a query value).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to(&to_login(parts)).into_response());
        };
        match state.patchbay.web_session(&SecretString::from(token)).await {
            Ok(session) => Ok(WebUser { session }),
            Err(ServiceError::Unauthenticated(_)) => {
                let mut resp = Redirect::to(&to_login(parts)).into_response();
                resp.headers_mut().insert(header::SET_COOKIE, clear_session_cookie(state));
                Err(resp)
            }
            Err(error) => Err(UiError::new(None, error).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_server() {
        assert_eq!(safe_next("/connections/con_1?outcome=connected"), "/connections/con_1?outcome=connected");
        assert_eq!(safe_next("//evil.example/"), "/connections");
        assert_eq!(safe_next("/\\evil.example"), "/connections");
        assert_eq!(safe_next("https://evil.example/"), "/connections");
        assert_eq!(safe_next("/login"), "/connections");
        assert_eq!(safe_next(""), "/connections");
    }

    #[test]
    fn percent_encoding_keeps_paths_readable() {
        assert_eq!(
            percent_encode("/connections/con_1?outcome=connected&x=1"),
            "/connections/con_1%3Foutcome%3Dconnected%26x%3D1"
        );
    }
}
