//! The editor's forms: Add (a scenario from its name), Save (replace the steps, then go on to the
//! Add-connection form of the steps set to *Add*) and Remove (one step). A refused form answers
//! with the list again, the reason and, after Save, the user's choices kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_service::ServiceError;
use patchbay_service::connections::ListFilter;
use patchbay_service::scenarios::{ScenarioRequest, ScenarioView, StepRequest};

use super::lines::{Refill, add_form_href};
use super::list::render_list;
use super::plan::{FormStep, form_steps, plan_steps};
use super::{CHANGE_SCENARIOS, SECTION, check_version, live_connection, provider_of, providers_by_id, saved_redirect};
use crate::AppState;
use crate::error::status_of;
use crate::ui::forms::{CsrfForm, FormData};
use crate::ui::pages::{Banner, NewScenarioPage};
use crate::ui::render::{UiResult, page, user_text};
use crate::ui::session::{WebUser, percent_encode};

fn new_page(state: &AppState, user: &WebUser, status: StatusCode, name: String, error: Option<String>) -> Response {
    page(state, status, NewScenarioPage { frame: user.frame(SECTION, "Add a scenario"), name, error })
}

/// `GET /scenarios/new`: the name of a new scenario.
pub(crate) async fn new_form(State(state): State<AppState>, user: WebUser) -> UiResult {
    // The page calls no use-case, so only this check keeps the form from a viewer.
    user.require_manage(SECTION, CHANGE_SCENARIOS)?;
    Ok(new_page(&state, &user, StatusCode::OK, String::new(), None))
}

/// `POST /scenarios`: creates a scenario without steps, then shows it on the list.
pub(crate) async fn create(State(state): State<AppState>, CsrfForm { user, form }: CsrfForm) -> UiResult {
    let name = form.get("name").unwrap_or_default().trim().chars().take(200).collect::<String>();
    let req = ScenarioRequest { name: Some(name.clone()), steps: Some(Vec::new()) };
    match state.patchbay.create_scenario(&user.session.principal, req).await {
        Ok(s) => {
            let id = percent_encode(&s.id);
            Ok(Redirect::to(&format!("/scenarios?notice=created&s={id}#{id}")).into_response())
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            Ok(new_page(&state, &user, status_of(&e), name, Some(user_text(&e))))
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}

/// `POST /scenarios/{id}`: Save. Replaces the steps; steps set to *Add* then open the Add form
/// made for them (one connection for those of the first one's app).
pub(crate) async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    // Checked before the form is planned: without it a viewer's stale or invalid form would be
    // answered with why the form is wrong (400, 409) instead of the refusal the other editor
    // pages give (403, this text).
    user.require_manage(SECTION, CHANGE_SCENARIOS)?;
    let who = &user.session.principal;
    let s = state.patchbay.get_scenario(who, &id).await.map_err(user.fail(SECTION))?;
    let (steps, new) = form_steps(&form);
    match store_plan(&state, &user, &s, &form, &steps, &new).await {
        Ok((saved, add_at)) => Ok(match add_form(&saved, &add_at) {
            Some(href) => Redirect::to(&href).into_response(),
            None => saved_redirect(&saved.id, "saved"),
        }),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let refill = Refill {
                scenario: s.id.clone(),
                steps: steps.into_iter().enumerate().map(|(n, st)| (n, (st.module, st.connection))).collect(),
                new_module: new.module,
                new_connection: new.connection,
                error: user_text(&e),
            };
            let banner = Banner::bad(
                format!("“{}” was not saved", s.name),
                Some("Your choices are kept below, with the reason: change them and Save again.".into()),
            );
            render_list(&state, &user, status_of(&e), Some(banner), Some(&refill)).await
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}

/// Where a Save with steps set to *Add* goes on: the Add form for the first of them and every
/// other one of the same app, so that they share one new connection with the union of their
/// scopes (the steps of other apps keep *Add*, and say so after the next Save).
fn add_form(saved: &ScenarioView, add_at: &[usize]) -> Option<String> {
    let first = saved.steps.get(*add_at.first()?)?;
    let app = provider_of(&first.module);
    let positions: Vec<usize> = add_at
        .iter()
        .copied()
        .filter(|p| saved.steps.get(*p).is_some_and(|st| provider_of(&st.module) == app))
        .collect();
    Some(add_form_href(app, &saved.id, &positions))
}

/// Checks the form's version, plans its steps and stores them: the saved scenario and the
/// positions of the steps set to *Add*.
async fn store_plan(
    state: &AppState,
    user: &WebUser,
    s: &ScenarioView,
    form: &FormData,
    steps: &[FormStep],
    new: &FormStep,
) -> Result<(ScenarioView, Vec<usize>), ServiceError> {
    let who = &user.session.principal;
    let connections = state.patchbay.list_connections(who, &ListFilter::default()).await?;
    let catalog = providers_by_id(&state.patchbay.list_providers());
    check_version(form, s)?;
    let (requests, add_at) = plan_steps(s, steps, new, &catalog, &connections)?;
    let req = ScenarioRequest { name: None, steps: Some(requests) };
    let saved = state.patchbay.update_scenario(who, &s.id, req).await?;
    Ok((saved, add_at))
}

/// `POST /scenarios/{id}/steps/{position}/remove`: takes one step out.
pub(crate) async fn remove_step(
    State(state): State<AppState>,
    Path((id, position)): Path<(String, usize)>,
    CsrfForm { user, form }: CsrfForm,
) -> UiResult {
    let who = &user.session.principal;
    let s = state.patchbay.get_scenario(who, &id).await.map_err(user.fail(SECTION))?;
    if let Err(e) = check_version(&form, &s) {
        let banner = Banner::bad("No step was removed", Some(user_text(&e)));
        return render_list(&state, &user, status_of(&e), Some(banner), None).await;
    }
    if position >= s.steps.len() {
        let missing = ServiceError::NotFound(format!("“{}” has no step {}", s.name, position + 1));
        return Err(user.fail(SECTION)(missing));
    }
    let steps = s
        .steps
        .iter()
        .filter(|st| st.position != position)
        .map(|st| StepRequest { module: st.module.clone(), connection: live_connection(st).map(str::to_owned) })
        .collect();
    match state.patchbay.update_scenario(who, &s.id, ScenarioRequest { name: None, steps: Some(steps) }).await {
        Ok(saved) => Ok(saved_redirect(&saved.id, "removed")),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let banner = Banner::bad(format!("No step was removed from “{}”", s.name), Some(user_text(&e)));
            render_list(&state, &user, status_of(&e), Some(banner), None).await
        }
        Err(e) => Err(user.fail(SECTION)(e)),
    }
}
