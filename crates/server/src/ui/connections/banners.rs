//! The messages at the top of a connection's page after a redirect: from the fixed word in the
//! URL (`notice`, or the OAuth callback's `outcome`) and the connection as stored, never from
//! text in the URL.

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
        "created" => Some(Banner::ok(
            format!("“{}” is connected", c.name),
            c.account.as_ref().map(|a| format!("Connected as {a}.")),
        )),
        _ => None,
    }
}

/// The banner after the OAuth callback sent the browser back, from the outcome word and the
/// connection's stored status (never from text in the URL).
pub(super) fn outcome_banner(outcome: &str, c: &ConnectionView) -> Option<Banner> {
    let provider = &c.provider_name;
    let unchanged = "Nothing was changed: the connection keeps the access it had.".to_owned();
    let reason_or = |fallback: String| {
        if c.status == "active" { fallback } else { c.status_reason.clone().unwrap_or(fallback) }
    };
    match outcome {
        "connected" if c.status == "active" => Some(Banner::ok(
            format!("“{}” is connected", c.name),
            Some(match &c.account {
                Some(a) => format!("{provider} granted access as {a}."),
                None => format!("{provider} granted access."),
            }),
        )),
        "connected" => Some(Banner::bad(format!("“{}” is not connected", c.name), c.status_reason.clone())),
        // The card below shows the stored reason; the banner says what it means for the user.
        "denied" => Some(Banner::bad(
            format!("Access was denied at {provider}"),
            Some(if c.status == "active" {
                unchanged
            } else {
                format!(
                    "Nothing was granted, so the connection is not usable yet: Continue to {provider} to ask again, or Discard it."
                )
            }),
        )),
        "error" => {
            Some(Banner::bad(format!("{provider} could not complete the authorization"), Some(reason_or(unchanged))))
        }
        "account_mismatch" => Some(Banner::warn(
            format!("You granted access for a different {provider} account"),
            Some(format!(
                "Nothing was changed. Reauthorize while signed in to {provider} as {}.",
                c.account.as_deref().unwrap_or("the account this connection is for")
            )),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_service::views::CredentialView;

    fn view(status: &str, reason: Option<&str>) -> ConnectionView {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        ConnectionView {
            id: "con_1".into(),
            name: "Mine".into(),
            provider: "democloud".into(),
            provider_name: "Demo Cloud".into(),
            auth_mode: "oauth2".into(),
            status: status.into(),
            status_reason: reason.map(str::to_owned),
            account: Some("ann@example.test".into()),
            granted_scopes: Vec::new(),
            required_scopes: Vec::new(),
            missing_scopes: Vec::new(),
            unused_scopes: Vec::new(),
            full_access: false,
            expires_at: None,
            reauthorize_by: None,
            last_verified_at: None,
            last_verify: None,
            used_by: Vec::new(),
            settings: Default::default(),
            secret_settings: Vec::new(),
            credential: CredentialView { kind: "oauth2".into(), state: "set".into(), fingerprint: None },
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn outcome_banners_come_from_the_stored_status() {
        let b = outcome_banner("connected", &view("active", None)).unwrap();
        assert_eq!(b.class, "ok");
        // A "connected" word in the URL does not make a pending connection look connected.
        let b = outcome_banner("connected", &view("pending", Some("access denied at Demo Cloud"))).unwrap();
        assert_eq!(b.class, "bad");
        let b = outcome_banner("error", &view("pending", Some("the token exchange failed: invalid_client"))).unwrap();
        assert_eq!(b.detail.as_deref(), Some("the token exchange failed: invalid_client"));
        let b = outcome_banner("denied", &view("pending", Some("access denied at Demo Cloud"))).unwrap();
        assert!(b.detail.unwrap().contains("not usable yet"));
        // An active connection whose reauthorization was denied keeps working.
        let b = outcome_banner("denied", &view("active", None)).unwrap();
        assert!(b.detail.unwrap().contains("Nothing was changed"));
        assert!(outcome_banner("<script>", &view("active", None)).is_none());
    }
}
