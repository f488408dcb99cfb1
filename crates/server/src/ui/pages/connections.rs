//! The pages of the Connections section: the list, the detail page, the app picker and the Add
//! form, the delete confirmation and receipt, and the interstitial before a consent page.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use patchbay_domain::provider::Category;
use patchbay_service::views::{AccessAdviceView, FieldView, ProviderView};

use super::{Card, Frame, SelectOption, TimeText, UsageLine, auth_label, hue, initial};

/// `GET /connections`.
#[derive(Template, WebTemplate)]
#[template(path = "connections.html")]
pub(crate) struct ConnectionsPage {
    pub frame: Frame,
    pub cards: Vec<Card>,
    pub total: usize,
    pub app_options: Vec<SelectOption>,
    pub status_options: Vec<SelectOption>,
    pub q: String,
    pub filtered: bool,
    /// The compact table instead of cards.
    pub table: bool,
    /// The list as cards / as a table, with the same filters.
    pub cards_href: String,
    pub table_href: String,
}

/// One non-secret or secret setting on the detail page.
pub(crate) struct SettingLine {
    pub label: String,
    pub value: String,
    pub secret: bool,
}

/// `GET /connections/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "connection.html")]
pub(crate) struct ConnectionPage {
    pub frame: Frame,
    /// The connection's card (one; a list so the shared card template can be included).
    pub cards: Vec<Card>,
    pub id: String,
    pub provider: String,
    pub provider_name: String,
    pub credential: String,
    pub settings: Vec<SettingLine>,
    /// What the provider said about the grant (key, value): non-secret connection metadata.
    pub metadata: Vec<(String, String)>,
    /// Patchbay cannot narrow what this connection may do (see [`ProviderView::full_access`]).
    pub full_access: bool,
    /// The service's own advice on restricting access on its side.
    pub advice: Option<AccessAdviceView>,
    /// Scopes the provider offers that are not granted (OAuth with granular scopes only).
    pub extra_scopes: Vec<ScopeChoice>,
    pub created: TimeText,
    pub updated: TimeText,
}

/// An app in the picker.
pub(crate) struct AppChoice {
    pub id: String,
    pub name: String,
    pub auth_label: &'static str,
    pub description: Option<String>,
    pub category: Category,
    pub initial: String,
    pub hue: u8,
    /// Lower-case text the search matches against (server-side and the live filter): the name
    /// and id, what the app does (description, module names, scope descriptions) and its
    /// category, so "send an email" or "invoices" finds an app whose name says neither.
    pub search: String,
}

