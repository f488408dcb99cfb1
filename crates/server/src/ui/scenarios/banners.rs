//! The messages at the top of the list after a redirect: a fixed sentence per word (the OAuth
//! callback's `outcome`, or this page's `notice`), filled from the stored scenario.

use patchbay_domain::connection::ConnectionStatus;
use patchbay_service::oauth::CallbackOutcome;
use patchbay_service::scenarios::ScenarioView;
use patchbay_service::views::ConnectionView;

use crate::ui::connections::partial_banner;
use crate::ui::pages::Banner;

/// The banner for the `outcome` word of the URL: none for a word that is not a
/// [`CallbackOutcome`]. `connection` is the one the flow was for, when the URL names it.
pub(super) fn callback_banner(word: &str, connection: Option<&ConnectionView>) -> Option<Banner> {
    CallbackOutcome::parse(word).map(|outcome| outcome_banner(outcome, connection))
}

/// The banner after the consent page (or a step's Add form) sent the browser back here: a fixed
/// sentence per outcome, and, for a grant, what the stored connection still misses.
pub(super) fn outcome_banner(outcome: CallbackOutcome, connection: Option<&ConnectionView>) -> Banner {
    match outcome {
        CallbackOutcome::Connected | CallbackOutcome::Partial => match connection {
            Some(c) if c.status == ConnectionStatus::Active && !c.missing_scopes.is_empty() => {
                partial_banner(&format!("Access granted only in part to “{}”", c.name), c)
            }
            None if outcome == CallbackOutcome::Partial => Banner::warn(
                "Access granted only in part",
                Some("Some permissions were not granted: the steps below say what each one still misses.".into()),
            ),
            _ => Banner::ok("Access granted", Some("The steps below show what each scenario can run now.".into())),
        },
        CallbackOutcome::Denied => Banner::bad("Access was denied", Some("Nothing was changed.".into())),
        CallbackOutcome::Error => Banner::bad(
            "The authorization could not be completed",
            Some("Nothing was changed. The connection's page says why.".into()),
        ),
        CallbackOutcome::AccountMismatch => Banner::warn(
            "You granted access for a different account",
            Some("Nothing was changed: extend the permissions while signed in with the connection's account.".into()),
        ),
        CallbackOutcome::AccountUnverified => Banner::warn(
            "The account you granted access for could not be confirmed",
            Some("Nothing was changed: the connection's page says why. Try again in a minute.".into()),
        ),
    }
}

/// The banner after a change on this page: a fixed sentence per word, filled from the stored
/// scenario (never from text in the URL).
pub(super) fn notice_banner(notice: &str, s: Option<&ScenarioView>) -> Option<Banner> {
    if notice == "deleted" {
        return Some(Banner::ok("The scenario was deleted", Some("The connections it used are still there.".into())));
    }
    let s = s?;
    let readiness = if s.ready {
        "Every step can run."
    } else if s.steps.is_empty() {
        "It has no steps yet."
    } else {
        "Some steps need attention: each one says why."
    };
    match notice {
        "created" => Some(Banner::ok(
            format!("“{}” was created", s.name),
            Some("Add its steps below: pick a module and a connection, then Save.".into()),
        )),
        "saved" => Some(Banner::ok(format!("“{}” was saved", s.name), Some(readiness.into()))),
        "removed" => Some(Banner::ok(format!("A step was removed from “{}”", s.name), Some(readiness.into()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_outcome_words_get_a_banner() {
        assert_eq!(callback_banner("connected", None).unwrap().class, "ok");
        assert_eq!(callback_banner("account_mismatch", None).unwrap().class, "warn");
        assert!(callback_banner("<script>", None).is_none());
        assert!(callback_banner("", None).is_none());
    }
}
