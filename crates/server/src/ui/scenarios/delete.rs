//! Deleting a scenario: the confirmation page (its steps listed) and the deletion.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use super::list::render_list;
use super::{CHANGE_SCENARIOS, SECTION, check_version, version_of};
use crate::AppState;
use crate::error::status_of;
use crate::ui::forms::CsrfForm;
use crate::ui::pages::{Banner, DeleteScenarioPage, StepSummary};
use crate::ui::render::{UiResult, page, user_text};
use crate::ui::session::WebUser;

/// `GET /scenarios/{id}/delete`: the confirmation.
pub(crate) async fn confirm_delete(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult {
    // Reading a scenario is open to every role, so only this check keeps the confirmation from
    // a viewer (the deletion itself is refused by the service).
    user.require_manage(SECTION, CHANGE_SCENARIOS)?;
    let s = state.patchbay.get_scenario(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    Ok(page(
        &state,
        StatusCode::OK,
        DeleteScenarioPage {
            frame: user.frame(SECTION, format!("Delete “{}”?", s.name)),
            id: s.id.clone(),
            name: s.name.clone(),
            version: version_of(&s),
            steps: s
                .steps
                .iter()
                .map(|st| StepSummary { module_name: st.module_name.clone(), connection: st.connection_name.clone() })
                .collect(),
        },
    ))
}

/// `POST /scenarios/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let who = &user.session.principal;
    let s = state.patchbay.get_scenario(who, &id).await.map_err(user.fail(SECTION))?;
    if let Err(e) = check_version(&form, &s) {
        let banner = Banner::bad(format!("“{}” was not deleted", s.name), Some(user_text(&e)));
        return render_list(&state, &user, status_of(&e), Some(banner), None).await;
    }
    state.patchbay.delete_scenario(who, &s.id).await.map_err(user.fail(SECTION))?;
    Ok(Redirect::to("/scenarios?notice=deleted").into_response())
}
