//! `GET /oauth/callback`: where providers send the browser after consent.
//!
//! Success and provider-side failures (denied consent, token error) end in a 303 to the
//! connection's page with no code or state in the URL; an invalid callback (unknown, expired or
//! replayed state, wrong issuer, another browser) gets a 400 page and causes no request to the
//! provider. Every answer carries the strict headers of [`crate::headers`] (`Cache-Control:
//! no-store` and `Referrer-Policy: no-referrer` among them), so the code never lingers in a cache
//! or leaks in a Referer header.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patchbay_service::ServiceError;
use patchbay_service::connect_sessions::LANDING_PATH;
use patchbay_service::oauth::{CallbackQuery, Landing, session_binding};

use crate::AppState;
use crate::cookies::{CONNECT_COOKIE, SESSION_COOKIE, cookie};
use crate::error::{Cause, public_message, status_of};
use crate::extract::LenientQuery;
use crate::ui::ErrorPage;
use crate::ui::render::render_error;

/// The heading of the callback's error page.
const HEADING: &str = "The authorization could not be completed";
/// What the page says about an internal failure.
const INTERNAL_MESSAGE: &str = "internal error: the server log has the details";

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/oauth/callback", get(callback)).layer(axum::middleware::from_fn(crate::headers::harden))
}

#[utoipa::path(get, path = "/oauth/callback", tag = "oauth", summary = "Where providers send the browser back after consent",
    params(
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "The state Patchbay sent"),
        ("error" = Option<String>, Query, description = "OAuth error, e.g. access_denied"),
        ("iss" = Option<String>, Query, description = "RFC 9207 issuer")),
    responses(
        (status = 303, description = "To the connection's page (or the flow's `return_to`, with `connection={id}`), with `outcome=connected|partial|denied|error|account_mismatch`"),
        (status = 400, description = "Unknown, expired or replayed state, wrong issuer, or another browser; nothing was changed")))]
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    // A malformed query is treated like an empty one: the service then answers "no valid state".
    LenientQuery(query): LenientQuery<CallbackQuery>,
) -> Response {
    // A flow is bound to the web session or the connect page that started it.
    let bindings: Vec<String> = [SESSION_COOKIE, CONNECT_COOKIE]
        .iter()
        .filter_map(|name| cookie(&headers, name))
        .map(|t| session_binding(&t))
        .collect();
    match state.patchbay.complete_callback(query, &bindings).await {
        Ok(landing) => match HeaderValue::from_str(&landing_url(&state.patchbay.config().public_url, &landing)) {
            Ok(value) => {
                let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response();
                // Back to a connect session's page in a popup: browsers apply the opener policy to
                // redirects too, so this one keeps the opener, like the connect pages themselves.
                if landing.return_to.as_deref() == Some(LANDING_PATH) {
                    response
                        .headers_mut()
                        .insert("cross-origin-opener-policy", HeaderValue::from_static("unsafe-none"));
                }
                response
            }
            Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error: the landing address is invalid"),
        },
        Err(e) => failed(e),
    }
}

/// Where the browser lands after a callback: the flow's `return_to` (or the connection's page)
/// with the outcome word, which that page renders as a fixed banner.
fn landing_url(public_url: &str, landing: &Landing) -> String {
    // Another page than the connection's own (`return_to`) also gets the connection's id, so it
    // can read what was granted.
    let (path, about) = match &landing.return_to {
        Some(path) => (path.clone(), format!("&connection={}", landing.connection)),
        None => (format!("/connections/{}", landing.connection), String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{public_url}{path}{sep}outcome={}{about}", landing.outcome)
}

/// The page for a callback the service refused.
fn failed(e: ServiceError) -> Response {
    // The service turns every provider-side failure into a redirect, so what reaches here is an
    // invalid callback (400), a sealed key ring or an unavailable database (503, the flow kept
    // where it was not yet taken), or a failure of Patchbay's own, answered as internal whatever
    // its kind.
    let e = match e {
        e @ (ServiceError::Invalid(_)
        | ServiceError::Sealed(_)
        | ServiceError::DatabaseUnavailable(_)
        | ServiceError::Internal(_)) => e,
        other => ServiceError::Internal(format!("oauth callback failed: {other}")),
    };
    let response = error_page(status_of(&e), &public_message(&e, INTERNAL_MESSAGE));
    Cause::attach_of(&e, response)
}

fn error_page(status: StatusCode, message: &str) -> Response {
    render_error(page_for(message), status)
}

fn page_for(message: &str) -> ErrorPage {
    ErrorPage::new(None, HEADING, message.to_owned()).back_to("/connections", "Back to your connections")
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use patchbay_service::oauth::CallbackOutcome;

    use super::*;

    #[test]
    fn landings_keep_the_return_path_and_add_the_outcome() {
        let connection = patchbay_domain::ids::ConnectionId::generate();
        let mut landing = Landing { connection: connection.clone(), outcome: CallbackOutcome::Denied, return_to: None };
        let base = "https://pb.example";
        assert_eq!(landing_url(base, &landing), format!("{base}/connections/{connection}?outcome=denied"));
        landing.return_to = Some("/scenarios".into());
        landing.outcome = CallbackOutcome::AccountMismatch;
        assert_eq!(
            landing_url(base, &landing),
            format!("{base}/scenarios?outcome=account_mismatch&connection={connection}")
        );
        landing.return_to = Some("/scenarios?x=1".into());
        landing.outcome = CallbackOutcome::Connected;
        assert_eq!(
            landing_url(base, &landing),
            format!("{base}/scenarios?x=1&outcome=connected&connection={connection}")
        );
    }

    #[test]
    fn html_is_escaped() {
        // askama escapes the message; the callback has no escaper of its own.
        let html = page_for("<a href='x'>&").render().unwrap();
        assert!(html.contains("<strong>&#60;a href=&#39;x&#39;&#62;&#38;</strong>"), "{html}");
    }
}
