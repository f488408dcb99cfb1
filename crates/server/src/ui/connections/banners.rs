//! The messages at the top of a connection's page after a redirect: from the fixed word in the
//! URL (`notice`, or the OAuth callback's `outcome`) and the connection as stored, never from
//! text in the URL.

use patchbay_domain::connection::ConnectionStatus;
use patchbay_service::oauth::CallbackOutcome;
use patchbay_service::views::ConnectionView;
use time::OffsetDateTime;

use crate::ui::pages::{Banner, TimeText};

/// The banner after a redirect, from a fixed word and the stored connection.
pub(super) fn notice_banner(notice: &str, c: &ConnectionView, now: OffsetDateTime) -> Option<Banner> {
    match notice {
        "verified" => {
            let v = c.last_verify.as_ref()?;
            let at = TimeText::new(v.checked_at, now).text;
            if v.ok {
                let account =
                    v.account.as_deref().or(c.account.as_deref()).map(|a| format!(" for {a}")).unwrap_or_default();
                Some(Banner::ok(
                    format!("“{}” is working", c.name),
                    Some(format!("{} accepted the credential{account} ({at}).", c.provider_name)),
                ))
            } else {
                Some(Banner::bad(
                    format!("“{}” failed verification", c.name),
                    Some(format!("{} ({at})", v.error.as_deref().unwrap_or("no reason given"))),
                ))
            }
        }
        "renamed" => Some(Banner::ok(format!("Renamed to “{}”", c.name), None)),
        "credential_updated" => Some(match &c.last_verify {
            Some(v) if v.ok => Banner::ok(
                format!("The credential of “{}” was replaced", c.name),
                Some(format!(
                    "{} accepted the new one{}. The old one was destroyed; scenarios keep using this connection.",
                    c.provider_name,
                    v.account.as_deref().map(|a| format!(" for {a}")).unwrap_or_default()
                )),
            ),
            _ => Banner::warn(
                format!("The credential of “{}” was replaced without checking it", c.name),
                Some(format!("{} was not asked: click Verify to check it now.", c.provider_name)),
            ),
        }),
        "created" => Some(Banner::ok(
            format!("“{}” is connected", c.name),
            c.account.as_ref().map(|a| format!("Connected as {a}.")),
        )),
        _ => None,
    }
}

/// The banner for the `outcome` word of the URL: none for a word that is not a
/// [`CallbackOutcome`].
pub(super) fn callback_banner(word: &str, c: &ConnectionView) -> Option<Banner> {
    CallbackOutcome::parse(word).map(|outcome| outcome_banner(outcome, c))
}

/// The banner after the OAuth callback sent the browser back, from the outcome and the
/// connection's stored status (never from text in the URL).
pub(super) fn outcome_banner(outcome: CallbackOutcome, c: &ConnectionView) -> Banner {
    let provider = &c.provider_name;
    let unchanged = "Nothing was changed: the connection keeps the access it had.".to_owned();
    let active = c.status == ConnectionStatus::Active;
    let reason_or = |fallback: String| if active { fallback } else { c.status_reason.clone().unwrap_or(fallback) };
    match outcome {
        // Less than asked for: say what is missing, in a warning style, never plain success.
        CallbackOutcome::Connected | CallbackOutcome::Partial if active && !c.missing_scopes.is_empty() => {
            partial_banner(&format!("“{}” is connected, but not with every permission", c.name), c)
        }
        CallbackOutcome::Connected | CallbackOutcome::Partial if active => Banner::ok(
            format!("“{}” is connected", c.name),
            Some(match &c.account {
                Some(a) => format!("{provider} granted access as {a}."),
                None => format!("{provider} granted access."),
            }),
        ),
        CallbackOutcome::Connected | CallbackOutcome::Partial => {
            Banner::bad(format!("“{}” is not connected", c.name), c.status_reason.clone())
        }
        // The card below shows the stored reason; the banner says what it means for the user.
        CallbackOutcome::Denied => Banner::bad(
            format!("Access was denied at {provider}"),
            Some(if active {
                unchanged
            } else {
                format!(
                    "Nothing was granted, so the connection is not usable yet: Continue to {provider} to ask again, or Discard it."
                )
            }),
        ),
        CallbackOutcome::Error => {
            Banner::bad(format!("{provider} could not complete the authorization"), Some(reason_or(unchanged)))
        }
        CallbackOutcome::AccountUnverified => Banner::warn(
            format!("{provider} did not confirm which account you granted access for"),
            Some(c.last_authorization.as_ref().and_then(|a| a.reason.clone()).unwrap_or_else(|| {
                format!(
                    "Nothing was changed and the new grant was not kept. Reauthorize again in a minute while signed in to {provider} as {}.",
                    c.account.as_deref().unwrap_or("the account this connection is for")
                )
            })),
        ),
        CallbackOutcome::AccountMismatch => Banner::warn(
            format!("You granted access for a different {provider} account"),
            Some(format!(
                "Nothing was changed. Reauthorize while signed in to {provider} as {}.",
                c.account.as_deref().unwrap_or("the account this connection is for")
            )),
        ),
    }
}

