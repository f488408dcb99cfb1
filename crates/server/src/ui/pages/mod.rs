//! What the pages show: the askama page structs and the view models built from service views,
//! one file per section, every page embedding one [`Frame`].
//!
//! Everything a template prints is computed here as plain text, so the templates hold no logic
//! beyond loops and conditions, and askama's HTML escaping applies to every value. Nothing here
//! is built from a credential: the service views carry metadata only (docs/security.md S-06).

mod card;
mod common;
mod connect;
mod connections;
mod events;
mod frame;
mod scenarios;

pub(crate) use card::{Card, UsageLine};
pub(crate) use common::{
    ErrorPage, LoginPage, STATUS_FILTERS, ScopeLine, SelectOption, TimeText, and_list, auth_label, hue, initial,
    steps_phrase, with_article,
};
pub(crate) use connect::{ConnectForm, ConnectPage, ConnectResult, ConnectView};
pub(crate) use connections::{
    AppChoice, AppGroup, CategoryChip, ConnectionPage, ConnectionsPage, DeletePage, InputField, NewConnectionPage,
    PickAppPage, ReceiptLine, ReceiptPage, RedirectPage, ScopeChoice, SettingLine, StepContext, UpdateCredentialPage,
};
pub(crate) use events::{EventLine, EventsPage};
pub(crate) use frame::{Banner, Frame, Nav};
pub(crate) use scenarios::{
    DeleteScenarioPage, NewScenarioPage, OptGroup, ScenarioLine, ScenariosPage, SharedConnection, StepLine, StepSummary,
};
