//! Answers of the UI: a page rendered with its status and CSP, and the error pages, including
//! [`UiError`], the way a service error leaves a UI handler.
//!
//! A handler returns [`UiResult`] and uses `?` (with `WebUser::fail` naming the section for
//! the top bar): the status and heading come from the table shared with the API
//! ([`crate::error::status_of`]), and an internal cause goes to the log middleware, never onto
//! the page.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use patchbay_service::ServiceError;

use super::pages::{ErrorPage, Frame, Nav};
use crate::AppState;
use crate::error::{Cause, heading_of, public_message, status_of};
use crate::headers::page_csp;
use crate::ui::origins::authorization_origins;

/// What a UI page shows for an internal error.
pub(crate) const INTERNAL_MESSAGE: &str = "Internal error: the server log has the details.";

/// A service error on its way to an error page, with the top bar of the section it happened in
/// (`None` for a browser without a session). Boxed: it travels in every handler's `Err`.
pub(crate) struct UiError(Box<(Option<Nav>, ServiceError)>);

impl UiError {
    pub fn new(nav: Option<Nav>, error: ServiceError) -> UiError {
        UiError(Box::new((nav, error)))
    }
}

/// What a UI handler answers.
pub(crate) type UiResult = Result<Response, UiError>;

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (nav, error) = *self.0;
        let response = render_error(ErrorPage::new(nav, heading_of(&error), user_text(&error)), status_of(&error));
        Cause::attach_of(&error, response)
    }
}

/// The text a page shows for a service error (a form's banner, an error page).
pub(crate) fn user_text(e: &ServiceError) -> String {
    public_message(e, INTERNAL_MESSAGE)
}

/// Renders a page with its status and the page CSP.
pub(crate) fn page<T: Template>(state: &AppState, status: StatusCode, template: T) -> Response {
    match template.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, page_csp(&authorization_origins(&state.patchbay)));
            resp
        }
        Err(e) => plain_error(format!("a page failed to render: {e}")),
    }
}

/// The last resort when even a template fails: a fixed page, the failure logged.
fn plain_error(cause: String) -> Response {
    let response = (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><title>Error · Patchbay</title><p>Internal error: the server log has the details.</p>"),
    )
        .into_response();
    Cause(cause).attach(response)
}

/// An error page with a fixed message (no page-specific CSP needed: it has no form).
pub(crate) fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    render_error(ErrorPage::new(None, title, message.to_owned()), status)
}

/// Renders an error page (also the OAuth callback's).
pub(crate) fn render_error(template: ErrorPage, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => plain_error(format!("the error page failed to render: {e}")),
    }
}

impl ErrorPage {
    /// An error page; its link leads back to the connections, or to `/` without a session.
    pub fn new(nav: Option<Nav>, title: &str, message: String) -> ErrorPage {
        let back = if nav.is_some() { "/connections" } else { "/" };
        ErrorPage {
            frame: Frame { nav, ..Frame::anonymous(title) },
            message,
            back: back.to_owned(),
            back_label: "Back to connections".to_owned(),
        }
    }

    /// The same page with another link back.
    pub fn back_to(mut self, href: &str, label: &str) -> ErrorPage {
        self.back = href.to_owned();
        self.back_label = label.to_owned();
        self
    }
}
