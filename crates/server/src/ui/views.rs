//! What the pages show: askama templates and the view models built from service views.
//!
//! Everything a template prints is computed here as plain text, so the templates hold no logic
//! beyond loops and conditions, and askama's HTML escaping applies to every value. Nothing here
//! is built from a credential: the service views carry metadata only (SECURITY S-06).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use patchbay_service::views::{ConnectionView, FieldView, ProviderView};
use time::OffsetDateTime;
use time::macros::format_description;

/// The top bar of a signed-in page.
pub(crate) struct Nav {
    pub login: String,
    pub role: String,
    pub csrf: String,
    pub section: &'static str,
    /// Whether the service has scenarios yet (the nav entry appears when it does).
    pub scenarios: bool,
    /// Whether the service has lifecycle events yet.
    pub events: bool,
}

/// A message at the top of a page. Its text is always chosen by the server (a fixed sentence or
/// stored data), never copied from the URL.
pub(crate) struct Banner {
    pub class: &'static str,
    pub title: String,
    pub detail: Option<String>,
}

impl Banner {
    pub fn ok(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "ok", title: title.into(), detail }
    }

    pub fn bad(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "bad", title: title.into(), detail }
    }

    pub fn warn(title: impl Into<String>, detail: Option<String>) -> Banner {
        Banner { class: "warn", title: title.into(), detail }
    }
}

/// A time, absolute and relative to now.
pub(crate) struct TimeText {
    pub iso: String,
    pub text: String,
    pub rel: String,
}

impl TimeText {
    pub fn new(t: OffsetDateTime, now: OffsetDateTime) -> TimeText {
        let utc = t.to_offset(time::UtcOffset::UTC);
        let iso = utc.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let text = utc.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).unwrap_or_default();
        TimeText { iso, text, rel: relative(t, now) }
    }
}

/// "in 3 days", "5 minutes ago", "just now".
pub(crate) fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (t - now).whole_seconds();
    let (n, future) = (secs.unsigned_abs(), secs > 0);
    let amount = match n {
        0..=59 => return "just now".to_owned(),
        60..=3_599 => plural(n / 60, "minute"),
        3_600..=86_399 => plural(n / 3_600, "hour"),
        _ => plural(n / 86_400, "day"),
    };
    if future { format!("in {amount}") } else { format!("{amount} ago") }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// How an auth mode is named to users.
pub(crate) fn auth_label(mode: &str) -> &'static str {
    match mode {
        "oauth2" => "OAuth 2.0",
        "oauth2_client_credentials" => "OAuth 2.0 client credentials",
        "api_key" => "API key",
        "basic" => "Username and password",
        _ => "Unknown sign-in method",
    }
}

/// A stable colour (one of eight CSS classes) for an app's initial: inline styles are blocked
/// by the pages' CSP.
pub(crate) fn hue(provider: &str) -> u8 {
    (provider.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 8) as u8
}

/// The first letter of an app's name, upper case.
pub(crate) fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect())
}

/// A granted or missing scope with its description.
pub(crate) struct ScopeLine {
    pub scope: String,
    pub description: Option<String>,
}

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
    /// Where its forms send the browser back to: `list` or `detail`.
    pub back: &'static str,
    /// Whether the inline rename form starts open (after a failed rename).
    pub rename_open: bool,
}

