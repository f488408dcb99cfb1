//! Account pinning on reauthorize (SECURITY O-21): a new grant may replace a connection's
//! credential only when the callback's verify proves it is for the same account.
//!
//! The proof is the provider's stable account id (`verify.account_id`) when the provider
//! declares one and the connection has it stored, else the account label. No proof — the verify
//! failed (5xx, 429, a reset, 401/403 for a declined profile scope) or named no account — is a
//! refusal, never a pass: the check fails closed. A flow started with `allow_account_change`
//! skips it, and a connection that never had an account has nothing pinned.

use patchbay_domain::connection::{Connection, VerifyResult};
use patchbay_domain::provider::Provider;

use super::outcome::CallbackOutcome;

/// Why a reauthorize's grant may not replace the pinned credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PinRefusal {
    /// The grant is for another account.
    Mismatch {
        /// The pinned account's label (or id).
        stored: String,
        /// The new grant's label (or id).
        new: String,
    },
    /// The verify call could not say whose grant it is.
    Unproven {
        /// The pinned account's label (or id).
        stored: String,
        /// What the verify call reported.
        why: String,
    },
}

impl PinRefusal {
    /// How the flow ended, for the landing page and the API.
    pub(super) fn outcome(&self) -> CallbackOutcome {
        match self {
            PinRefusal::Mismatch { .. } => CallbackOutcome::AccountMismatch,
            PinRefusal::Unproven { .. } => CallbackOutcome::AccountUnverified,
        }
    }

    /// What happened and how to retry; `revoked` says what became of the new grant.
    pub(super) fn reason(&self, provider: &str, revoked: &str) -> String {
        match self {
            PinRefusal::Mismatch { stored, new } => format!(
                "{provider} granted access for {new}, but this connection is for {stored}: nothing was changed and {revoked}. Reauthorize as {stored}, or allow the account change"
            ),
            PinRefusal::Unproven { stored, why } => format!(
                "{provider} granted access, but Patchbay could not confirm the account ({why}): the connection keeps its credential for {stored} and {revoked}. Reauthorize again in a minute; if it keeps failing, make sure the profile scope is granted, or reauthorize with allow_account_change"
            ),
        }
    }
}

/// The check itself: `None` when the grant may be stored.
pub(super) fn check(provider: &Provider, connection: &Connection, verify: Option<&VerifyResult>) -> Option<PinRefusal> {
    let declares_id = provider.verify.as_ref().is_some_and(|v| v.account_id.is_some());
    let label = connection.account.clone();
    let (stored, new) = match (&connection.account_id, declares_id) {
        (Some(id), true) => (id.clone(), verify.and_then(|v| v.account_id.clone())),
        _ => (label.clone()?, verify.and_then(|v| v.account.clone())),
    };
    let shown = label.unwrap_or_else(|| stored.clone());
    match new {
        Some(new) if new == stored => None,
        Some(new) => {
            let new = verify.and_then(|v| v.account.clone()).filter(|_| declares_id).unwrap_or(new);
            Some(PinRefusal::Mismatch { stored: shown, new })
        }
        None => {
            let why = match verify {
                None => "it declares no verify call".to_owned(),
                Some(v) => v.error.clone().unwrap_or_else(|| "its identity call named no account".to_owned()),
            };
            Some(PinRefusal::Unproven { stored: shown, why })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use patchbay_domain::connection::ConnectionStatus;
    use patchbay_domain::ids::{ConnectionId, TeamId};
    use patchbay_domain::provider::VerifyCall;
    use patchbay_domain::scope::ScopeSet;
    use time::OffsetDateTime;

    use super::*;

    fn provider(account_id: Option<&str>) -> Provider {
        let mut p: Provider =
            serde_json::from_value(serde_json::json!({"id": "p", "display_name": "P", "auth_mode": "oauth2"})).unwrap();
        p.verify = Some(VerifyCall {
            method: "GET".into(),
            path: "/me".into(),
            account: vec!["/email".into()],
            account_id: account_id.map(str::to_owned),
            host: None,
            body: None,
            content_type: None,
            success: None,
            token_prefix: None,
        });
        p
    }

    fn connection(account: Option<&str>, id: Option<&str>) -> Connection {
        let t = OffsetDateTime::UNIX_EPOCH;
        Connection {
            id: ConnectionId::generate(),
            team_id: TeamId::generate(),
            provider: "p".into(),
            name: "n".into(),
            status: ConnectionStatus::Active,
            status_reason: None,
            account: account.map(str::to_owned),
            account_id: id.map(str::to_owned),
            granted_scopes: ScopeSet::default(),
            requested_scopes: ScopeSet::default(),
            settings: BTreeMap::new(),
            credential_fingerprint: None,
            expires_at: None,
            reauthorize_by: None,
            last_verify: None,
            last_authorization: None,
            created_at: t,
            updated_at: t,
            end_user: None,
            metadata: Default::default(),
        }
    }

    fn verified(account: Option<&str>, id: Option<&str>, error: Option<&str>) -> VerifyResult {
        VerifyResult {
            ok: error.is_none(),
            account: account.map(str::to_owned),
            account_id: id.map(str::to_owned),
            checked_at: OffsetDateTime::UNIX_EPOCH,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn the_stable_id_decides_when_declared_and_stored() {
        let (p, c) = (provider(Some("/id")), connection(Some("ann@x"), Some("u1")));
        assert_eq!(check(&p, &c, Some(&verified(Some("renamed@x"), Some("u1"), None))), None, "label changed, id same");
        let r = check(&p, &c, Some(&verified(Some("ann@x"), Some("u2"), None))).unwrap();
        assert_eq!(r.outcome(), CallbackOutcome::AccountMismatch, "same label, another id");
    }

    #[test]
    fn no_proof_is_a_refusal() {
        let (p, c) = (provider(Some("/id")), connection(Some("ann@x"), Some("u1")));
        for v in [
            Some(verified(None, None, Some("Demo had a server error (HTTP 503)"))),
            Some(verified(None, None, None)),
            None,
        ] {
            let r = check(&p, &c, v.as_ref()).unwrap();
            assert_eq!(r.outcome(), CallbackOutcome::AccountUnverified, "{v:?}");
        }
        let r = check(&p, &c, Some(&verified(None, None, Some("HTTP 503")))).unwrap();
        assert!(r.reason("Demo", "the new grant was revoked").contains("HTTP 503"));
    }

    #[test]
    fn the_label_decides_without_an_id_and_nothing_is_pinned_without_an_account() {
        let (p, c) = (provider(None), connection(Some("ann@x"), None));
        assert_eq!(check(&p, &c, Some(&verified(Some("ann@x"), None, None))), None);
        assert_eq!(
            check(&p, &c, Some(&verified(Some("bob@x"), None, None))).unwrap().outcome(),
            CallbackOutcome::AccountMismatch
        );
        // Declared id but none stored yet (a connection from before): the label still pins.
        let p = provider(Some("/id"));
        assert_eq!(
            check(&p, &c, Some(&verified(None, Some("u1"), None))).unwrap().outcome(),
            CallbackOutcome::AccountUnverified
        );
        assert_eq!(check(&p, &connection(None, None), None), None);
    }
}
