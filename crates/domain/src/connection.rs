//! A connection and its status machine.
//!
//! Statuses (docs/api.md, "The connection object"): `pending` until a grant completes, `active`
//! when usable, `degraded` when the provider fails transiently (the credential is kept and
//! retried), `needs_reauth` when the provider rejected the credential or the grant expired (the
//! user must act), `revoked` after delete. A connection never leaves `active` without a
//! `status_reason` saying why.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ConnectionId, TeamId};
use crate::scope::ScopeSet;

/// Lifecycle status of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Created; waiting for the consent flow to complete.
    Pending,
    /// Usable.
    Active,
    /// The provider failed transiently; the credential is kept and retried.
    Degraded,
    /// The provider rejected the credential or the grant expired; the user must reauthorize.
    NeedsReauth,
    /// Deleted and revoked; kept only as an audit record.
    Revoked,
}

impl ConnectionStatus {
    /// All statuses, for filters and validation messages.
    pub const ALL: [ConnectionStatus; 5] = [
        ConnectionStatus::Pending,
        ConnectionStatus::Active,
        ConnectionStatus::Degraded,
        ConnectionStatus::NeedsReauth,
        ConnectionStatus::Revoked,
    ];

    /// The status's name as stored and returned.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Pending => "pending",
            ConnectionStatus::Active => "active",
            ConnectionStatus::Degraded => "degraded",
            ConnectionStatus::NeedsReauth => "needs_reauth",
            ConnectionStatus::Revoked => "revoked",
        }
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ConnectionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`: use pending, active, degraded, needs_reauth or revoked"))
    }
}

/// The outcome of the last verify call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResult {
    /// Whether the provider accepted the credential.
    pub ok: bool,
    /// Account label the provider reported.
    pub account: Option<String>,
    /// The provider's stable account id (`verify.account_id`), when it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Why it failed.
    pub error: Option<String>,
}

/// The outcome of the last consent callback of a connection (`connected`, `denied`,
/// `account_mismatch`, `account_unverified`, `error`), with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationOutcome {
    /// The outcome word (also the landing page's `?outcome=`).
    pub outcome: String,
    /// Why, and how to retry, when it did not connect.
    pub reason: Option<String>,
    /// When the callback completed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A team's stored grant for one provider account (metadata only: secrets live in the vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Unguessable id.
    pub id: ConnectionId,
    /// Owning team.
    pub team_id: TeamId,
    /// Provider id.
    pub provider: String,
    /// User-visible name, unique within the team.
    pub name: String,
    /// Lifecycle status.
    pub status: ConnectionStatus,
    /// Why the status is what it is (always set when not `active`).
    pub status_reason: Option<String>,
    /// Account label at the provider ("Connected as").
    pub account: Option<String>,
    /// The provider's stable account id the connection is pinned to (`verify.account_id`).
    pub account_id: Option<String>,
    /// Scopes the provider granted.
    pub granted_scopes: ScopeSet,
    /// Scopes asked for (at creation, or when extending a connection that has no grant yet)
    /// that no grant has covered so far: remembered across a denied or abandoned consent, so
    /// the connection still shows them as missing and the next consent asks for them again.
    pub requested_scopes: ScopeSet,
    /// Non-secret advanced settings.
    pub settings: BTreeMap<String, String>,
    /// Fingerprint of the main secret ("set · 3f9a1c2b"), when one is stored.
    pub credential_fingerprint: Option<String>,
    /// Access token expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// When the whole grant expires (provider `grant_lifetime`).
    pub reauthorize_by: Option<OffsetDateTime>,
    /// Last verify outcome.
    pub last_verify: Option<VerifyResult>,
    /// Outcome of the last consent callback.
    pub last_authorization: Option<AuthorizationOutcome>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last metadata or credential change.
    pub updated_at: OffsetDateTime,
    /// The platform's end user it was made for (a connect session, or `end_user` on create).
    pub end_user: Option<crate::end_user::EndUser>,
    /// What the provider said about the grant (`token_response.metadata`, `callback_params`,
    /// `context`): non-secret, replaced by each consent.
    pub metadata: BTreeMap<String, String>,
}

impl Connection {
    /// The values `{key}` placeholders are filled from: the settings, then the metadata (the
    /// catalog keeps the two key sets apart, so neither shadows the other).
    pub fn template_values(&self) -> BTreeMap<String, String> {
        let mut values = self.settings.clone();
        values.extend(self.metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
        values
    }
}

/// The default name for a new connection: "My {display_name} connection", then "… 2", "… 3"
/// until it does not clash with `taken` (names already used in the team).
pub fn default_connection_name<'a>(display_name: &str, taken: impl IntoIterator<Item = &'a str>) -> String {
    let taken: std::collections::HashSet<&str> = taken.into_iter().collect();
    let base = format!("My {display_name} connection");
    if !taken.contains(base.as_str()) {
        return base;
    }
    (2..)
        .map(|n| format!("{base} {n}"))
        .find(|candidate| !taken.contains(candidate.as_str()))
        .expect("an unbounded range always yields a free name")
}

/// Validates a user-chosen connection name: trimmed, NFC-normalised, 1–100 characters, no
/// control or invisible formatting characters (see [`crate::name::clean_name`]).
pub fn validate_connection_name(name: &str) -> Result<String, String> {
    crate::name::clean_name(name, "the connection name", 100)
        .map_err(|e| if e.ends_with("give it a name") { format!("{e}, e.g. \"My Stripe connection\"") } else { e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_count_up_past_taken_ones() {
        assert_eq!(default_connection_name("Stripe", []), "My Stripe connection");
        assert_eq!(
            default_connection_name("Stripe", ["My Stripe connection", "My Stripe connection 2"]),
            "My Stripe connection 3"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_connection_name("  Ops  ").unwrap(), "Ops");
        assert!(validate_connection_name("   ").is_err());
        assert!(validate_connection_name(&"x".repeat(101)).is_err());
        assert!(validate_connection_name("a\u{7}b").is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for st in ConnectionStatus::ALL {
            assert_eq!(st.as_str().parse::<ConnectionStatus>().unwrap(), st);
        }
    }
}
