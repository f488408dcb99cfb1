//! The browser side of a web session: the `patchbay_session` cookie, the signed-in user
//! extractor, form bodies and the anti-CSRF check every POST goes through.
//!
//! The cookie is `HttpOnly` (scripts cannot read it), `SameSite=Lax` (not sent on cross-site
//! POSTs, but still on the top-level GET that brings the browser back from a consent page, which
//! the OAuth callback needs to bind the flow) and `Secure` when the public URL is https.

use axum::extract::{Form, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_domain::principal::Action;
use patchbay_service::ServiceError;
use patchbay_service::sessions::{WebSession, constant_time_eq};

use super::views::Nav;
use super::{error_page, message_page};
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "patchbay_session";
/// Name of the sign-in form's double-submit anti-CSRF cookie (there is no session yet).
pub(crate) const LOGIN_CSRF_COOKIE: &str = "patchbay_login_csrf";

/// The value of cookie `name`, if the request has it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether cookies must carry `Secure`: the public URL is https.
pub(crate) fn secure(state: &AppState) -> bool {
    state.patchbay.config().public_url.to_ascii_lowercase().starts_with("https://")
}

/// A `Set-Cookie` value. `max_age` `None` makes a browser-session cookie; `Some(0)` deletes it.
pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure(state) {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are base64url and fixed names")
}

/// A session cookie (no Max-Age: the server decides when the session ends, and closing the
/// browser ends it too).
pub(crate) fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, token, "/", "Lax", None)
}

/// Deletes the session cookie.
pub(crate) fn clear_session_cookie(state: &AppState) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, "", "/", "Lax", Some(0))
}

/// A same-origin path to continue to after sign-in; anything else becomes `/connections`.
pub(crate) fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    if ok { next.to_owned() } else { "/connections".to_owned() }
}

/// A signed-in browser. Rejects with a redirect to the sign-in page (remembering where the user
/// was going on GET), clearing a stale cookie.
pub struct WebUser {
    /// The live session.
    pub session: WebSession,
}

impl WebUser {
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
            scenarios: super::HAS_SCENARIOS,
            // Events are for admins (the service refuses others): no entry they cannot open.
            events: super::HAS_EVENTS && self.session.principal.may(Action::Administer),
        })
    }

    /// The session's anti-CSRF token.
    pub fn csrf(&self) -> String {
        self.session.csrf_token.clone()
    }

    /// Whether a form carries this session's anti-CSRF token (answer [`csrf_rejected`] if not).
    pub(crate) fn csrf_ok(&self, form: &FormData) -> bool {
        constant_time_eq(form.get("csrf").unwrap_or_default(), &self.session.csrf_token)
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

fn to_login(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET {
        let here = parts.uri.path_and_query().map_or("/connections", |p| p.as_str());
        let next = safe_next(here);
        if next == "/connections" { "/login".to_owned() } else { format!("/login?next={}", percent_encode(&next)) }
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
            Err(e) => Err(error_page(None, e)),
        }
    }
}

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

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
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
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; patchbay_session=tok; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn percent_encoding_keeps_paths_readable() {
        assert_eq!(
            percent_encode("/connections/con_1?outcome=connected&x=1"),
            "/connections/con_1%3Foutcome%3Dconnected%26x%3D1"
        );
    }
}
