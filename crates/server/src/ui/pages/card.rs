//! A connection as a card: the list and the detail page show the same one (`card.html`).

use patchbay_domain::connection::ConnectionStatus;
use patchbay_service::views::{AuthModeView, ConnectionView, ProviderView};
use time::OffsetDateTime;

use super::{ScopeLine, TimeText, auth_label, hue, initial};

/// A scenario step that uses a connection.
pub(crate) struct UsageLine {
    pub scenario: String,
    pub text: String,
}

impl UsageLine {
    pub fn new(u: &patchbay_service::views::UsageView) -> UsageLine {
        UsageLine {
            scenario: u.scenario.clone(),
            text: format!("“{}” · step {} · {}", u.scenario_name, u.step + 1, u.module),
        }
    }
}

/// A failed verify shown under "Last verified".
pub(crate) struct Failure {
    pub at: TimeText,
    pub reason: String,
    /// False when the status line above already says the same.
    pub show_reason: bool,
}

/// A grant expiring within this many days is shown as "Expires in N days" instead of "Active".
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 14;

/// One connection as a card.
pub(crate) struct Card {
    pub id: String,
    pub name: String,
    pub provider_name: String,
    pub auth_label: &'static str,
    pub initial: String,
    pub hue: u8,
    pub account: Option<String>,
    /// The platform's end user it was made for: (label, id to search the list by).
    pub end_user: Option<(String, String)>,
    pub status: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub status_note: Option<String>,
    pub note_class: &'static str,
    pub granted: Vec<ScopeLine>,
    pub all_scopes: bool,
    pub missing: Vec<ScopeLine>,
    pub token_expiry: Option<TimeText>,
    pub grant_expiry: Option<TimeText>,
    pub last_verified: Option<TimeText>,
    pub last_failure: Option<Failure>,
    pub used_by: Vec<UsageLine>,
    pub is_oauth: bool,
    /// Whether "Update credential" is offered (API key or password).
    pub can_update_credential: bool,
    /// Where its forms send the browser back to: `list` or `detail`.
    pub back: &'static str,
    /// Whether the inline rename form starts open (after a failed rename).
    pub rename_open: bool,
}

/// Status badge: label, CSS class, and the explanatory line under the title.
fn card_status(c: &ConnectionView, now: OffsetDateTime) -> (String, &'static str, Option<String>, &'static str) {
    let reason = c.status_reason.clone();
    match c.status {
        // Saved with "Save without verifying" / `verify: false` and not checked since: active,
        // but not shown as if the app had confirmed it.
        ConnectionStatus::Active if c.unverified => (
            "Active · not verified".into(),
            "info",
            Some(format!("Saved without checking it with {}: click Verify to check it now.", c.provider_name)),
            "info",
        ),
        ConnectionStatus::Active => match c.reauthorize_by {
            Some(by) if by <= now => (
                "Grant expired".into(),
                "bad",
                Some("The access granted to Patchbay has expired: reauthorize to renew it.".into()),
                "",
            ),
            Some(by) if (by - now).whole_days() < EXPIRY_WARNING_DAYS => {
                let days = (by - now).whole_days();
                let label = match days {
                    0 => "Expires today".to_owned(),
                    1 => "Expiring in 1 day".to_owned(),
                    n => format!("Expiring in {n} days"),
                };
                (label, "warn", Some("Reauthorize before then to keep scenarios running.".into()), "warn")
            }
            _ => ("Active".into(), "ok", None, ""),
        },
        ConnectionStatus::Pending => {
            // A pending connection's reason is either "waiting for consent …" or why the last
            // consent attempt failed; only the colour depends on which.
            let waiting = reason.as_deref().is_none_or(|r| r.starts_with("waiting"));
            (
                "Pending".into(),
                "info",
                Some(reason.unwrap_or_else(|| "Waiting for access to be granted.".into())),
                if waiting { "info" } else { "" },
            )
        }
        ConnectionStatus::NeedsReauth => (
            "Needs reauthorization".into(),
            "bad",
            Some(reason.unwrap_or_else(|| "The app no longer accepts the credential.".into())),
            "",
        ),
        ConnectionStatus::Degraded => (
            "Degraded".into(),
            "warn",
            Some(reason.unwrap_or_else(|| "The app could not be reached; Patchbay retries.".into())),
            "warn",
        ),
        ConnectionStatus::Revoked => ("Revoked".into(), "muted", reason, "info"),
    }
}

impl Card {
    /// Builds a card; `provider` is `None` when the app left the catalog.
    pub fn new(c: &ConnectionView, provider: Option<&ProviderView>, now: OffsetDateTime, back: &'static str) -> Card {
        let (status_label, status_class, status_note, note_class) = card_status(c, now);
        let describe = |scope: &str| {
            provider.and_then(|p| p.scopes.iter().find(|s| s.scope == scope).and_then(|s| s.description.clone()))
        };
        let last_failure = c.last_verify.as_ref().filter(|v| !v.ok).map(|v| {
            let reason = v.error.clone().unwrap_or_else(|| "no reason given".to_owned());
            Failure {
                at: TimeText::new(v.checked_at, now),
                show_reason: status_note.as_deref() != Some(reason.as_str()),
                reason,
            }
        });
        let is_oauth = c.auth_mode == AuthModeView::Oauth2;
        Card {
            id: c.id.clone(),
            name: c.name.clone(),
            provider_name: c.provider_name.clone(),
            auth_label: auth_label(c.auth_mode),
            initial: initial(&c.provider_name),
            hue: hue(&c.provider),
            account: c.account.clone(),
            end_user: c.end_user.as_ref().map(|u| match &u.display_name {
                Some(name) => (format!("{name} ({})", u.id), u.id.clone()),
                None => (u.id.clone(), u.id.clone()),
            }),
            status: c.status.as_str().to_owned(),
            status_label,
            status_class,
            status_note,
            note_class,
            granted: c
                .granted_scopes
                .iter()
                .map(|s| ScopeLine { scope: s.scope.clone(), description: s.description.clone() })
                .collect(),
            all_scopes: c.full_access,
            missing: c
                .missing_scopes
                .iter()
                .map(|s| ScopeLine { scope: s.clone(), description: describe(s) })
                .collect(),
            // A rejected credential's expiry would read as if it still worked.
            token_expiry: c
                .expires_at
                .filter(|_| c.status != ConnectionStatus::NeedsReauth)
                .map(|t| TimeText::new(t, now)),
            grant_expiry: c.reauthorize_by.map(|t| TimeText::new(t, now)),
            last_verified: c.last_verified_at.map(|t| TimeText::new(t, now)),
            last_failure,
            used_by: c.used_by.iter().map(UsageLine::new).collect(),
            is_oauth,
            can_update_credential: matches!(c.auth_mode.as_str(), "api_key" | "basic"),
            back,
            rename_open: false,
        }
    }
}