/// Status badge: label, CSS class, and the explanatory line under the title.
fn status_of(c: &ConnectionView, now: OffsetDateTime) -> (String, &'static str, Option<String>, &'static str) {
    let reason = c.status_reason.clone();
    match c.status.as_str() {
        "active" => match c.reauthorize_by {
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
        "pending" => {
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
        "needs_reauth" => (
            "Needs reauthorization".into(),
            "bad",
            Some(reason.unwrap_or_else(|| "The app no longer accepts the credential.".into())),
            "",
        ),
        "degraded" => (
            "Degraded".into(),
            "warn",
            Some(reason.unwrap_or_else(|| "The app could not be reached; Patchbay retries.".into())),
            "warn",
        ),
        "revoked" => ("Revoked".into(), "muted", reason, "info"),
        other => (other.to_owned(), "muted", reason, "info"),
    }
}

impl Card {
    /// Builds a card; `provider` is `None` when the app left the catalog.
    pub fn new(c: &ConnectionView, provider: Option<&ProviderView>, now: OffsetDateTime, back: &'static str) -> Card {
        let (status_label, status_class, status_note, note_class) = status_of(c, now);
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
        let is_oauth = c.auth_mode == "oauth2";
        Card {
            id: c.id.clone(),
            name: c.name.clone(),
            provider_name: c.provider_name.clone(),
            auth_label: auth_label(&c.auth_mode),
            initial: initial(&c.provider_name),
            hue: hue(&c.provider),
            account: c.account.clone(),
            status: c.status.clone(),
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
            token_expiry: c.expires_at.map(|t| TimeText::new(t, now)),
            grant_expiry: c.reauthorize_by.map(|t| TimeText::new(t, now)),
            last_verified: c.last_verified_at.map(|t| TimeText::new(t, now)),
            last_failure,
            used_by: c.used_by.iter().map(UsageLine::new).collect(),
            is_oauth,
            back,
            rename_open: false,
        }
    }
}

/// A `<select>` option.
pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The statuses a user can filter by, with their labels.
pub(crate) const STATUS_FILTERS: [(&str, &str); 5] = [
    ("active", "Active"),
    ("pending", "Pending"),
    ("needs_reauth", "Needs reauthorization"),
    ("degraded", "Degraded"),
    ("revoked", "Revoked"),
];

/// `GET /login`.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub next: String,
    pub login: String,
    pub error: Option<String>,
    pub signed_out: bool,
    pub expired: bool,
}

/// `GET /connections`.
#[derive(Template, WebTemplate)]
#[template(path = "connections.html")]
pub(crate) struct ConnectionsPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub can_manage: bool,
    pub banner: Option<Banner>,
    pub cards: Vec<Card>,
    pub total: usize,
    pub app_options: Vec<SelectOption>,
    pub status_options: Vec<SelectOption>,
    pub q: String,
    pub filtered: bool,
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
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub can_manage: bool,
    pub banner: Option<Banner>,
    /// The connection's card (one; a list so the shared card template can be included).
    pub cards: Vec<Card>,
    pub id: String,
    pub provider: String,
    pub provider_name: String,
    pub credential: String,
    pub settings: Vec<SettingLine>,
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
    pub initial: String,
    pub hue: u8,
    /// Lower-case text the live filter matches against.
    pub search: String,
}

impl AppChoice {
    pub fn new(p: &ProviderView) -> AppChoice {
        AppChoice {
            id: p.id.clone(),
            name: p.display_name.clone(),
            auth_label: auth_label(&p.auth_mode),
            description: p.description.clone(),
            initial: initial(&p.display_name),
            hue: hue(&p.id),
            search: format!("{} {} {}", p.display_name, p.id, p.description.as_deref().unwrap_or_default())
                .to_lowercase(),
        }
    }
}

/// `GET /connections/new`.
#[derive(Template, WebTemplate)]
#[template(path = "pick_app.html")]
pub(crate) struct PickAppPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub q: String,
    pub apps: Vec<AppChoice>,
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
}

impl InputField {
    pub fn new(prefix: &str, f: &FieldView, given: &HashMap<String, String>) -> InputField {
        let input_name = format!("{prefix}.{}", f.key);
        let value = if f.secret { String::new() } else { given.get(&input_name).cloned().unwrap_or_default() };
        InputField {
            input_name,
            label: f.label.clone(),
            secret: f.secret,
            required: f.required,
            help: f.help.clone(),
            placeholder: f.placeholder.clone(),
            value,
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
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub app: AppChoice,
    pub error: Option<String>,
    pub name: String,
    pub credential_fields: Vec<InputField>,
    pub required_settings: Vec<InputField>,
    pub optional_settings: Vec<InputField>,
    pub show_advanced: bool,
    pub scopes: Vec<ScopeChoice>,
    pub granular: bool,
    pub is_oauth: bool,
    /// Set when the connection is made for one scenario step (it is bound to it on save).
    pub for_step: Option<StepContext>,
}

/// The scenario step an Add form is for.
pub(crate) struct StepContext {
    pub scenario: String,
    pub scenario_name: String,
    pub position: usize,
    pub module_name: String,
}

/// `GET /connections/{id}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "delete.html")]
pub(crate) struct DeletePage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
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
    pub title: String,
    pub nav: Option<Nav>,
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
    pub title: String,
    pub nav: Option<Nav>,
    pub url: String,
    pub provider_name: String,
}

/// An error page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub message: String,
    pub back: String,
    pub back_label: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn relative_times_read_naturally() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now + Duration::days(3), now), "in 3 days");
        assert_eq!(relative(now - Duration::minutes(1), now), "1 minute ago");
        assert_eq!(relative(now - Duration::hours(5), now), "5 hours ago");
    }

    #[test]
    fn initials_and_hues_are_stable() {
        assert_eq!(initial("github"), "G");
        assert_eq!(initial("  "), "?");
        assert_eq!(hue("github"), hue("github"));
        assert!(hue("anything") < 8);
    }
}
