//! The Scenarios page: every scenario of the team with, per step, the connection it runs through
//! and whether it can run — and the one action that fixes it: *Add* a connection made for that
//! step, or *Extend permissions* of its connection (a reauthorization of the same connection
//! asking for the module's scopes, DESIGN §1.4). Scenarios themselves are edited over the API.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use patchbay_service::scenarios::{ScenarioView, StepView};
use patchbay_service::views::ProviderView;
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::WebUser;
use super::views::{Banner, Nav, ScopeLine, TimeText, hue, initial};
use super::{error_page, page};
use crate::AppState;

/// A step as shown.
pub(crate) struct StepLine {
    pub position: usize,
    pub module: String,
    pub module_name: String,
    pub provider: String,
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
}

/// A scenario as shown.
pub(crate) struct ScenarioLine {
    pub id: String,
    pub name: String,
    pub ready: bool,
    pub updated: TimeText,
    pub steps: Vec<StepLine>,
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

/// Query of `GET /scenarios`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScenariosQuery {
    /// Set by the OAuth callback after Extend permissions or Add from a step.
    outcome: Option<String>,
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

pub(crate) fn step_line(st: &StepView, providers: &HashMap<String, ProviderView>) -> StepLine {
    let provider_id = st.module.split_once('.').map_or(st.module.as_str(), |(p, _)| p).to_owned();
    let provider = providers.get(&provider_id);
    let provider_name = provider.map_or_else(|| provider_id.clone(), |p| p.display_name.clone());
    let (label, class) = step_status(&st.status);
    StepLine {
        position: st.position,
        module: st.module.clone(),
        module_name: st.module_name.clone(),
        initial: initial(&provider_name),
        hue: hue(&provider_id),
        provider: provider_id,
        provider_name,
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
    }
}

fn scenario_line(s: &ScenarioView, providers: &HashMap<String, ProviderView>, now: OffsetDateTime) -> ScenarioLine {
    ScenarioLine {
        id: s.id.clone(),
        name: s.name.clone(),
        ready: s.ready,
        updated: TimeText::new(s.updated_at, now),
        steps: s.steps.iter().map(|st| step_line(st, providers)).collect(),
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

/// `GET /scenarios`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    query: Result<Query<ScenariosQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let scenarios = match state.patchbay.list_scenarios(&user.session.principal).await {
        Ok(v) => v,
        Err(e) => return error_page(user.nav("scenarios"), e),
    };
    let providers: HashMap<String, ProviderView> =
        state.patchbay.list_providers().into_iter().map(|p| (p.id.clone(), p)).collect();
    let now = state.patchbay.clock.now();
    page(
        &state,
        StatusCode::OK,
        ScenariosPage {
            title: "Scenarios".into(),
            nav: user.nav("scenarios"),
            csrf: user.csrf(),
            can_manage: user.can_manage(),
            banner: q.outcome.as_deref().and_then(outcome_banner),
            scenarios: scenarios.iter().map(|s| scenario_line(s, &providers, now)).collect(),
        },
    )
}
