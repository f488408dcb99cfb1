//! The Scenarios section: every scenario of the team with, per step, the connection it runs
//! through and whether it can run — and the editor that builds them in the browser.
//!
//! * *Add* (page head) opens a form that creates a scenario from its name.
//! * Each scenario is one form: per step a connection picker whose first option is *Add*, the
//!   others the team's connections of the step's app; a *New step* row with a module picker
//!   (every app's modules, grouped by app) and the same connection picker. *Save* replaces the
//!   steps; a step set to *Add* then goes on to the Add-connection form made for that step
//!   (`/connections/new/{provider}?scenario=…&step=…`), which asks for exactly the module's
//!   scopes and binds the new connection to the step.
//! * *Remove* takes one step out; *Delete* removes the scenario after a confirmation page.
//! * A step whose connection lacks scopes offers *Extend permissions* (a reauthorization of the
//!   same connection asking for the module's scopes, DESIGN §1.4).
//!
//! The step pickers live in each step's list item but belong to the scenario's Save form through
//! the `form` attribute, so the per-step Remove and Extend permissions forms are not nested in
//! it. Every form carries the session's anti-CSRF token and the scenario's version (its last
//! change): a form from a page that is out of date changes nothing.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use patchbay_service::ServiceError;
use patchbay_service::connections::ListFilter;
use patchbay_service::scenarios::{ScenarioRequest, ScenarioView, StepRequest, StepView};
use patchbay_service::views::{ConnectionView, ProviderView};
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::{FormData, WebUser, csrf_rejected, percent_encode};
use super::views::{Banner, Nav, STATUS_FILTERS, ScopeLine, SelectOption, TimeText, hue, initial};
use super::{error_page, error_text, page};
use crate::AppState;

/// The value of the *Add* option of a connection picker.
const ADD: &str = "add";
/// The most steps a Save form is read for (the service allows 200 per scenario).
const MAX_FORM_STEPS: usize = 500;

/// A group of `<option>`s under an app's name.
pub(crate) struct OptGroup {
    pub label: String,
    pub options: Vec<SelectOption>,
}

/// A step as shown.
pub(crate) struct StepLine {
    pub position: usize,
    pub module: String,
    pub module_name: String,
    pub provider_name: String,
    pub initial: String,
    pub hue: u8,
    pub connection: Option<String>,
    pub connection_name: String,
    pub status: String,
    pub label: &'static str,
    pub class: &'static str,
    pub missing: Vec<ScopeLine>,
    /// A bound OAuth connection lacks scopes this step needs: offer Extend permissions.
    pub can_extend: bool,
    /// The module is in the catalog: the step gets a connection picker.
    pub pickable: bool,
    /// The picker's *Add* option is selected (the step has no usable connection).
    pub add_selected: bool,
    /// The team's connections of the step's app, the bound one selected.
    pub choices: Vec<SelectOption>,
    /// Sent for a step without a picker: its current connection, if it still exists.
    pub keep: String,
}

/// A scenario as shown.
pub(crate) struct ScenarioLine {
    pub id: String,
    pub name: String,
    pub ready: bool,
    pub updated: TimeText,
    /// The scenario's version for the forms (its last change, in nanoseconds).
    pub version: String,
    pub steps: Vec<StepLine>,
    /// The New step row: every app's modules.
    pub module_groups: Vec<OptGroup>,
    /// The New step row: the team's connections, grouped by app.
    pub connection_groups: Vec<OptGroup>,
    /// Why the last Save of this scenario did not work.
    pub error: Option<String>,
}

/// `GET /scenarios`.
#[derive(Template, WebTemplate)]
#[template(path = "scenarios.html")]
pub(crate) struct ScenariosPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub can_manage: bool,
    pub banner: Option<Banner>,
    pub scenarios: Vec<ScenarioLine>,
}

/// `GET /scenarios/new`.
#[derive(Template, WebTemplate)]
#[template(path = "scenario_new.html")]
pub(crate) struct NewScenarioPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub name: String,
    pub error: Option<String>,
}

/// One step on the delete confirmation.
pub(crate) struct StepSummary {
    pub module_name: String,
    pub connection: Option<String>,
}

