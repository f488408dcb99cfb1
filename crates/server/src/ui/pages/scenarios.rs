//! The pages of the Scenarios section: the list with its editor, the Add form and the delete
//! confirmation.

use askama::Template;
use askama_web::WebTemplate;

use super::{Frame, ScopeLine, SelectOption, TimeText};

/// A group of `<option>`s under an app's name.
pub(crate) struct OptGroup {
    pub label: String,
    /// The app's id (the new-step pickers narrow to the chosen module's app with it).
    pub app: String,
    pub options: Vec<SelectOption>,
}

/// The offer to create one connection for several steps of one app that need one.
pub(crate) struct SharedConnection {
    /// "Create one connection for steps 2 and 3".
    pub label: String,
    /// "Steps 2 and 3 run Demo Cloud modules and have no connection yet."
    pub text: String,
    /// The Add form made for those steps.
    pub href: String,
}

/// A step as shown.
pub(crate) struct StepLine {
    pub position: usize,
    pub module: String,
    pub module_name: String,
    pub provider_name: String,
    /// "an OpenAI", "a Demo Cloud".
    pub provider_with_article: String,
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
    /// Per app with several steps that need a connection: one connection for all of them.
    pub shared: Vec<SharedConnection>,
}

/// `GET /scenarios`.
#[derive(Template, WebTemplate)]
#[template(path = "scenarios.html")]
pub(crate) struct ScenariosPage {
    pub frame: Frame,
    pub scenarios: Vec<ScenarioLine>,
}

/// `GET /scenarios/new`.
#[derive(Template, WebTemplate)]
#[template(path = "scenario_new.html")]
pub(crate) struct NewScenarioPage {
    pub frame: Frame,
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
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub version: String,
    pub steps: Vec<StepSummary>,
}
