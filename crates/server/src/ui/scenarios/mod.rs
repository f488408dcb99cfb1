//! The Scenarios section: every scenario of the team with, per step, the connection it runs
//! through and whether it can run — and the editor that builds them in the browser.
//!
//! * *Add* (page head) opens a form that creates a scenario from its name.
//! * Each scenario is one form: per step a connection picker whose first option is *Add*, the
//!   others the team's connections of the step's app; a *New step* row with a module picker
//!   (every app's modules, grouped by app) and the same connection picker. *Save* replaces the
//!   steps; a step set to *Add* then goes on to the Add-connection form made for that step
//!   (`/connections/new/{provider}?scenario=…&step=…`), which asks for exactly the module's
//!   scopes and binds the new connection to the step. Several steps of the same app set to *Add*
//!   share one form (`…&steps=1,2`) and one connection with the union of their scopes.
//! * When several steps of one app have no connection, the scenario offers *Create one
//!   connection for steps 2 and 3*: the same shared form.
//! * *Remove* takes one step out; *Delete* removes the scenario after a confirmation page.
//! * A step whose connection lacks scopes offers *Extend permissions* (a reauthorization of the
//!   same connection asking for the module's scopes: `extend_permissions` in docs/api.md,
//!   "Scenarios").
//!
//! The step pickers live in each step's list item but belong to the scenario's Save form through
//! the `form` attribute, so the per-step Remove and Extend permissions forms are not nested in
//! it. Every form carries the session's anti-CSRF token and the scenario's version (its last
//! change): a form from a page that is out of date changes nothing.
//!
//! `lines` builds what the list shows, `banners` the messages after a redirect, `list` the page,
//! `editor` the Add, Save and Remove forms (`plan` reads and checks a Save), `delete` the
//! confirmation and the deletion.

mod banners;
mod delete;
mod editor;
mod lines;
mod list;
mod plan;

use std::collections::HashMap;

use axum::response::{IntoResponse, Redirect, Response};
pub(crate) use delete::{confirm_delete, delete};
pub(crate) use editor::{create, new_form, remove_step, save};
pub(crate) use list::{list, show};
use patchbay_service::ServiceError;
use patchbay_service::scenarios::{ScenarioView, StepView};
use patchbay_service::views::ProviderView;

use super::forms::FormData;
use super::session::percent_encode;

/// The section's name in the top bar.
const SECTION: &str = "scenarios";
/// What the role check refuses on the editor's pages.
const CHANGE_SCENARIOS: &str = "change scenarios";

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

fn providers_by_id(catalog: &[ProviderView]) -> HashMap<String, ProviderView> {
    catalog.iter().map(|p| (p.id.clone(), p.clone())).collect()
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

/// Back to the list at the scenario, with a notice word.
fn saved_redirect(id: &str, notice: &str) -> Response {
    let id = percent_encode(id);
    Redirect::to(&format!("/scenarios?notice={notice}&s={id}#{id}")).into_response()
}