/// `GET /scenarios/{id}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "scenario_delete.html")]
pub(crate) struct DeleteScenarioPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub id: String,
    pub name: String,
    pub version: String,
    pub steps: Vec<StepSummary>,
}

/// Query of `GET /scenarios`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScenariosQuery {
    /// Set by the OAuth callback after Extend permissions or Add from a step.
    outcome: Option<String>,
    /// What just happened here: `created`, `saved`, `removed`, `deleted`.
    notice: Option<String>,
    /// The scenario the notice is about.
    s: Option<String>,
}

/// What a failed Save sent, to show it again next to the error.
struct Refill {
    scenario: String,
    /// Connection picker values by step position (when the step still runs the same module).
    steps: HashMap<usize, (String, String)>,
    new_module: String,
    new_connection: String,
    error: String,
}

fn step_status(status: &str) -> (&'static str, &'static str) {
    match status {
        "ready" => ("Ready", "ok"),
        "needs_connection" => ("Needs a connection", "warn"),
        "connection_pending" => ("Connection pending", "info"),
        "connection_needs_reauth" => ("Connection needs reauthorization", "bad"),
        "connection_degraded" => ("Connection degraded", "warn"),
        "missing_scopes" => ("Missing permissions", "bad"),
        "unknown_module" => ("Unknown module", "bad"),
        _ => ("Unknown", "muted"),
    }
}

/// The app id of a `provider.module` reference.
fn provider_of(module: &str) -> &str {
    module.split_once('.').map_or(module, |(p, _)| p)
}

/// The version of a scenario the forms carry: its last change.
fn version_of(s: &ScenarioView) -> String {
    s.updated_at.unix_timestamp_nanos().to_string()
}

/// The stored connection of a step, if it still exists (a deleted one leaves only its id).
fn live_connection(st: &StepView) -> Option<&str> {
    st.connection.as_deref().filter(|_| st.connection_name.is_some())
}

/// How a connection is named in a picker: its name, and its status unless it is active.
fn connection_label(c: &ConnectionView) -> String {
    match STATUS_FILTERS.iter().find(|(v, _)| *v == c.status) {
        Some((_, label)) if c.status != "active" => format!("{} ({})", c.name, label.to_lowercase()),
        _ => c.name.clone(),
    }
}

fn connection_options(connections: &[ConnectionView], provider: &str, selected: Option<&str>) -> Vec<SelectOption> {
    connections
        .iter()
        .filter(|c| c.provider == provider)
        .map(|c| SelectOption { value: c.id.clone(), label: connection_label(c), selected: selected == Some(&c.id) })
        .collect()
}

/// Every app's modules, grouped by app (apps and modules by name), `selected` chosen.
fn module_groups(providers: &[ProviderView], selected: &str) -> Vec<OptGroup> {
    let mut groups: Vec<OptGroup> = providers
        .iter()
        .filter(|p| !p.modules.is_empty())
        .map(|p| {
            let mut options: Vec<SelectOption> = p
                .modules
                .iter()
                .map(|m| SelectOption { value: m.id.clone(), label: m.name.clone(), selected: m.id == selected })
                .collect();
            options.sort_by_key(|o| o.label.to_lowercase());
            OptGroup { label: p.display_name.clone(), options }
        })
        .collect();
    groups.sort_by_key(|g| g.label.to_lowercase());
    groups
}

/// The team's connections grouped by app (apps by name), `selected` chosen.
fn connection_groups(
    connections: &[ConnectionView],
    providers: &HashMap<String, ProviderView>,
    selected: &str,
) -> Vec<OptGroup> {
    let mut apps: Vec<(String, String)> = connections
        .iter()
        .map(|c| {
            let name = providers.get(&c.provider).map_or_else(|| c.provider_name.clone(), |p| p.display_name.clone());
            (c.provider.clone(), name)
        })
        .collect();
    apps.sort_by_key(|(id, name)| (name.to_lowercase(), id.clone()));
    apps.dedup();
    apps.into_iter()
        .map(|(id, name)| OptGroup { label: name, options: connection_options(connections, &id, Some(selected)) })
        .collect()
}

