//! Sign in and sign out, and the sign-in rate limit.
//!
//! The sign-in form has no session to carry an anti-CSRF token, so it uses a double-submit
//! cookie: `GET /login` sets a random token in a `SameSite=Strict` cookie and the same value in
//! the form; `POST /login` requires both to match (a cross-site page can neither read the cookie
//! nor make the browser send it).
//!
//! Failed sign-ins are counted per (login, client address) in memory: after
//! [`MAX_FAILURES`] within [`WINDOW`], further attempts for that pair are refused without
//! checking the password until the window ends. A success clears the count. The count is per
//! node; with several nodes an attacker gets `MAX_FAILURES` per node, which is still a small
//! constant. The client address is the TCP peer, or behind a trusted proxy the address that
//! proxy saw (`crate::client_ip`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_domain::SecretString;
use patchbay_service::ServiceError;
use patchbay_service::sessions::{constant_time_eq, new_csrf_token};
use serde::Deserialize;

use super::forms::{FormData, SignOutForm};
use super::pages::{Frame, LoginPage};
use super::render::{UiError, page};
use super::session::{WebUser, safe_next};
use crate::AppState;
use crate::cookies::{SESSION_COOKIE, Scope, clear_session_cookie, cookie, session_cookie, set_cookie};

/// Name of the sign-in form's double-submit anti-CSRF cookie (there is no session yet).
const LOGIN_CSRF_COOKIE: &str = "patchbay_login_csrf";
/// The sign-in form's cookie: one hour to fill the form, sent only to /login, never cross-site.
const LOGIN_CSRF_SCOPE: Scope = Scope { path: "/login", same_site: "Strict", max_age: Some(3600) };
/// Deletes the sign-in form's cookie.
const LOGIN_CSRF_DELETE: Scope = Scope { path: "/login", same_site: "Strict", max_age: Some(0) };

/// Failed attempts allowed per (login, address) within [`WINDOW`].
pub(crate) const MAX_FAILURES: u32 = 5;
/// The window failed attempts are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Bound on remembered pairs, so a flood of distinct logins cannot exhaust memory.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
}

/// In-memory counter of failed sign-ins per (login, address).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl LoginLimiter {
    fn key(login: &str, addr: &str) -> (String, String) {
        (login.trim().to_lowercase(), addr.to_owned())
    }

    /// `Err(wait)` when this pair is locked out.
    pub fn check(&self, login: &str, addr: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&Self::key(login, addr)) {
            Some(e) if e.failures >= MAX_FAILURES && now.duration_since(e.since) < WINDOW => {
                Err(WINDOW - now.duration_since(e.since))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, login: &str, addr: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now.duration_since(e.since) < WINDOW);
            if entries.len() >= MAX_ENTRIES {
                // Still full of live entries: forget the oldest half rather than grow.
                let mut ages: Vec<Instant> = entries.values().map(|e| e.since).collect();
                ages.sort();
                let cut = ages[ages.len() / 2];
                entries.retain(|_, e| e.since > cut);
            }
        }
        let e = entries.entry(Self::key(login, addr)).or_insert(Entry { failures: 0, since: now });
        if now.duration_since(e.since) >= WINDOW {
            *e = Entry { failures: 0, since: now };
        }
        e.failures += 1;
    }

    /// Clears the count after a successful sign-in.
    pub fn succeeded(&self, login: &str, addr: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Self::key(login, addr));
    }
}

/// The client address (see `crate::client_ip`) when the server was started with connect info
/// (`serve`); otherwise (in-process tests) every client shares one bucket per login.
fn client_addr(state: &AppState, parts: &axum::http::request::Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(
        || "unknown".to_owned(),
        |ConnectInfo(peer)| state.trusted_proxies.client_ip(peer.ip(), &parts.headers).to_string(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    login: &str,
    error: Option<String>,
    signed_out: bool,
) -> Response {
    let csrf = new_csrf_token();
    let expired = error.is_none() && !signed_out && next != "/connections";
    let mut resp = page(
        state,
        status,
        LoginPage {
            frame: Frame { csrf: csrf.clone(), ..Frame::anonymous("Sign in") },
            next: next.to_owned(),
            login: login.to_owned(),
            error,
            signed_out,
            expired,
        },
    );
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, &LOGIN_CSRF_SCOPE));
    resp
}

