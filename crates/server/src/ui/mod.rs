//! The web UI: server-rendered HTML (askama) with progressive enhancement, served by the same
//! binary as the API.
//!
//! Pages: sign in/out, the Connections section (list with filters, detail, Add, Verify, Rename,
//! Reauthorize, Delete with a confirmation and a revocation receipt), the Scenarios section (Add,
//! steps with module and connection pickers, Save, Remove, Delete with a confirmation), and the
//! Events page, and the hosted page of a connect session (`connect`: a platform's end user adds
//! a connection without a Patchbay account). Every page works without JavaScript; `static/app.js` only adds conveniences.
//!
//! Every UI response carries the strict headers of [`crate::headers`]. A consent page whose
//! address depends on a connection's settings (so no page CSP can name its origin ahead of time)
//! is reached through an interstitial page.
//!
//! Handlers follow the API's rule: parse, call one use-case with the session's principal,
//! render. A POST takes a [`forms::CsrfForm`], a GET's query is a [`crate::extract::LenientQuery`],
//! and a service error leaves through [`render::UiError`]. Messages shown after a redirect are
//! chosen from a fixed set by a query word and filled with stored data, never copied from the URL.
//!
//! Modules: `session` (the signed-in user), `forms` (bodies and the CSRF check), `render` (pages
//! and error pages), `origins` (the consent-page origins the page CSP allows), `pages` (what
//! templates show), and one module per section.

mod assets;
mod connect;
mod connections;
mod events;
mod forms;
mod login;
mod origins;
mod pages;
pub(crate) mod render;
mod scenarios;
mod session;

use std::sync::Arc;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

pub use crate::cookies::SESSION_COOKIE;
pub use login::LoginLimiter;
pub(crate) use pages::ErrorPage;
pub use session::WebUser;

use crate::AppState;

/// The UI's routes, with the strict headers applied to each of them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/connections", get(connections::list))
        .route("/connections/new", get(connections::pick_app))
        .route("/connections/new/discover", post(connections::discover))
        .route("/connections/new/{provider}", get(connections::new_form).post(connections::create))
        .route("/connections/{id}", get(connections::detail))
        .route("/connections/{id}/verify", post(connections::verify))
        .route("/connections/{id}/rename", post(connections::rename))
        .route("/connections/{id}/reauthorize", post(connections::reauthorize))
        .route("/connections/{id}/credential", get(connections::credential_form).post(connections::save_credential))
        .route("/connections/{id}/discard", post(connections::discard))
        .route("/connections/{id}/delete", get(connections::confirm_delete).post(connections::delete))
        .route("/connections/{id}/deleted", get(connections::receipt))
        .route("/scenarios", get(scenarios::list).post(scenarios::create))
        .route("/scenarios/new", get(scenarios::new_form))
        .route("/scenarios/{id}", get(scenarios::show).post(scenarios::save))
        .route("/scenarios/{id}/steps/{position}/remove", post(scenarios::remove_step))
        .route("/scenarios/{id}/delete", get(scenarios::confirm_delete).post(scenarios::delete))
        .route("/events", get(events::list))
        .route("/static/{file}", get(assets::serve))
        .route("/docs/{file}", get(assets::docs))
        .route("/connect.js", get(assets::connect_js))
        .merge(connect::routes())
        .layer(Extension(Arc::new(LoginLimiter::default())))
        .layer(axum::middleware::from_fn(crate::headers::harden))
}

/// `/`: the Connections section, or the sign-in page.
async fn index(user: Result<WebUser, Response>) -> Response {
    match user {
        Ok(_) => Redirect::to("/connections").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}
