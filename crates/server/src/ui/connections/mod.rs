//! The Connections section: list with filters, detail, Add (app picker and form), Verify, Rename,
//! Reauthorize, Update credential (API key or password, in place), and Delete with a
//! confirmation page and the revocation receipt (a page of its own, which the Delete redirects to).
//!
//! Changes are POST → redirect → GET, so a reload never repeats an action; the page the browser
//! lands on reads what happened from the database (the connection's status, last verify,
//! reason) and takes only a fixed word (`notice`, `outcome`) from the URL.
//!
//! `banners` turns those words into messages, `list` and `detail` are the two views, `actions`
//! the card's buttons, `add` the Add flow (`picker` arranges its app picker), `credential` the Update credential form, `delete` the
//! confirmation and the receipt.

mod actions;
mod add;
mod banners;
mod credential;
mod delete;
mod detail;
mod list;
mod picker;

use std::collections::HashMap;

pub(crate) use actions::{discard, reauthorize, rename, to_provider_in, verify};
pub(crate) use add::{create, discover, new_form, pick_app};
pub(crate) use banners::partial_banner;
pub(crate) use credential::{form as credential_form, save as save_credential};
pub(crate) use delete::{confirm_delete, delete, receipt};
pub(crate) use detail::detail;
pub(crate) use list::list;
use patchbay_service::views::ProviderView;
use time::OffsetDateTime;

use crate::AppState;

/// The section's name in the top bar.
const SECTION: &str = "connections";

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn providers_by_id(state: &AppState) -> HashMap<String, ProviderView> {
    state.patchbay.list_providers().into_iter().map(|p| (p.id.clone(), p)).collect()
}

/// [`providers_by_id`] with the team's discovered providers too; the catalog alone when they
/// cannot be read (the pages still render, only without their scope descriptions).
async fn team_providers_by_id(state: &AppState, user: &crate::ui::session::WebUser) -> HashMap<String, ProviderView> {
    match state.patchbay.list_providers_for(&user.session.principal).await {
        Ok(list) => list.into_iter().map(|p| (p.id.clone(), p)).collect(),
        Err(_) => providers_by_id(state),
    }
}

fn now(state: &AppState) -> OffsetDateTime {
    state.patchbay.now()
}
