//! Cookies: reading one from a request and writing `Set-Cookie` values, including the session
//! cookie that the web UI sets at sign-in and the OAuth callback reads to bind a flow to the
//! browser that started it.
//!
//! The session cookie is `HttpOnly` (scripts cannot read it), `SameSite=Lax` (not sent on
//! cross-site POSTs, but still on the top-level GET that brings the browser back from a consent
//! page, which the OAuth callback needs) and `Secure` when the public URL is https.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "patchbay_session";

/// Name of a connect session's page cookie (`Path=/`: the OAuth callback reads it to check the
/// browser that started the flow, as it reads the session cookie).
pub const CONNECT_COOKIE: &str = "patchbay_connect";

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
fn secure(state: &AppState) -> bool {
    state.patchbay.config().public_url.to_ascii_lowercase().starts_with("https://")
}

/// How a cookie is scoped: `Path`, `SameSite` and `Max-Age` (`None` makes a browser-session
/// cookie; `Some(0)` deletes it).
pub(crate) struct Scope {
    pub path: &'static str,
    pub same_site: &'static str,
    pub max_age: Option<i64>,
}

/// A `Set-Cookie` value.
pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, scope: &Scope) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={}; HttpOnly; SameSite={}", scope.path, scope.same_site);
    if let Some(age) = scope.max_age {
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
    set_cookie(state, SESSION_COOKIE, token, &Scope { path: "/", same_site: "Lax", max_age: None })
}

/// A connect page's cookie: `Lax` like the session cookie (it must come back with the top-level
/// GET from a consent page), and gone when the session would have expired.
pub(crate) fn connect_cookie(state: &AppState, secret: &str, max_age: i64) -> HeaderValue {
    set_cookie(state, CONNECT_COOKIE, secret, &Scope { path: "/", same_site: "Lax", max_age: Some(max_age) })
}

/// Deletes the session cookie.
pub(crate) fn clear_session_cookie(state: &AppState) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, "", &Scope { path: "/", same_site: "Lax", max_age: Some(0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; patchbay_session=tok; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