/// The warning after a consent that granted less than the connection needs: which permissions
/// are missing (from the stored connection) and what to do.
pub(crate) fn partial_banner(title: &str, c: &ConnectionView) -> Banner {
    Banner::warn(
        title,
        Some(format!(
            "{provider} did not grant {missing}. What needs it cannot run yet: Reauthorize and allow it on {provider}'s page.",
            provider = c.provider_name,
            missing = c.missing_scopes.join(", "),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_service::views::{AuthModeView, CredentialKind, CredentialState, CredentialView};

    fn view(status: ConnectionStatus, reason: Option<&str>) -> ConnectionView {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        ConnectionView {
            id: "con_1".into(),
            name: "Mine".into(),
            provider: "democloud".into(),
            provider_name: "Demo Cloud".into(),
            auth_mode: AuthModeView::Oauth2,
            status,
            unverified: false,
            status_reason: reason.map(str::to_owned),
            account: Some("ann@example.test".into()),
            granted_scopes: Vec::new(),
            required_scopes: Vec::new(),
            requested_scopes: Vec::new(),
            missing_scopes: Vec::new(),
            unused_scopes: Vec::new(),
            full_access: false,
            expires_at: None,
            reauthorize_by: None,
            last_verified_at: None,
            last_verify: None,
            last_authorization: None,
            used_by: Vec::new(),
            settings: Default::default(),
            secret_settings: Vec::new(),
            credential: CredentialView { kind: CredentialKind::Oauth2, state: CredentialState::Set, fingerprint: None },
            created_at: t,
            updated_at: t,
            end_user: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn outcome_banners_come_from_the_stored_status() {
        use ConnectionStatus::{Active, Pending};
        let b = callback_banner("connected", &view(Active, None)).unwrap();
        assert_eq!(b.class, "ok");
        // A "connected" word in the URL does not make a pending connection look connected.
        let b = callback_banner("connected", &view(Pending, Some("access denied at Demo Cloud"))).unwrap();
        assert_eq!(b.class, "bad");
        let b = callback_banner("error", &view(Pending, Some("the token exchange failed: invalid_client"))).unwrap();
        assert_eq!(b.detail.as_deref(), Some("the token exchange failed: invalid_client"));
        let b = callback_banner("denied", &view(Pending, Some("access denied at Demo Cloud"))).unwrap();
        assert!(b.detail.unwrap().contains("not usable yet"));
        // An active connection whose reauthorization was denied keeps working.
        let b = callback_banner("denied", &view(Active, None)).unwrap();
        assert!(b.detail.unwrap().contains("Nothing was changed"));
        assert!(callback_banner("<script>", &view(Active, None)).is_none());
        assert!(callback_banner("Connected", &view(Active, None)).is_none(), "only the exact word");
        // Granted less than it needs: a warning naming what is missing, for either word.
        let partial = ConnectionView { missing_scopes: vec!["items:write".into()], ..view(Active, None) };
        for word in ["partial", "connected"] {
            let b = callback_banner(word, &partial).unwrap();
            assert_eq!(b.class, "warn", "{word}");
            assert!(b.detail.as_deref().unwrap().contains("did not grant items:write"), "{word}: {:?}", b.detail);
        }
    }
}