/// `GET /login`.
pub(crate) async fn form(
    State(state): State<AppState>,
    user: Result<WebUser, Response>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or_default());
    if user.is_ok() {
        return Redirect::to(&next).into_response();
    }
    login_page(&state, StatusCode::OK, &next, "", None, q.signed_out.is_some())
}

/// `POST /login`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(limiter): Extension<std::sync::Arc<LoginLimiter>>,
    request_parts: RequestMeta,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next").unwrap_or_default());
    let login = form.get("login").unwrap_or_default().trim().to_owned();
    let given_csrf = form.get("csrf").unwrap_or_default();
    let cookie_csrf = cookie(&request_parts.headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_csrf.is_empty() || !constant_time_eq(given_csrf, &cookie_csrf) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            &login,
            Some("The sign-in form expired. Please try again.".into()),
            false,
        );
    }
    if login.is_empty() || login.len() > 200 {
        return login_page(
            &state,
            StatusCode::BAD_REQUEST,
            &next,
            &login,
            Some("Enter your email or login.".into()),
            false,
        );
    }
    let addr = request_parts.addr;
    let now = Instant::now();
    if let Err(wait) = limiter.check(&login, &addr, now) {
        tracing::warn!(client = %addr, "sign-in refused: too many failed attempts");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let mut resp = login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &login,
            Some(format!(
                "Too many failed attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )),
            false,
        );
        resp.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait.as_secs().max(1)));
        return resp;
    }
    let password = SecretString::from(form.get("password").unwrap_or_default().to_owned());
    drop(form);
    match state.patchbay.sign_in(&login, &password).await {
        Ok((token, _session)) => {
            limiter.succeeded(&login, &addr);
            use secrecy::ExposeSecret;
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            h.append(header::SET_COOKIE, session_cookie(&state, token.expose_secret()));
            h.append(header::SET_COOKIE, set_cookie(&state, LOGIN_CSRF_COOKIE, "", &LOGIN_CSRF_DELETE));
            resp
        }
        Err(ServiceError::Unauthenticated(_)) => {
            limiter.failed(&login, &addr, now);
            tracing::info!(client = %addr, "sign-in failed: wrong login or password");
            login_page(&state, StatusCode::UNAUTHORIZED, &next, &login, Some("Wrong login or password.".into()), false)
        }
        Err(error) => UiError::new(None, error).into_response(),
    }
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignOutForm(signed_in): SignOutForm,
) -> Response {
    // An expired session is already signed out; just forget the cookie.
    if signed_in.is_some()
        && let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(error) = state.patchbay.sign_out(&SecretString::from(token)).await
    {
        return UiError::new(None, error).into_response();
    }
    let mut resp = Redirect::to("/login?signed_out=1").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, clear_session_cookie(&state));
    resp
}

/// Headers and client address of a request (for the double-submit cookie and the limiter).
pub(crate) struct RequestMeta {
    headers: HeaderMap,
    addr: String,
}

impl axum::extract::FromRequestParts<AppState> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestMeta { headers: parts.headers.clone(), addr: client_addr(state, parts) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_after_max_failures_and_until_the_window_ends() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(l.check("Ann@x", "1.2.3.4", t0).is_ok());
            l.failed("ann@x", "1.2.3.4", t0);
        }
        // Case-insensitive on the login, per address.
        assert!(l.check("ANN@x", "1.2.3.4", t0).is_err());
        assert!(l.check("ann@x", "5.6.7.8", t0).is_ok());
        assert!(l.check("ann@x", "1.2.3.4", t0 + WINDOW).is_ok());
        l.succeeded("ann@x", "1.2.3.4");
        assert!(l.check("ann@x", "1.2.3.4", t0).is_ok());
    }
}