pub(crate) fn step_line(
    st: &StepView,
    providers: &HashMap<String, ProviderView>,
    connections: &[ConnectionView],
    chosen: Option<&str>,
) -> StepLine {
    let provider_id = provider_of(&st.module).to_owned();
    let provider = providers.get(&provider_id);
    let provider_name = provider.map_or_else(|| provider_id.clone(), |p| p.display_name.clone());
    let (label, class) = step_status(&st.status);
    let pickable = provider.is_some_and(|p| p.modules.iter().any(|m| m.id == st.module));
    let current = chosen.or_else(|| live_connection(st));
    let choices = connection_options(connections, &provider_id, current);
    StepLine {
        position: st.position,
        module: st.module.clone(),
        module_name: st.module_name.clone(),
        initial: initial(&provider_name),
        hue: hue(&provider_id),
        connection: st.connection.clone(),
        connection_name: st.connection_name.clone().unwrap_or_else(|| "a deleted connection".to_owned()),
        status: st.status.clone(),
        label,
        class,
        missing: st
            .missing_scopes
            .iter()
            .map(|s| ScopeLine {
                scope: s.clone(),
                description: provider
                    .and_then(|p| p.scopes.iter().find(|d| &d.scope == s))
                    .and_then(|d| d.description.clone()),
            })
            .collect(),
        can_extend: st.extend_permissions.is_some(),
        pickable,
        add_selected: !choices.iter().any(|o| o.selected),
        choices,
        keep: live_connection(st).unwrap_or_default().to_owned(),
        provider_name,
    }
}

fn scenario_line(
    s: &ScenarioView,
    providers: &HashMap<String, ProviderView>,
    catalog: &[ProviderView],
    connections: &[ConnectionView],
    refill: Option<&Refill>,
    now: OffsetDateTime,
) -> ScenarioLine {
    let refill = refill.filter(|r| r.scenario == s.id);
    let chosen = |st: &StepView| {
        refill.and_then(|r| r.steps.get(&st.position)).filter(|(m, _)| *m == st.module).map(|(_, c)| c.as_str())
    };
    ScenarioLine {
        id: s.id.clone(),
        name: s.name.clone(),
        ready: s.ready,
        updated: TimeText::new(s.updated_at, now),
        version: version_of(s),
        steps: s.steps.iter().map(|st| step_line(st, providers, connections, chosen(st))).collect(),
        module_groups: module_groups(catalog, refill.map_or("", |r| r.new_module.as_str())),
        connection_groups: connection_groups(connections, providers, refill.map_or("", |r| r.new_connection.as_str())),
        error: refill.map(|r| r.error.clone()),
    }
}

/// The banner after the consent page sent the browser back here: a fixed sentence per outcome.
fn outcome_banner(outcome: &str) -> Option<Banner> {
    match outcome {
        "connected" => {
            Some(Banner::ok("Access granted", Some("The steps below show what each scenario can run now.".into())))
        }
        "denied" => Some(Banner::bad("Access was denied", Some("Nothing was changed.".into()))),
        "error" => Some(Banner::bad(
            "The authorization could not be completed",
            Some("Nothing was changed. The connection's page says why.".into()),
        )),
        "account_mismatch" => Some(Banner::warn(
            "You granted access for a different account",
            Some("Nothing was changed: extend the permissions while signed in with the connection's account.".into()),
        )),
        _ => None,
    }
}

/// The banner after a change on this page: a fixed sentence per word, filled from the stored
/// scenario (never from text in the URL).
fn notice_banner(notice: &str, s: Option<&ScenarioView>) -> Option<Banner> {
    if notice == "deleted" {
        return Some(Banner::ok("The scenario was deleted", Some("The connections it used are still there.".into())));
    }
    let s = s?;
    let readiness = if s.ready {
        "Every step can run."
    } else if s.steps.is_empty() {
        "It has no steps yet."
    } else {
        "Some steps need attention: each one says why."
    };
    match notice {
        "created" => Some(Banner::ok(
            format!("“{}” was created", s.name),
            Some("Add its steps below: pick a module and a connection, then Save.".into()),
        )),
        "saved" => Some(Banner::ok(format!("“{}” was saved", s.name), Some(readiness.into()))),
        "removed" => Some(Banner::ok(format!("A step was removed from “{}”", s.name), Some(readiness.into()))),
        _ => None,
    }
}

fn providers_by_id(catalog: &[ProviderView]) -> HashMap<String, ProviderView> {
    catalog.iter().map(|p| (p.id.clone(), p.clone())).collect()
}

