//! Never-granted connections (status `pending`: an OAuth connection whose consent was denied,
//! failed or abandoned): discarding one, continuing one under its name, and the background job
//! that discards the abandoned ones.
//!
//! The rule (docs/api.md, "Never-granted connections"): such a connection is hidden from
//! connection pickers; it does not block its name — a create with the same name and provider
//! continues it (same id, the new request's settings, a new consent flow), a create with the
//! same name for another provider discards it first; and it is discarded automatically once its
//! last consent flow expired more than [`ABANDONED_AFTER`] ago. Every discard is audited and
//! emits `connection.discarded` with the reason (`discarded`, `abandoned` or `name_reused`).

use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::principal::{Action, Principal};
use time::Duration;

use super::dto::DeleteReceipt;
use crate::access::{not_found, require, system};
use crate::audit::{AuditOutcome, action};
use crate::events::kind;
use crate::oauth::FLOW_TTL;
use crate::revocations::GrantsReceipt;
use crate::{Patchbay, ServiceError, ServiceResult};

/// How long after its last consent flow expired a never-granted connection is kept.
pub const ABANDONED_AFTER: Duration = crate::oauth::EXPIRED_FLOW_KEPT;

/// Why a never-granted connection was discarded (the `reason` of `connection.discarded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DiscardReason {
    /// Its user chose Discard.
    Discarded,
    /// Its last consent flow expired more than [`ABANDONED_AFTER`] ago.
    Abandoned,
    /// A connection of another provider was created under its name.
    NameReused,
}

impl DiscardReason {
    fn as_str(self) -> &'static str {
        match self {
            DiscardReason::Discarded => "discarded",
            DiscardReason::Abandoned => "abandoned",
            DiscardReason::NameReused => "name_reused",
        }
    }
}

impl Patchbay {
    /// Discards a connection that never got a grant: unbinds the scenario steps that use it,
    /// destroys its stored settings and deletes it. A connection that was granted once answers
    /// 409 (delete it instead: that revokes its grant).
    pub async fn discard_connection(&self, who: &Principal, id: &str) -> ServiceResult<DeleteReceipt> {
        require(who, Action::Manage)?;
        let c = self.load(who, id).await?;
        if c.status != ConnectionStatus::Pending {
            return Err(ServiceError::Conflict(format!(
                "connection `{}` has been granted access, so it cannot be discarded: delete it instead (that revokes its grant)",
                c.name
            )));
        }
        self.discard(who, &c, DiscardReason::Discarded).await?.ok_or_else(|| not_found(c.id.as_str()))
    }

    /// One pass of the background job: discards the never-granted connections whose last
    /// consent flow expired more than [`ABANDONED_AFTER`] ago. Returns how many.
    pub async fn discard_abandoned_connections(&self) -> ServiceResult<usize> {
        let cut = self.clock.now() - ABANDONED_AFTER;
        // A denied or failed consent consumes its flow but leaves `updated_at` at that moment.
        let due = self.store.abandoned_pending_connections(cut - FLOW_TTL, cut, 100).await?;
        let mut n = 0;
        for (team, id) in due {
            let Some(c) = self.store.get_connection(&team, &id).await? else { continue };
            if self.discard(&system(&team), &c, DiscardReason::Abandoned).await?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Discards `c` if it is still never-granted; `None` when it is gone or was granted since.
    pub(super) async fn discard(
        &self,
        who: &Principal,
        c: &Connection,
        reason: DiscardReason,
    ) -> ServiceResult<Option<DeleteReceipt>> {
        let used_by = self.usages_of(c).await?;
        if !self.store.delete_pending_connection(&c.team_id, &c.id).await? {
            return Ok(None);
        }
        if !used_by.is_empty() {
            self.store.rebind_steps(&c.team_id, &c.id, None, self.clock.now()).await?;
        }
        let detail = format!("provider={} name={} reason={}", c.provider, c.name, reason.as_str());
        self.audit(who, action::CONNECTION_DISCARD, Some(&c.id), AuditOutcome::Ok, Some(&detail)).await?;
        tracing::info!(connection_id = %c.id, provider = %c.provider, reason = reason.as_str(), "connection discarded");
        self.emit(c, kind::DISCARDED, serde_json::json!({"reason": reason.as_str(), "name": c.name})).await;
        Ok(Some(DeleteReceipt {
            id: c.id.to_string(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            secret_destroyed: true,
            revocation: Vec::new(),
            // A connection that was never granted held no grant at the provider.
            grants: GrantsReceipt::default(),
            unbound_steps: used_by,
        }))
    }

    /// The never-granted connection holding `name` in the team, if one does.
    pub(super) async fn pending_holder(&self, who: &Principal, name: &str) -> ServiceResult<Option<Connection>> {
        let holder = self.store.connection_by_name(&who.team_id, name).await?;
        Ok(holder.filter(|c| c.status == ConnectionStatus::Pending))
    }
}

/// Runs the discard job until `shutdown` changes, one pass per `interval`.
pub async fn run_discard_worker(
    patchbay: std::sync::Arc<Patchbay>,
    interval: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::run_every("discard", interval, shutdown, || patchbay.discard_abandoned_connections()).await;
}
