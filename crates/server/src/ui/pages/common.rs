//! What several sections' pages share: times, labels, app initials and colours, scope lines,
//! select options, and the sign-in and error pages.

use askama::Template;
use askama_web::WebTemplate;
use patchbay_domain::connection::ConnectionStatus;
use patchbay_service::views::AuthModeView;
use time::OffsetDateTime;
use time::macros::format_description;

use super::Frame;

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
pub(crate) fn auth_label(mode: impl Into<AuthModeView>) -> &'static str {
    match mode.into() {
        AuthModeView::Oauth2 => "OAuth 2.0",
        AuthModeView::Oauth2ClientCredentials => "OAuth 2.0 client credentials",
        AuthModeView::ApiKey => "API key",
        AuthModeView::Basic => "Username and password",
        AuthModeView::Unknown => "Unknown sign-in method",
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

/// "a" or "an" before `name`, by how it sounds: "an OpenAI", "an SMS app", "a Unicorn", "a
/// GitHub", "an hour". A heuristic on spelling: acronyms by the name of their first letter,
/// words by their first letter, with the common exceptions (a "you" sound, a silent h).
pub(crate) fn article(name: &str) -> &'static str {
    let word = name.trim_start().split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default();
    let Some(first) = word.chars().next() else { return "a" };
    let acronym = word.chars().count() > 1 && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if acronym {
        // Letters whose name starts with a vowel sound: "an F…", "an S…", "an X…".
        return if "AEFHILMNORSX".contains(first) { "an" } else { "a" };
    }
    let lower = word.to_lowercase();
    let you_sound = ["uni", "use", "usa", "usu", "uti", "ura", "uro", "eu", "one", "once"];
    if you_sound.iter().any(|p| lower.starts_with(p)) {
        return "a";
    }
    if ["hour", "honest", "honor", "honour", "heir"].iter().any(|p| lower.starts_with(p)) {
        return "an";
    }
    if "aeiou".contains(lower.chars().next().unwrap_or('x')) { "an" } else { "a" }
}

/// `name` with its article: "an OpenAI".
pub(crate) fn with_article(name: &str) -> String {
    format!("{} {name}", article(name))
}

/// Items joined as a sentence says them: "a", "a and b", "a, b and c".
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

/// Steps as the page numbers them (from 1), for 0-based positions: "step 2", "steps 2 and 3".
pub(crate) fn steps_phrase(positions: &[usize]) -> String {
    let numbers: Vec<String> = positions.iter().map(|p| (p + 1).to_string()).collect();
    format!("{} {}", if numbers.len() == 1 { "step" } else { "steps" }, and_list(&numbers))
}

/// A granted or missing scope with its description.
pub(crate) struct ScopeLine {
    pub scope: String,
    pub description: Option<String>,
}

/// A `<select>` option.
pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The statuses a user can filter by, with their labels.
pub(crate) const STATUS_FILTERS: [(ConnectionStatus, &str); 5] = [
    (ConnectionStatus::Active, "Active"),
    (ConnectionStatus::Pending, "Pending"),
    (ConnectionStatus::NeedsReauth, "Needs reauthorization"),
    (ConnectionStatus::Degraded, "Degraded"),
    (ConnectionStatus::Revoked, "Revoked"),
];

/// `GET /login`.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub frame: Frame,
    pub next: String,
    pub login: String,
    pub error: Option<String>,
    pub signed_out: bool,
    pub expired: bool,
}

/// An error page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub frame: Frame,
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
    fn the_article_follows_the_sound_of_the_name() {
        for (name, expected) in [
            ("OpenAI", "an OpenAI"),
            ("Airtable", "an Airtable"),
            ("Demo Cloud", "a Demo Cloud"),
            ("GitHub", "a GitHub"),
            ("SMS Gateway", "an SMS Gateway"),
            ("HTTP Bin", "an HTTP Bin"),
            ("Unicorn", "a Unicorn"),
            ("Uber", "an Uber"),
            ("hourly", "an hourly"),
            ("Zendesk", "a Zendesk"),
        ] {
            assert_eq!(with_article(name), expected);
        }
    }

    #[test]
    fn steps_are_numbered_and_listed_as_a_sentence() {
        assert_eq!(steps_phrase(&[0]), "step 1");
        assert_eq!(steps_phrase(&[1, 2]), "steps 2 and 3");
        assert_eq!(steps_phrase(&[0, 1, 3]), "steps 1, 2 and 4");
        assert_eq!(and_list(&[]), "");
    }

    #[test]
    fn initials_and_hues_are_stable() {
        assert_eq!(initial("github"), "G");
        assert_eq!(initial("  "), "?");
        assert_eq!(hue("github"), hue("github"));
        assert!(hue("anything") < 8);
    }
}