/// Renders the list, with a banner and the values of a failed Save.
async fn render_list(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    banner: Option<Banner>,
    refill: Option<&Refill>,
) -> Response {
    let who = &user.session.principal;
    let scenarios = match state.patchbay.list_scenarios(who).await {
        Ok(v) => v,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    // Only people who can change scenarios get pickers, so only they need the connections.
    let connections = if user.can_manage() {
        match state.patchbay.list_connections(who, &ListFilter::default()).await {
            Ok(v) => v,
            Err(e) => return error_page(user.nav("scenarios"), e),
        }
    } else {
        Vec::new()
    };
    let catalog = state.patchbay.list_providers();
    let providers = providers_by_id(&catalog);
    let now = state.patchbay.now();
    page(
        state,
        status,
        ScenariosPage {
            title: "Scenarios".into(),
            nav: user.nav("scenarios"),
            csrf: user.csrf(),
            can_manage: user.can_manage(),
            banner,
            scenarios: scenarios
                .iter()
                .map(|s| scenario_line(s, &providers, &catalog, &connections, refill, now))
                .collect(),
        },
    )
}

/// `GET /scenarios`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    query: Result<Query<ScenariosQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let banner = match (q.outcome.as_deref(), q.notice.as_deref()) {
        (Some(outcome), _) => outcome_banner(outcome),
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
pub(crate) async fn show(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> Response {
    match state.patchbay.get_scenario(&user.session.principal, &id).await {
        Ok(s) => Redirect::to(&format!("/scenarios#{}", percent_encode(&s.id))).into_response(),
        Err(e) => error_page(user.nav("scenarios"), e),
    }
}

fn may_not_manage(user: &WebUser) -> Option<Response> {
    (!user.can_manage()).then(|| {
        error_page(
            user.nav("scenarios"),
            ServiceError::Forbidden(format!(
                "the `{}` role may not change scenarios: ask an admin",
                user.session.principal.role
            )),
        )
    })
}

fn new_page(state: &AppState, user: &WebUser, status: StatusCode, name: String, error: Option<String>) -> Response {
    page(
        state,
        status,
        NewScenarioPage { title: "Add a scenario".into(), nav: user.nav("scenarios"), csrf: user.csrf(), name, error },
    )
}

/// `GET /scenarios/new`: the name of a new scenario.
pub(crate) async fn new_form(State(state): State<AppState>, user: WebUser) -> Response {
    if let Some(refused) = may_not_manage(&user) {
        return refused;
    }
    new_page(&state, &user, StatusCode::OK, String::new(), None)
}

/// `POST /scenarios`: creates a scenario without steps, then shows it on the list.
pub(crate) async fn create(State(state): State<AppState>, user: WebUser, form: FormData) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let name = form.get("name").unwrap_or_default().trim().chars().take(200).collect::<String>();
    let req = ScenarioRequest { name: Some(name.clone()), steps: Some(Vec::new()) };
    match state.patchbay.create_scenario(&user.session.principal, req).await {
        Ok(s) => {
            let id = percent_encode(&s.id);
            Redirect::to(&format!("/scenarios?notice=created&s={id}#{id}")).into_response()
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let status =
                if matches!(e, ServiceError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            new_page(&state, &user, status, name, Some(error_text(&e)))
        }
        Err(e) => error_page(user.nav("scenarios"), e),
    }
}

/// Refuses a form made from an older version of the scenario.
fn check_version(form: &FormData, s: &ScenarioView) -> Result<(), ServiceError> {
    if form.get("version") == Some(version_of(s).as_str()) {
        Ok(())
    } else {
        Err(ServiceError::Conflict(format!(
            "“{}” was changed since this page was loaded, so nothing was changed: check it below and try again",
            s.name
        )))
    }
}

/// A step as the Save form sent it.
struct FormStep {
    module: String,
    /// `add`, a connection id, or empty.
    connection: String,
}

/// The steps of a Save form: `step.N.module` / `step.N.connection` for N = 0, 1, … and the
/// `new.module` / `new.connection` row.
fn form_steps(form: &FormData) -> (Vec<FormStep>, FormStep) {
    let mut steps = Vec::new();
    for n in 0..MAX_FORM_STEPS {
        let Some(module) = form.get(&format!("step.{n}.module")) else { break };
        let connection = form.get(&format!("step.{n}.connection")).unwrap_or_default();
        steps.push(FormStep { module: module.trim().to_owned(), connection: connection.trim().to_owned() });
    }
    let new = FormStep {
        module: form.get("new.module").unwrap_or_default().trim().to_owned(),
        connection: form.get("new.connection").unwrap_or_default().trim().to_owned(),
    };
    (steps, new)
}

/// The connection a picker chose for a step of `module`, checked to be the team's and of the
/// module's app; `which` names the step in the message ("step 2", "the new step").
fn chosen_connection(
    which: &str,
    value: &str,
    provider: &ProviderView,
    module_name: &str,
    connections: &[ConnectionView],
) -> Result<Option<String>, ServiceError> {
    if value.is_empty() {
        return Ok(None);
    }
    match connections.iter().find(|c| c.id == value) {
        Some(c) if c.provider == provider.id => Ok(Some(c.id.clone())),
        Some(c) => Err(ServiceError::Invalid(format!(
            "{which}: “{}” is a connection to {}, but {module_name} runs on {}: choose Add, or a connection to {}",
            c.name, c.provider_name, provider.display_name, provider.display_name
        ))),
        None => Err(ServiceError::Invalid(format!("{which}: the connection chosen is not a connection of your team"))),
    }
}

/// The steps to store and the position of the first step set to *Add*, checking every module is
/// in the catalog and every chosen connection is the team's and of its module's app (the
/// service checks again).
fn plan_steps(
    s: &ScenarioView,
    steps: &[FormStep],
    new: &FormStep,
    catalog: &HashMap<String, ProviderView>,
    connections: &[ConnectionView],
) -> Result<(Vec<StepRequest>, Option<usize>), ServiceError> {
    let module_of =
        |id: &str| catalog.get(provider_of(id)).and_then(|p| p.modules.iter().find(|m| m.id == id).map(|m| (p, m)));
    let mut out = Vec::with_capacity(steps.len() + 1);
    let mut add_at = None;
    for (n, st) in steps.iter().enumerate() {
        let which = format!("Step {}", n + 1);
        let Some((provider, module)) = module_of(&st.module) else {
            return Err(ServiceError::Invalid(format!(
                "{which} runs `{}`, which is not in the catalog any more: remove that step first",
                st.module
            )));
        };
        let connection = if st.connection == ADD {
            add_at = add_at.or(Some(n));
            // Until the new connection is saved the step keeps the one it has, if any.
            s.steps.get(n).filter(|old| old.module == st.module).and_then(live_connection).map(str::to_owned)
        } else {
            chosen_connection(&which, &st.connection, provider, &module.name, connections)?
        };
        out.push(StepRequest { module: module.id.clone(), connection });
    }
    if new.module.is_empty() {
        if !new.connection.is_empty() && new.connection != ADD {
            return Err(ServiceError::Invalid(
                "The new step has a connection but no module: choose its module too".into(),
            ));
        }
        return Ok((out, add_at));
    }
    let Some((provider, module)) = module_of(&new.module) else {
        return Err(ServiceError::Invalid(format!(
            "`{}` is not a module of any app: choose one from the list",
            new.module
        )));
    };
    let connection = if new.connection == ADD || new.connection.is_empty() {
        add_at = add_at.or(Some(out.len()));
        None
    } else {
        chosen_connection("The new step", &new.connection, provider, &module.name, connections)?
    };
    out.push(StepRequest { module: module.id.clone(), connection });
    Ok((out, add_at))
}

/// `POST /scenarios/{id}`: Save. Replaces the steps; a step set to *Add* then opens the Add form
/// made for it.
pub(crate) async fn save(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    if let Some(refused) = may_not_manage(&user) {
        return refused;
    }
    let who = &user.session.principal;
    let s = match state.patchbay.get_scenario(who, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    let connections = match state.patchbay.list_connections(who, &ListFilter::default()).await {
        Ok(v) => v,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    let catalog = providers_by_id(&state.patchbay.list_providers());
    let (steps, new) = form_steps(&form);
    let planned = check_version(&form, &s).and_then(|()| plan_steps(&s, &steps, &new, &catalog, &connections));
    let result = match planned {
        Ok((requests, add_at)) => {
            let req = ScenarioRequest { name: None, steps: Some(requests) };
            state.patchbay.update_scenario(who, &s.id, req).await.map(|saved| (saved, add_at))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((saved, Some(position))) => match saved.steps.get(position) {
            Some(step) => Redirect::to(&format!(
                "/connections/new/{}?scenario={}&step={position}",
                percent_encode(provider_of(&step.module)),
                percent_encode(&saved.id)
            ))
            .into_response(),
            None => saved_redirect(&saved.id, "saved"),
        },
        Ok((saved, None)) => saved_redirect(&saved.id, "saved"),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let status =
                if matches!(e, ServiceError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            let refill = Refill {
                scenario: s.id.clone(),
                steps: steps.into_iter().enumerate().map(|(n, st)| (n, (st.module, st.connection))).collect(),
                new_module: new.module,
                new_connection: new.connection,
                error: error_text(&e),
            };
            let banner = Banner::bad(
                format!("“{}” was not saved", s.name),
                Some("Your choices are kept below, with the reason: change them and Save again.".into()),
            );
            render_list(&state, &user, status, Some(banner), Some(&refill)).await
        }
        Err(e) => error_page(user.nav("scenarios"), e),
    }
}

fn saved_redirect(id: &str, notice: &str) -> Response {
    let id = percent_encode(id);
    Redirect::to(&format!("/scenarios?notice={notice}&s={id}#{id}")).into_response()
}

/// `POST /scenarios/{id}/steps/{position}/remove`: takes one step out.
pub(crate) async fn remove_step(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, position)): Path<(String, usize)>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let who = &user.session.principal;
    let s = match state.patchbay.get_scenario(who, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    if let Err(e) = check_version(&form, &s) {
        return render_list(
            &state,
            &user,
            StatusCode::CONFLICT,
            Some(Banner::bad("No step was removed", Some(error_text(&e)))),
            None,
        )
        .await;
    }
    if position >= s.steps.len() {
        return error_page(
            user.nav("scenarios"),
            ServiceError::NotFound(format!("“{}” has no step {}", s.name, position + 1)),
        );
    }
    let steps = s
        .steps
        .iter()
        .filter(|st| st.position != position)
        .map(|st| StepRequest { module: st.module.clone(), connection: live_connection(st).map(str::to_owned) })
        .collect();
    match state.patchbay.update_scenario(who, &s.id, ScenarioRequest { name: None, steps: Some(steps) }).await {
        Ok(saved) => saved_redirect(&saved.id, "removed"),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let banner = Banner::bad(format!("No step was removed from “{}”", s.name), Some(error_text(&e)));
            render_list(&state, &user, StatusCode::BAD_REQUEST, Some(banner), None).await
        }
        Err(e) => error_page(user.nav("scenarios"), e),
    }
}

/// `GET /scenarios/{id}/delete`: the confirmation.
pub(crate) async fn confirm_delete(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> Response {
    if let Some(refused) = may_not_manage(&user) {
        return refused;
    }
    let s = match state.patchbay.get_scenario(&user.session.principal, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    page(
        &state,
        StatusCode::OK,
        DeleteScenarioPage {
            title: format!("Delete “{}”?", s.name),
            nav: user.nav("scenarios"),
            csrf: user.csrf(),
            id: s.id.clone(),
            name: s.name.clone(),
            version: version_of(&s),
            steps: s
                .steps
                .iter()
                .map(|st| StepSummary { module_name: st.module_name.clone(), connection: st.connection_name.clone() })
                .collect(),
        },
    )
}

/// `POST /scenarios/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if !user.csrf_ok(&form) {
        return csrf_rejected();
    }
    let who = &user.session.principal;
    let s = match state.patchbay.get_scenario(who, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    if let Err(e) = check_version(&form, &s) {
        let banner = Banner::bad(format!("“{}” was not deleted", s.name), Some(error_text(&e)));
        return render_list(&state, &user, StatusCode::CONFLICT, Some(banner), None).await;
    }
    match state.patchbay.delete_scenario(who, &s.id).await {
        Ok(()) => Redirect::to("/scenarios?notice=deleted").into_response(),
        Err(e) => error_page(user.nav("scenarios"), e),
    }
}
