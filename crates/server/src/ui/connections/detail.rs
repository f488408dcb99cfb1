//! `GET /connections/{id}`: one connection's card, the scopes it could be extended with, and its
//! details (credential kind, settings, times).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use patchbay_service::views::{ConnectionView, CredentialKind, CredentialState, ProviderView};
use serde::Deserialize;

use super::banners::{callback_banner, notice_banner};
use super::{SECTION, now, team_providers_by_id};
use crate::AppState;
use crate::extract::LenientQuery;
use crate::ui::pages::{Banner, Card, ConnectionPage, ScopeChoice, SettingLine, TimeText};
use crate::ui::render::{UiResult, page};
use crate::ui::session::WebUser;

/// Query of `GET /connections/{id}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    /// Set by the OAuth callback: `connected`, `denied`, `error`, `account_mismatch`.
    outcome: Option<String>,
    /// What just happened here: `verified`, `renamed`, `created`, `credential_updated`.
    notice: Option<String>,
}

/// `GET /connections/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    LenientQuery(q): LenientQuery<DetailQuery>,
) -> UiResult {
    let c = state.patchbay.get_connection(&user.session.principal, &id).await.map_err(user.fail(SECTION))?;
    let now = now(&state);
    let banner = q
        .outcome
        .as_deref()
        .and_then(|o| callback_banner(o, &c))
        .or_else(|| q.notice.as_deref().and_then(|n| notice_banner(n, &c, now)));
    Ok(detail_page(&state, &user, StatusCode::OK, &c, banner, false).await)
}

/// Renders the detail page of a loaded connection (also after a failed rename, with the rename
/// form open).
pub(super) async fn detail_page(
    state: &AppState,
    user: &WebUser,
    status: StatusCode,
    c: &ConnectionView,
    banner: Option<Banner>,
    rename_open: bool,
) -> Response {
    let providers = team_providers_by_id(state, user).await;
    let provider = providers.get(&c.provider);
    let now = now(state);
    let mut card = Card::new(c, provider, now, "detail");
    card.rename_open = rename_open;
    let extra_scopes = if card.is_oauth { extra_scopes(c, provider) } else { Vec::new() };
    page(
        state,
        status,
        ConnectionPage {
            frame: user.frame(SECTION, c.name.clone()).with_banner(banner),
            cards: vec![card],
            id: c.id.clone(),
            provider: c.provider.clone(),
            provider_name: c.provider_name.clone(),
            credential: credential_text(c),
            settings: setting_lines(c, provider),
            metadata: c.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            full_access: provider.is_some_and(ProviderView::full_access),
            advice: provider.and_then(|p| p.access_advice.clone()),
            extra_scopes,
            created: TimeText::new(c.created_at, now),
            updated: TimeText::new(c.updated_at, now),
        },
    )
}

/// The settings, by their catalog labels; secret ones only as "set".
fn setting_lines(c: &ConnectionView, provider: Option<&ProviderView>) -> Vec<SettingLine> {
    let label_of = |key: &str| {
        provider
            .and_then(|p| p.settings.iter().find(|s| s.key == key))
            .map_or_else(|| key.to_owned(), |s| s.label.clone())
    };
    let mut settings: Vec<SettingLine> =
        c.settings.iter().map(|(k, v)| SettingLine { label: label_of(k), value: v.clone(), secret: false }).collect();
    settings.extend(c.secret_settings.iter().map(|k| SettingLine {
        label: label_of(k),
        value: String::new(),
        secret: true,
    }));
    settings
}

/// What kind of credential is stored, and its fingerprint.
pub(super) fn credential_text(c: &ConnectionView) -> String {
    let kind = match c.credential.kind {
        CredentialKind::ApiKey => "API key",
        CredentialKind::Basic => "Username and password",
        CredentialKind::Oauth2 => "OAuth 2.0 tokens",
        CredentialKind::Unknown => "Credential",
    };
    match (&c.credential.fingerprint, c.credential.state) {
        (Some(fp), CredentialState::Set) => format!("{kind} · stored encrypted · fingerprint {fp}"),
        (_, CredentialState::Set) => format!("{kind} · stored encrypted"),
        (_, CredentialState::NotSet) => format!("{kind} · not stored yet"),
    }
}

/// The scopes an OAuth connection could be extended with: offered, not granted, not default
/// (granular providers only).
fn extra_scopes(c: &ConnectionView, provider: Option<&ProviderView>) -> Vec<ScopeChoice> {
    match provider {
        Some(p) if p.granular_scopes => p
            .scopes
            .iter()
            .filter(|s| !c.granted_scopes.iter().any(|g| g.scope == s.scope) && !p.default_scopes.contains(&s.scope))
            .map(|s| ScopeChoice {
                scope: s.scope.clone(),
                description: s.description.clone().unwrap_or_default(),
                checked: false,
                fixed: false,
            })
            .collect(),
        _ => Vec::new(),
    }
}
