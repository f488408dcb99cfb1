//! Security headers, in one place: the strict set every browser-facing answer carries (the UI's
//! pages and the OAuth callback), the Content-Security-Policy of a rendered page, and `no-store`
//! for the runtime answers that carry a secret.
//!
//! The strict set: a Content-Security-Policy that allows nothing but this origin (no inline
//! script or style, no framing), `nosniff`, no referrer (an OAuth code or a session-bound URL
//! never leaks in a Referer header), no caching, `X-Frame-Options: DENY` and an isolated opener.
//! Browsers apply a page's `form-action` to the redirect that answers its form, so a rendered
//! page may widen `form-action` to the catalog's fixed consent-page origins ([`page_csp`]); the
//! layer keeps a policy a page has set.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The CSP of answers without forms that leave this origin.
pub(crate) const BASE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The CSP of a rendered page: like [`BASE_CSP`], with the catalog's fixed consent-page
/// `origins` added to `form-action` so that Save and Reauthorize can answer with a 303 to the
/// provider.
pub(crate) fn page_csp(origins: &[String]) -> HeaderValue {
    let text = format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         form-action 'self'{}{}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        if origins.is_empty() { "" } else { " " },
        origins.join(" ")
    );
    // Origins are checked to be plain scheme://host:port, so this cannot fail; fall back to the
    // strict policy if it ever does.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(BASE_CSP))
}

/// Middleware: adds the strict set to every answer of the routes it wraps.
pub(crate) async fn harden(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(BASE_CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    no_store(&mut response);
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A connect page keeps its opener (the platform's page that opened the popup).
    if !h.contains_key("cross-origin-opener-policy") {
        h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    }
    response
}

/// Middleware for the JSON API and the other non-page answers: `nosniff` (a JSON answer is never
/// sniffed into HTML or script), no framing (`X-Frame-Options: DENY` and a `frame-ancestors
/// 'none'` policy) and no referrer. A policy or header already set (the pages' strict set) is
/// kept.
pub(crate) async fn api_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    response
}

/// Forbids caching the answer (a token, a page with a session's anti-CSRF token, a callback).
pub(crate) fn no_store(response: &mut Response) {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
