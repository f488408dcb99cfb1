//! The audit trail: its closed vocabulary (action names, the system actor), the one writer every
//! use-case calls, and the admins' read of it. Every create, rename, verify, delete and secret
//! read is recorded with the principal and time; details never include a secret value.

use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_store::AuditEntry;
/// Filter of [`Patchbay::list_audit`] (connection, paging cursor, page size).
pub use patchbay_store::AuditQuery;
/// An owned record as the group-commit writer queues it (the store's type; [`AuditRecord`] is the API's).
use patchbay_store::AuditRecord as QueuedAudit;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::require_to;
use crate::words::word_enum;
use crate::{Patchbay, ServiceResult};

word_enum! {
    /// How an audited action ended (stable; documented in docs/api.md).
    pub enum AuditOutcome {
        /// It was carried out.
        Ok = "ok",
        /// It was tried and did not work (a verify the provider rejected, a refused revocation,
        /// a refresh that needs the user).
        Failed = "failed",
        /// It failed transiently and is retried.
        Retry = "retry",
        /// The provider rejected the credential offered on create; nothing was saved.
        Rejected = "rejected",
        /// A consent flow was started.
        Started = "started",
        /// The user denied consent at the provider.
        Denied = "denied",
        /// The provider answered a consent flow with an error.
        Error = "error",
        /// A reauthorization granted access for another account; nothing was changed.
        AccountMismatch = "account_mismatch",
        /// A reauthorization's account could not be confirmed; nothing was changed.
        AccountUnverified = "account_unverified",
        /// A queued revocation went through.
        Revoked = "revoked",
        /// A queued revocation was abandoned after its give-up time.
        GaveUp = "gave_up",
    }
}

/// The outcome of a stored record: a word of [`AuditOutcome`], or (for a record written by a
/// newer version) the stored word as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordedOutcome {
    /// A word this version knows.
    Known(AuditOutcome),
    /// Any other stored word.
    Other(String),
}

/// The action of a stored record: a word of [`AuditAction`], or (for a record written by a
/// newer version) the stored word as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordedAction {
    /// A word this version knows.
    Known(AuditAction),
    /// Any other stored word.
    Other(String),
}

/// One record of the audit trail, as `GET /v1/audit` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditRecord {
    /// Monotonic id (use as a cursor).
    pub id: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Who: `token:{name} ({id})`, `user:{login} ({id})` or `system`.
    pub actor: String,
    /// What (`connection.create`, …; see docs/api.md).
    pub action: RecordedAction,
    /// Which connection.
    pub connection_id: Option<String>,
    /// How it ended.
    pub outcome: RecordedOutcome,
    /// Detail (never a secret).
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditRecord {
    fn from(e: AuditEntry) -> Self {
        let outcome = AuditOutcome::parse(&e.outcome).map_or(RecordedOutcome::Other(e.outcome), RecordedOutcome::Known);
        let action = AuditAction::parse(&e.action).map_or(RecordedAction::Other(e.action), RecordedAction::Known);
        AuditRecord {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action,
            connection_id: e.connection_id,
            outcome,
            detail: e.detail,
        }
    }
}

/// The actor label of work nobody asked for directly: the scheduler, the retry workers, the CLI's
/// bootstrap commands (the same text as [`Actor::System`](patchbay_domain::principal::Actor)'s label).
pub const SYSTEM_ACTOR: &str = "system";

