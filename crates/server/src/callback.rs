//! `GET /oauth/callback`: where providers send the browser after consent.
//!
//! Success and provider-side failures (denied consent, token error) end in a 303 to the
//! connection's page with no code or state in the URL; an invalid callback (unknown, expired or
//! replayed state, wrong issuer, another browser) gets a 400 page and causes no request to the
//! provider. Every answer carries `Cache-Control: no-store` and `Referrer-Policy: no-referrer`
//! so the code never lingers in a cache or leaks in a Referer header.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use patchbay_service::ServiceError;
use patchbay_service::oauth::{CallbackQuery, session_binding};

use crate::AppState;
use crate::ui::session::{SESSION_COOKIE, cookie};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/oauth/callback", get(callback))
}

/// Minimal HTML escaping for text placed in the error page.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn harden(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    response
}

#[utoipa::path(get, path = "/oauth/callback", tag = "oauth",
    params(
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "The state Patchbay sent"),
        ("error" = Option<String>, Query, description = "OAuth error, e.g. access_denied"),
        ("iss" = Option<String>, Query, description = "RFC 9207 issuer")),
    responses(
        (status = 303, description = "To the connection's page, with `outcome=connected|denied|error|account_mismatch`"),
        (status = 400, description = "Unknown, expired or replayed state, wrong issuer, or another browser; nothing was changed")))]
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    // A malformed query is treated like an empty one: the service then answers "no valid state".
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let binding = cookie(&headers, SESSION_COOKIE).map(|token| session_binding(&token));
    let response = match state.patchbay.complete_callback(query, binding).await {
        Ok(location) => match HeaderValue::from_str(&location) {
            Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
            Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error: the landing address is invalid"),
        },
        Err(ServiceError::Invalid(message)) => error_page(StatusCode::BAD_REQUEST, &message),
        Err(ServiceError::Sealed(message)) => error_page(StatusCode::SERVICE_UNAVAILABLE, &message),
        Err(e) => {
            tracing::error!(error = %e, "oauth callback failed");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error: the server log has the details")
        }
    };
    harden(response)
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Authorization failed · Patchbay</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2430}}\
         h1{{font-size:1.4rem}}.box{{border:1px solid #e3b4b4;background:#fdf3f3;border-radius:8px;padding:1rem}}</style></head>\
         <body><h1>The authorization could not be completed</h1><p class=\"box\">{}</p>\
         <p><a href=\"/connections\">Back to your connections</a></p></body></html>",
        escape_html(message)
    );
    (status, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