impl AppChoice {
    pub fn new(p: &ProviderView) -> AppChoice {
        let mut search = vec![p.display_name.as_str(), p.id.as_str(), p.category.label()];
        search.extend(p.description.as_deref());
        search.extend(p.modules.iter().map(|m| m.name.as_str()));
        search.extend(p.scopes.iter().filter_map(|s| s.description.as_deref()));
        AppChoice {
            id: p.id.clone(),
            name: p.display_name.clone(),
            auth_label: auth_label(p.auth_mode),
            description: p.description.clone(),
            category: p.category,
            initial: initial(&p.display_name),
            hue: hue(&p.id),
            search: search.join(" ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
        }
    }

    /// Whether every word of `needle` (lower case) occurs in the app's search text.
    pub fn matches(&self, needle: &str) -> bool {
        needle.split_whitespace().all(|w| self.search.contains(w))
    }
}

/// One category heading of the picker and its apps.
pub(crate) struct AppGroup {
    /// The category's word, for the heading's anchor.
    pub word: &'static str,
    pub label: &'static str,
    pub apps: Vec<AppChoice>,
}

/// A category chip of the picker: a plain link, so the filter works without JavaScript.
pub(crate) struct CategoryChip {
    pub label: &'static str,
    pub href: String,
    /// How many apps (matching the search) it has.
    pub count: usize,
    pub current: bool,
}

/// `GET /connections/new`.
#[derive(Template, WebTemplate)]
#[template(path = "pick_app.html")]
pub(crate) struct PickAppPage {
    pub frame: Frame,
    pub q: String,
    /// The chosen category's word (empty: all), kept by the search form.
    pub category: String,
    pub chips: Vec<CategoryChip>,
    /// The apps that match, under their category headings in the catalog's order.
    pub groups: Vec<AppGroup>,
    /// Whether no app matches.
    pub empty: bool,
    /// "Connect a server by URL": the URL typed (re-filled after a refusal) and whether the
    /// advanced settings (own client) are open.
    pub discover_url: String,
    pub discover_advanced: bool,
}

/// A form input of the Add form (credential or setting).
pub(crate) struct InputField {
    /// `credential.<key>` or `setting.<key>`.
    pub input_name: String,
    pub label: String,
    pub secret: bool,
    pub required: bool,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    /// The value to re-fill after a failed save; always empty for secrets.
    pub value: String,
    /// The setting's listed values as (value, label), offered as suggestions.
    pub choices: Vec<(String, String)>,
}

impl InputField {
    pub fn new(prefix: &str, f: &FieldView, given: &HashMap<String, String>) -> InputField {
        let input_name = format!("{prefix}.{}", f.key);
        // A declared default fills the field until the user types something else.
        let value = if f.secret {
            String::new()
        } else {
            given.get(&input_name).cloned().or_else(|| f.default.clone()).unwrap_or_default()
        };
        InputField {
            input_name,
            label: f.label.clone(),
            secret: f.secret,
            required: f.required,
            help: f.help.clone(),
            placeholder: f.placeholder.clone(),
            value,
            choices: f.choices.iter().map(|c| (c.value.clone(), c.label.clone())).collect(),
        }
    }
}

/// A scope checkbox of the Add form.
pub(crate) struct ScopeChoice {
    pub scope: String,
    pub description: String,
    pub checked: bool,
    /// A default scope: always requested, shown checked and disabled.
    pub fixed: bool,
}

/// `GET /connections/new/{provider}`.
#[derive(Template, WebTemplate)]
#[template(path = "new_connection.html")]
pub(crate) struct NewConnectionPage {
    pub frame: Frame,
    pub app: AppChoice,
    pub error: Option<String>,
    pub name: String,
    pub credential_fields: Vec<InputField>,
    pub required_settings: Vec<InputField>,
    pub optional_settings: Vec<InputField>,
    pub show_advanced: bool,
    /// For an OAuth app whose platform client is not configured: which variables the operator
    /// sets, or that the user enters their own client under the advanced settings.
    pub client_notice: Option<String>,
    pub scopes: Vec<ScopeChoice>,
    pub granular: bool,
    pub is_oauth: bool,
    /// Patchbay cannot narrow what the connection may do: said next to the form's fields.
    pub full_access: bool,
    /// The service's own advice on restricting access on its side.
    pub advice: Option<AccessAdviceView>,
    /// Whether "Save without verifying" starts ticked (after the app could not be reached).
    pub skip_verify: bool,
    /// Set when the connection is made for one scenario step (it is bound to it on save).
    pub for_step: Option<StepContext>,
}

/// `GET /connections/{id}/credential`: replace an API key or password in place.
#[derive(Template, WebTemplate)]
#[template(path = "update_credential.html")]
pub(crate) struct UpdateCredentialPage {
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub provider_name: String,
    /// The current credential, described (kind and fingerprint, never the value).
    pub current: String,
    pub error: Option<String>,
    pub fields: Vec<InputField>,
    /// Whether "Save without verifying" starts ticked (after the app could not be reached).
    pub skip_verify: bool,
}

/// The scenario step an Add form is for.
pub(crate) struct StepContext {
    pub scenario: String,
    pub scenario_name: String,
    /// The steps' positions (0-based).
    pub steps: Vec<usize>,
    /// The same as the form sends them back: `1,2`.
    pub positions: String,
    /// The steps as the page numbers them: "step 2", "steps 2 and 3".
    pub which: String,
    /// Their modules' names: "Watch items and Create an item".
    pub module_names: String,
    /// Whether the connection is for more than one step.
    pub several: bool,
}

/// `GET /connections/{id}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "delete.html")]
pub(crate) struct DeletePage {
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub provider_name: String,
    pub used_by: Vec<UsageLine>,
}

/// One line of the revocation receipt.
pub(crate) struct ReceiptLine {
    pub credential: String,
    pub outcome: String,
    pub class: &'static str,
    pub detail: String,
}

/// The answer to `POST /connections/{id}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "receipt.html")]
pub(crate) struct ReceiptPage {
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub provider: String,
    pub secret_destroyed: bool,
    pub revocation: Vec<ReceiptLine>,
}

/// A page that sends the browser on to a consent page whose origin the CSP cannot name ahead of
/// time (its address depends on a connection's settings).
#[derive(Template, WebTemplate)]
#[template(path = "redirect.html")]
pub(crate) struct RedirectPage {
    pub frame: Frame,
    pub url: String,
    pub provider_name: String,
}