word_enum! {
    /// What an audit record is about (stable; documented in docs/api.md).
    pub enum AuditAction {
        /// A connection was created.
        ConnectionCreate = "connection.create",
        /// A connection was renamed.
        ConnectionRename = "connection.rename",
        /// A connection was verified.
        ConnectionVerify = "connection.verify",
        /// A connection's API key or password was replaced in place.
        ConnectionCredentialUpdate = "connection.credential_update",
        /// A connection was deleted.
        ConnectionDelete = "connection.delete",
        /// Discarding a never-granted connection.
        ConnectionDiscard = "connection.discard",
        /// A consent flow for a new connection completed (or failed).
        ConnectionAuthorize = "connection.authorize",
        /// A reauthorization was started or completed.
        ConnectionReauthorize = "connection.reauthorize",
        /// An access token was refreshed or re-obtained.
        ConnectionRefresh = "connection.refresh",
        /// A scenario was created, changed or deleted.
        ScenarioChange = "scenario.change",
        /// A connection's scenario steps were moved to another connection.
        ConnectionReplace = "connection.replace",
        /// A revocation at the provider (retried in the background).
        Revocation = "revocation",
        /// A stored secret was decrypted (detail says why).
        SecretRead = "secret.read",
        /// A proxied call used the credential.
        Proxy = "proxy.call",
        /// An API token was created.
        TokenCreate = "token.create",
        /// An API token was revoked.
        TokenRevoke = "token.revoke",
        /// A webhook subscription was created.
        WebhookCreate = "webhook.create",
        /// A webhook subscription was deleted.
        WebhookDelete = "webhook.delete",
        /// A user signed in to the web UI.
        SessionSignIn = "session.sign_in",
        /// A user signed out of the web UI.
        SessionSignOut = "session.sign_out",
        /// The team's data key was rotated (its fields re-encrypted, old keys destroyed).
        TeamKeyRotate = "team.key_rotate",
        /// The team was deleted and its data keys destroyed (kept in the trail of the gone team).
        TeamDelete = "team.delete",
        /// A connect session was created for a platform's end user.
        ConnectSessionCreate = "connect_session.create",
        /// A connect session's token was exchanged for its hosted page's cookie.
        ConnectSessionOpen = "connect_session.open",
        /// A connect session's connection was granted.
        ConnectSessionComplete = "connect_session.complete",
        /// An expired connect session's link was used.
        ConnectSessionExpire = "connect_session.expire",
    }
}

/// The audit actions by their historical constant names, so call sites read `action::SECRET_READ`.
pub mod action {
    use super::AuditAction;

    /// A connection was created.
    pub const CONNECTION_CREATE: AuditAction = AuditAction::ConnectionCreate;
    /// A connection was renamed.
    pub const CONNECTION_RENAME: AuditAction = AuditAction::ConnectionRename;
    /// A connection was verified.
    pub const CONNECTION_VERIFY: AuditAction = AuditAction::ConnectionVerify;
    /// A connection's API key or password was replaced in place.
    pub const CONNECTION_CREDENTIAL_UPDATE: AuditAction = AuditAction::ConnectionCredentialUpdate;
    /// A connection was deleted.
    pub const CONNECTION_DELETE: AuditAction = AuditAction::ConnectionDelete;
    /// Discarding a never-granted connection.
    pub const CONNECTION_DISCARD: AuditAction = AuditAction::ConnectionDiscard;
    /// A consent flow for a new connection completed (or failed).
    pub const CONNECTION_AUTHORIZE: AuditAction = AuditAction::ConnectionAuthorize;
    /// A reauthorization was started or completed.
    pub const CONNECTION_REAUTHORIZE: AuditAction = AuditAction::ConnectionReauthorize;
    /// An access token was refreshed or re-obtained.
    pub const CONNECTION_REFRESH: AuditAction = AuditAction::ConnectionRefresh;
    /// A scenario was created, changed or deleted.
    pub const SCENARIO_CHANGE: AuditAction = AuditAction::ScenarioChange;
    /// A connection's scenario steps were moved to another connection.
    pub const CONNECTION_REPLACE: AuditAction = AuditAction::ConnectionReplace;
    /// A revocation at the provider (retried in the background).
    pub const REVOCATION: AuditAction = AuditAction::Revocation;
    /// A stored secret was decrypted (detail says why).
    pub const SECRET_READ: AuditAction = AuditAction::SecretRead;
    /// A proxied call used the credential.
    pub const PROXY: AuditAction = AuditAction::Proxy;
    /// An API token was created.
    pub const TOKEN_CREATE: AuditAction = AuditAction::TokenCreate;
    /// An API token was revoked.
    pub const TOKEN_REVOKE: AuditAction = AuditAction::TokenRevoke;
    /// A webhook subscription was created.
    pub const WEBHOOK_CREATE: AuditAction = AuditAction::WebhookCreate;
    /// A webhook subscription was deleted.
    pub const WEBHOOK_DELETE: AuditAction = AuditAction::WebhookDelete;
    /// A user signed in to the web UI.
    pub const SESSION_SIGN_IN: AuditAction = AuditAction::SessionSignIn;
    /// A user signed out of the web UI.
    pub const SESSION_SIGN_OUT: AuditAction = AuditAction::SessionSignOut;
    /// The team's data key was rotated (its fields re-encrypted, old keys destroyed).
    pub const TEAM_KEY_ROTATE: AuditAction = AuditAction::TeamKeyRotate;
    /// The team was deleted and its data keys destroyed (kept in the trail of the gone team).
    pub const TEAM_DELETE: AuditAction = AuditAction::TeamDelete;
    /// A connect session was created for a platform's end user.
    pub const CONNECT_SESSION_CREATE: AuditAction = AuditAction::ConnectSessionCreate;
    /// A connect session's token was exchanged for its hosted page's cookie.
    pub const CONNECT_SESSION_OPEN: AuditAction = AuditAction::ConnectSessionOpen;
    /// A connect session's connection was granted.
    pub const CONNECT_SESSION_COMPLETE: AuditAction = AuditAction::ConnectSessionComplete;
    /// An expired connect session's link was used.
    pub const CONNECT_SESSION_EXPIRE: AuditAction = AuditAction::ConnectSessionExpire;
}

