//! What the list shows of a scenario and its steps: status labels, the connection and module
//! pickers, and the values of a failed Save put back into them.

use std::collections::HashMap;

use patchbay_domain::connection::ConnectionStatus;
use patchbay_service::scenarios::{ScenarioView, StepStatus, StepView};
use patchbay_service::views::{ConnectionView, ProviderView};
use time::OffsetDateTime;

use super::{live_connection, provider_of, version_of};
use crate::ui::pages::{
    OptGroup, STATUS_FILTERS, ScenarioLine, ScopeLine, SelectOption, SharedConnection, StepLine, TimeText, hue,
    initial, steps_phrase, with_article,
};
use crate::ui::session::percent_encode;

/// What a failed Save sent, to show it again next to the error.
pub(super) struct Refill {
    pub scenario: String,
    /// Connection picker values by step position (when the step still runs the same module).
    pub steps: HashMap<usize, (String, String)>,
    pub new_module: String,
    pub new_connection: String,
    pub error: String,
}

fn step_status(status: StepStatus) -> (&'static str, &'static str) {
    match status {
        StepStatus::Ready => ("Ready", "ok"),
        StepStatus::NeedsConnection => ("Needs a connection", "warn"),
        StepStatus::ConnectionPending => ("Connection pending", "info"),
        StepStatus::ConnectionNeedsReauth => ("Connection needs reauthorization", "bad"),
        StepStatus::ConnectionDegraded => ("Connection degraded", "warn"),
        StepStatus::MissingScopes => ("Missing permissions", "bad"),
        StepStatus::UnknownModule => ("Unknown module", "bad"),
    }
}

/// How a connection is named in a picker: its name, and its status unless it is active.
fn connection_label(c: &ConnectionView) -> String {
    match STATUS_FILTERS.iter().find(|(v, _)| *v == c.status) {
        Some((_, label)) if c.status != ConnectionStatus::Active => format!("{} ({})", c.name, label.to_lowercase()),
        _ => c.name.clone(),
    }
}

/// The picker's choices: the app's connections, without the never-granted (`pending`) ones
/// unless it is the one already chosen.
fn connection_options(connections: &[ConnectionView], provider: &str, selected: Option<&str>) -> Vec<SelectOption> {
    connections
        .iter()
        .filter(|c| c.provider == provider && (c.status != ConnectionStatus::Pending || selected == Some(&c.id)))
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
            OptGroup { label: p.display_name.clone(), app: p.id.clone(), options }
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
        .filter(|c| c.status != ConnectionStatus::Pending || c.id == selected)
        .map(|c| {
            let name = providers.get(&c.provider).map_or_else(|| c.provider_name.clone(), |p| p.display_name.clone());
            (c.provider.clone(), name)
        })
        .collect();
    apps.sort_by_key(|(id, name)| (name.to_lowercase(), id.clone()));
    apps.dedup();
    apps.into_iter()
        .map(|(id, name)| OptGroup {
            label: name,
            options: connection_options(connections, &id, Some(selected)),
            app: id,
        })
        .collect()
}

fn step_line(
    st: &StepView,
    providers: &HashMap<String, ProviderView>,
    connections: &[ConnectionView],
    chosen: Option<&str>,
) -> StepLine {
    let provider_id = provider_of(&st.module).to_owned();
    let provider = providers.get(&provider_id);
    let provider_name = provider.map_or_else(|| provider_id.clone(), |p| p.display_name.clone());
    let (label, class) = step_status(st.status);
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
        status: st.status.as_str().to_owned(),
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
        provider_with_article: with_article(&provider_name),
        provider_name,
    }
}

/// The Add-form address for steps of `provider` of scenario `id`: `step=N` for one, `steps=…`
/// for several (one connection for all of them).
pub(super) fn add_form_href(provider: &str, id: &str, positions: &[usize]) -> String {
    let query = match positions {
        [one] => format!("step={one}"),
        many => format!("steps={}", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
    };
    format!("/connections/new/{}?scenario={}&{query}", percent_encode(provider), percent_encode(id))
}

/// Per app with more than one step that has no connection (in the order of their first step):
/// the offer to create one connection for all of them, with the union of their scopes.
fn shared_connections(s: &ScenarioView, providers: &HashMap<String, ProviderView>) -> Vec<SharedConnection> {
    let mut apps: Vec<(&str, Vec<usize>)> = Vec::new();
    for st in &s.steps {
        let app = provider_of(&st.module);
        let known = providers.get(app).is_some_and(|p| p.modules.iter().any(|m| m.id == st.module));
        if st.status != StepStatus::NeedsConnection || !known {
            continue;
        }
        match apps.iter_mut().find(|(a, _)| *a == app) {
            Some((_, positions)) => positions.push(st.position),
            None => apps.push((app, vec![st.position])),
        }
    }
    apps.into_iter()
        .filter(|(_, positions)| positions.len() > 1)
        .map(|(app, positions)| {
            let name = providers.get(app).map_or(app, |p| p.display_name.as_str());
            let which = steps_phrase(&positions);
            SharedConnection {
                label: format!("Create one connection for {which}"),
                text: format!(
                    "{}{} run {name} modules and have no connection yet: one connection can serve them all, \
                     with what they need together.",
                    which[..1].to_uppercase(),
                    &which[1..]
                ),
                href: add_form_href(app, &s.id, &positions),
            }
        })
        .collect()
}

pub(super) fn scenario_line(
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
        shared: shared_connections(s, providers),
    }
}
