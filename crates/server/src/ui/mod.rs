//! The web UI: server-rendered HTML (askama) with progressive enhancement, served by the same
//! binary as the API.
//!
//! Pages: sign in/out, the Connections section (list with filters, detail, Add, Verify, Rename,
//! Reauthorize, Delete with a confirmation and a revocation receipt), the Scenarios section (Add,
//! steps with module and connection pickers, Save, Remove, Delete with a confirmation). Every page
//! works without JavaScript; `static/app.js` only adds conveniences.
//!
//! Every UI response carries strict headers ([`harden`]): a Content-Security-Policy that allows
//! nothing but this origin (no inline script or style, no framing), `nosniff`, no referrer and no
//! caching. Browsers apply a page's `form-action` to the redirect that answers its form, so pages
//! also allow the fixed origins of the catalog's consent pages; a consent page whose address
//! depends on a connection's settings is reached through an interstitial page instead.
//!
//! Handlers follow the API's rule: parse, call one use-case with the session's principal,
//! render. Messages shown after a redirect are chosen from a fixed set by a query word and filled
//! with stored data, never copied from the URL.

mod assets;
mod connections;
mod events;
mod login;
mod scenarios;
pub(crate) mod session;
mod views;

use std::sync::Arc;

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use patchbay_service::ServiceError;

pub use login::LoginLimiter;
pub use session::{SESSION_COOKIE, WebUser};

use self::views::{ErrorPage, Nav};
use crate::AppState;

/// Whether the service offers scenarios yet (adds the Scenarios page and nav entry).
pub(crate) const HAS_SCENARIOS: bool = true;
/// Whether the service offers lifecycle events yet (adds the Events page and nav entry).
pub(crate) const HAS_EVENTS: bool = true;

/// The UI's routes, with the strict headers applied to each of them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/connections", get(connections::list))
        .route("/connections/new", get(connections::pick_app))
        .route("/connections/new/{provider}", get(connections::new_form).post(connections::create))
        .route("/connections/{id}", get(connections::detail))
        .route("/connections/{id}/verify", post(connections::verify))
        .route("/connections/{id}/rename", post(connections::rename))
        .route("/connections/{id}/reauthorize", post(connections::reauthorize))
        .route("/connections/{id}/delete", get(connections::confirm_delete).post(connections::delete))
        .route("/scenarios", get(scenarios::list).post(scenarios::create))
        .route("/scenarios/new", get(scenarios::new_form))
        .route("/scenarios/{id}", get(scenarios::show).post(scenarios::save))
        .route("/scenarios/{id}/steps/{position}/remove", post(scenarios::remove_step))
        .route("/scenarios/{id}/delete", get(scenarios::confirm_delete).post(scenarios::delete))
        .route("/events", get(events::list))
        .route("/static/{file}", get(assets::serve))
        .layer(Extension(Arc::new(LoginLimiter::default())))
        .layer(axum::middleware::from_fn(harden))
}

/// `/`: the Connections section, or the sign-in page.
async fn index(user: Result<WebUser, Response>) -> Response {
    match user {
        Ok(_) => Redirect::to("/connections").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

/// The CSP of pages without forms that leave this origin.
const BASE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The CSP of a rendered page: like [`BASE_CSP`], with the catalog's fixed consent-page origins
/// added to `form-action` so that Save and Reauthorize can answer with a 303 to the provider.
pub(crate) fn page_csp(state: &AppState) -> HeaderValue {
    let origins = state.patchbay.authorization_origins();
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

/// Adds the strict headers to every UI response; a page may have set a wider `form-action`.
async fn harden(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(BASE_CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    response
}

/// Renders a page with its status and the page CSP.
pub(crate) fn page<T: Template>(state: &AppState, status: StatusCode, template: T) -> Response {
    match template.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, page_csp(state));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            plain_error()
        }
    }
}

fn plain_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><title>Error · Patchbay</title><p>Internal error: the server log has the details.</p>"),
    )
        .into_response()
}

/// The HTTP status and heading for a service error.
fn status_of(e: &ServiceError) -> (StatusCode, &'static str) {
    match e {
        ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "That did not work"),
        ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "Please sign in"),
        ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        ServiceError::Conflict(_) => (StatusCode::CONFLICT, "That clashes with something"),
        ServiceError::NeedsReauth(_) => (StatusCode::CONFLICT, "The connection needs you"),
        ServiceError::MissingScopes { .. } => (StatusCode::FORBIDDEN, "The connection lacks permissions"),
        ServiceError::CredentialRejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "The app refused the credential"),
        ServiceError::ProviderUnavailable(_) => (StatusCode::BAD_GATEWAY, "The app did not answer"),
        ServiceError::Sealed(_) => (StatusCode::SERVICE_UNAVAILABLE, "Patchbay is sealed"),
        ServiceError::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "Not available"),
        ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    }
}

/// The user-facing text of a service error; internal causes are logged, not shown.
pub(crate) fn error_text(e: &ServiceError) -> String {
    match e {
        ServiceError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            "Internal error: the server log has the details.".to_owned()
        }
        other => other.to_string(),
    }
}

/// An error page for a service error.
pub(crate) fn error_page(nav: Option<Nav>, e: ServiceError) -> Response {
    let (status, title) = status_of(&e);
    let message = error_text(&e);
    render_error(nav, status, title, &message)
}

/// An error page with a fixed message (no page-specific CSP needed: it has no form).
pub(crate) fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    render_error(None, status, title, message)
}

fn render_error(nav: Option<Nav>, status: StatusCode, title: &str, message: &str) -> Response {
    let signed_in = nav.is_some();
    let template = ErrorPage {
        title: title.to_owned(),
        nav,
        message: message.to_owned(),
        back: if signed_in { "/connections" } else { "/" }.to_owned(),
        back_label: "Back to connections".to_owned(),
    };
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page failed to render");
            plain_error()
        }
    }
}