impl Patchbay {
    /// Appends one record. Errors propagate: an action whose record cannot be written is not
    /// carried out (docs/security.md S-09).
    pub(crate) async fn audit(
        &self,
        who: &Principal,
        action: AuditAction,
        connection: Option<&ConnectionId>,
        outcome: AuditOutcome,
        detail: Option<&str>,
    ) -> ServiceResult<()> {
        self.audit_as(&who.team_id, &who.actor.label(), action, connection, outcome, detail).await
    }

    /// Appends one record for an explicit team and actor label (CLI, scheduler), through the
    /// group-commit writer: it returns once the batch holding the record has committed.
    pub(crate) async fn audit_as(
        &self,
        team: &TeamId,
        actor: &str,
        action: AuditAction,
        connection: Option<&ConnectionId>,
        outcome: AuditOutcome,
        detail: Option<&str>,
    ) -> ServiceResult<()> {
        self.audit_writer
            .append(QueuedAudit {
                team_id: team.clone(),
                at: self.clock.now(),
                actor: actor.to_owned(),
                action: action.as_str().to_owned(),
                connection_id: connection.map(|c| c.as_str().to_owned()),
                outcome: outcome.as_str().to_owned(),
                detail: detail.map(str::to_owned),
            })
            .await?;
        Ok(())
    }

    /// The team's audit trail, newest first (admins only).
    pub async fn list_audit(&self, who: &Principal, query: &AuditQuery) -> ServiceResult<Vec<AuditRecord>> {
        require_to(who, Action::Administer, "read the audit trail")?;
        Ok(self.store.list_audit(&who.team_id, query).await?.into_iter().map(AuditRecord::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::principal::Actor;

    use super::*;

    fn entry(outcome: &str) -> AuditEntry {
        AuditEntry {
            id: 7,
            at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            actor: SYSTEM_ACTOR.into(),
            action: action::REVOCATION.as_str().into(),
            connection_id: Some("con_1".into()),
            outcome: outcome.into(),
            detail: None,
        }
    }

    #[test]
    fn records_serialize_like_the_stored_rows() {
        // The wire bytes of `GET /v1/audit` are the row's, field for field, known word or not.
        for outcome in ["gave_up", "ok", "a_future_word"] {
            let row = entry(outcome);
            assert_eq!(
                serde_json::to_string(&AuditRecord::from(row.clone())).unwrap(),
                serde_json::to_string(&row).unwrap()
            );
        }
        assert_eq!(AuditRecord::from(entry("gave_up")).outcome, RecordedOutcome::Known(AuditOutcome::GaveUp));
    }

    #[test]
    fn the_system_actor_reads_like_the_system_principal() {
        // Background work audits through `audit_as(SYSTEM_ACTOR)` or `audit(&system(team))`;
        // both must produce the same actor text.
        assert_eq!(SYSTEM_ACTOR, Actor::System.label());
    }
}
