//! The audit trail: its closed vocabulary (action names, the system actor), the one writer every
//! use-case calls, and the admins' read of it. Every create, rename, verify, delete and secret
//! read is recorded with the principal and time; details never include a secret value.

use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_store::{AuditEntry, AuditQuery, AuditRecord};

use crate::access::require_to;
use crate::{Patchbay, ServiceResult};

/// The actor label of work nobody asked for directly: the scheduler, the retry workers, the CLI's
/// bootstrap commands (the same text as [`Actor::System`](patchbay_domain::principal::Actor)'s label).
pub const SYSTEM_ACTOR: &str = "system";

/// Audit action names (stable; documented in docs/api.md).
pub mod action {
    /// A connection was created.
    pub const CONNECTION_CREATE: &str = "connection.create";
    /// A connection was renamed.
    pub const CONNECTION_RENAME: &str = "connection.rename";
    /// A connection was verified.
    pub const CONNECTION_VERIFY: &str = "connection.verify";
    /// A connection was deleted.
    pub const CONNECTION_DELETE: &str = "connection.delete";
    /// A consent flow for a new connection completed (or failed).
    pub const CONNECTION_AUTHORIZE: &str = "connection.authorize";
    /// A reauthorization was started or completed.
    pub const CONNECTION_REAUTHORIZE: &str = "connection.reauthorize";
    /// An access token was refreshed or re-obtained.
    pub const CONNECTION_REFRESH: &str = "connection.refresh";
    /// A scenario was created, changed or deleted.
    pub const SCENARIO_CHANGE: &str = "scenario.change";
    /// A connection's scenario steps were moved to another connection.
    pub const CONNECTION_REPLACE: &str = "connection.replace";
    /// A revocation at the provider (retried in the background).
    pub const REVOCATION: &str = "revocation";
    /// A stored secret was decrypted (detail says why).
    pub const SECRET_READ: &str = "secret.read";
    /// A proxied call used the credential.
    pub const PROXY: &str = "proxy.call";
    /// An API token was created.
    pub const TOKEN_CREATE: &str = "token.create";
    /// An API token was revoked.
    pub const TOKEN_REVOKE: &str = "token.revoke";
    /// A webhook subscription was created.
    pub const WEBHOOK_CREATE: &str = "webhook.create";
    /// A webhook subscription was deleted.
    pub const WEBHOOK_DELETE: &str = "webhook.delete";
}

impl Patchbay {
    /// Appends one record. Errors propagate: an action whose record cannot be written is not
    /// carried out (docs/security.md S-09).
    pub(crate) async fn audit(
        &self,
        who: &Principal,
        action: &str,
        connection: Option<&ConnectionId>,
        outcome: &str,
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
        action: &str,
        connection: Option<&ConnectionId>,
        outcome: &str,
        detail: Option<&str>,
    ) -> ServiceResult<()> {
        self.audit_writer
            .append(AuditRecord {
                team_id: team.clone(),
                at: self.clock.now(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                connection_id: connection.map(|c| c.as_str().to_owned()),
                outcome: outcome.to_owned(),
                detail: detail.map(str::to_owned),
            })
            .await?;
        Ok(())
    }

    /// The team's audit trail, newest first (admins only).
    pub async fn list_audit(&self, who: &Principal, query: &AuditQuery) -> ServiceResult<Vec<AuditEntry>> {
        require_to(who, Action::Administer, "read the audit trail")?;
        Ok(self.store.list_audit(&who.team_id, query).await?)
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::principal::Actor;

    use super::SYSTEM_ACTOR;

    #[test]
    fn the_system_actor_reads_like_the_system_principal() {
        // Background work audits through `audit_as(SYSTEM_ACTOR)` or `audit(&system(team))`;
        // both must produce the same actor text.
        assert_eq!(SYSTEM_ACTOR, Actor::System.label());
    }
}
