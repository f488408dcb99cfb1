//! `GET /scenarios`: every scenario of the team with its steps (and, for those who may change
//! them, the editor); also the page a failed Save, Remove or Delete answers with.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_service::connections::ListFilter;
use serde::Deserialize;

use super::banners::{callback_banner, notice_banner};
use super::lines::{Refill, scenario_line};
use super::{SECTION, providers_by_id};
use crate::AppState;
use crate::extract::LenientQuery;
use crate::ui::pages::{Banner, ScenariosPage};
use crate::ui::render::{UiError, UiResult, page};
use crate::ui::session::{WebUser, percent_encode};

/// Query of `GET /scenarios`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScenariosQuery {
    /// Set by the OAuth callback after Extend permissions or Add from a step.
    outcome: Option<String>,
    /// What just happened here: `created`, `saved`, `removed`, `deleted`.
    notice: Option<String>,
    /// The scenario the notice is about.
    s: Option<String>,
    /// The connection the outcome is about (read from the database, never shown from the URL).
    connection: Option<String>,
}

/// Renders the list, with a banner and the values of a failed Save.
pub(super) async fn render_list(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    banner: Option<Banner>,
    refill: Option<&Refill>,
) -> Result<Response, UiError> {
    let who = &user.session.principal;
    let scenarios = state.patchbay.list_scenarios(who).await.map_err(user.fail(SECTION))?;
    // Only people who can change scenarios get pickers, so only they need the connections.
    let connections = if user.can_manage() {
        state.patchbay.list_connections(who, &ListFilter::default()).await.map_err(user.fail(SECTION))?
    } else {
        Vec::new()
    };
    let catalog = state.patchbay.list_providers();
    let providers = providers_by_id(&catalog);
    let now = state.patchbay.now();
    Ok(page(
        state,
        status,
        ScenariosPage {
            frame: user.frame(SECTION, "Scenarios").with_banner(banner),
            scenarios: scenarios
                .iter()
                .map(|s| scenario_line(s, &providers, &catalog, &connections, refill, now))
                .collect(),
        },
    ))
}

/// `GET /scenarios`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    LenientQuery(q): LenientQuery<ScenariosQuery>,
) -> UiResult {
    let banner = match (q.outcome.as_deref(), q.notice.as_deref()) {
        (Some(outcome), _) => {
            let about = match q.connection.as_deref() {
                Some(id) => state.patchbay.get_connection(&user.session.principal, id).await.ok(),
                None => None,
            };
            callback_banner(outcome, about.as_ref())
        }
        (None, Some(notice)) => {
            let about = match q.s.as_deref() {
                Some(id) => state.patchbay.get_scenario(&user.session.principal, id).await.ok(),
                None => None,
            };
            notice_banner(notice, about.as_ref())
        }
        (None, None) => None,
    };
    render_list(&state, &user, StatusCode::OK, banner, None).await
}

/// `GET /scenarios/{id}`: the scenario on the list.
pub(crate) async fn show(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult {
    let s = state.patchbay.get_scenario(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    Ok(Redirect::to(&format!("/scenarios#{}", percent_encode(&s.id))).into_response())
}
