//! The card's buttons: Verify, Rename, Reauthorize (Continue on a never-granted connection) and
//! Discard, and the way to a consent page they share
//! with the Add form.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_service::ServiceError;
use patchbay_service::oauth::ReauthorizeRequest;

use super::SECTION;
use super::detail::detail_page;
use crate::AppState;
use crate::error::status_of;
use crate::ui::forms::{CsrfForm, FormData};
use crate::ui::origins::{authorization_origins, static_origin};
use crate::ui::pages::{Banner, Frame, RedirectPage};
use crate::ui::render::{UiResult, page, user_text};
use crate::ui::session::{WebUser, percent_encode};

/// Where a card's form sends the browser afterwards, with a notice word.
fn back_to(form: &FormData, id: &str, notice: &str) -> Response {
    // Ids are `con_` + hex once the service accepted them; encode anyway so nothing else can
    // shape the Location header.
    let id = percent_encode(id);
    let location = if form.get("back") == Some("list") {
        format!("/connections?notice={notice}&c={id}#{id}")
    } else {
        format!("/connections/{id}?notice={notice}")
    };
    Redirect::to(&location).into_response()
}

/// `POST /connections/{id}/verify`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    // The outcome (ok or the provider's reason) is stored with the connection; the page the
    // browser lands on shows it.
    state.patchbay.verify_connection(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    Ok(back_to(&form, &id, "verified"))
}

/// `POST /connections/{id}/rename`.
pub(crate) async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let who = &user.session.principal;
    let name = form.get("name").unwrap_or_default();
    match state.patchbay.rename_connection(who, &id, name).await {
        Ok(c) => Ok(back_to(&form, &c.id, "renamed")),
        // A name the service refuses: the detail page again, the form open, with the reason.
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let c = state.patchbay.get_connection(who, &id).await.map_err(user.fail(SECTION))?;
            let banner = Banner::bad("The name was not changed", Some(user_text(&e)));
            Ok(detail_page(&state, &user, status_of(&e), &c, Some(banner), true).await)
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}

/// `POST /connections/{id}/discard`: a never-granted connection goes; back to the list.
pub(crate) async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm,
) -> UiResult {
    state.patchbay.discard_connection(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    Ok(Redirect::to("/connections?notice=discarded").into_response())
}

/// `POST /connections/{id}/reauthorize`.
pub(crate) async fn reauthorize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let req = ReauthorizeRequest {
        modules: form.all("module"),
        scopes: form.all("scope"),
        allow_account_change: form.get("allow_account_change") == Some("1"),
        // A fixed word, not a path from the form: only known pages can be the landing.
        return_to: (form.get("return") == Some("scenarios")).then(|| "/scenarios".to_owned()),
    };
    let start = state
        .patchbay
        .reauthorize_connection(&user.session.principal, &id, req, Some(user.session.binding.clone()))
        .await
        .map_err(user.fail(SECTION))?;
    Ok(to_provider(&state, &user, &start.authorize_url, &start.connection.provider_name))
}

/// Sends the browser to a consent page: a 303 when the page CSP allows its origin as a form
/// target (a fixed catalog address), else an interstitial page that continues by navigation.
pub(super) fn to_provider(state: &AppState, user: &WebUser, url: &str, provider_name: &str) -> Response {
    to_provider_in(state, user.frame(SECTION, format!("Continue to {provider_name}")), url, provider_name)
}

/// [`to_provider`] on a page with any frame (the connect page's has no top bar).
pub(crate) fn to_provider_in(state: &AppState, frame: Frame, url: &str, provider_name: &str) -> Response {
    let allowed = static_origin(url).is_some_and(|origin| authorization_origins(&state.patchbay).contains(&origin));
    if allowed {
        return Redirect::to(url).into_response();
    }
    page(state, StatusCode::OK, RedirectPage { frame, url: url.to_owned(), provider_name: provider_name.to_owned() })
}
