//! The editor's Save form read and planned: the steps it sent, checked against the catalog and
//! the team's connections, and the steps set to *Add*.
//!
//! The service checks the same again when it stores the steps; the checks here exist for their
//! messages, which name the step as the form shows it ("Step 2", "The new step") and say what to
//! choose instead.

use std::collections::HashMap;

use patchbay_service::ServiceError;
use patchbay_service::scenarios::{ScenarioView, StepRequest};
use patchbay_service::views::{ConnectionView, ProviderView};

use super::{live_connection, provider_of};
use crate::ui::forms::FormData;

/// The value of the *Add* option of a connection picker.
const ADD: &str = "add";
/// The most steps a Save form is read for (the service allows 200 per scenario).
const MAX_FORM_STEPS: usize = 500;

/// A step as the Save form sent it.
pub(super) struct FormStep {
    pub module: String,
    /// `add`, a connection id, or empty.
    pub connection: String,
}

/// The steps of a Save form: `step.N.module` / `step.N.connection` for N = 0, 1, … and the
/// `new.module` / `new.connection` row.
pub(super) fn form_steps(form: &FormData) -> (Vec<FormStep>, FormStep) {
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

/// The steps to store and the positions of the steps set to *Add*, checking every module is in
/// the catalog and every chosen connection is the team's and of its module's app (the service
/// checks again).
pub(super) fn plan_steps(
    s: &ScenarioView,
    steps: &[FormStep],
    new: &FormStep,
    catalog: &HashMap<String, ProviderView>,
    connections: &[ConnectionView],
) -> Result<(Vec<StepRequest>, Vec<usize>), ServiceError> {
    let module_of =
        |id: &str| catalog.get(provider_of(id)).and_then(|p| p.modules.iter().find(|m| m.id == id).map(|m| (p, m)));
    let mut out = Vec::with_capacity(steps.len() + 1);
    let mut add_at = Vec::new();
    for (n, st) in steps.iter().enumerate() {
        let which = format!("Step {}", n + 1);
        let Some((provider, module)) = module_of(&st.module) else {
            return Err(ServiceError::Invalid(format!(
                "{which} runs `{}`, which is not in the catalog any more: remove that step first",
                st.module
            )));
        };
        let connection = if st.connection == ADD {
            add_at.push(n);
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
        add_at.push(out.len());
        None
    } else {
        chosen_connection("The new step", &new.connection, provider, &module.name, connections)?
    };
    out.push(StepRequest { module: module.id.clone(), connection });
    Ok((out, add_at))
}
