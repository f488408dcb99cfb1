//! Deleting a team for good, crypto-shredding its secrets (docs/security.md, "Team deletion"):
//! `patchbay admin delete-team TEAM --confirm NAME`.
//!
//! 1. The caller must repeat the team's exact name: nothing happens on a mismatch.
//! 2. Unless told not to, every connection is deleted through the ordinary delete path first
//!    (`delete_connection_with`, forced): its tokens are revoked at the provider (RFC 7009) where
//!    the provider allows it, its secret rows destroyed, and the delete audited. A revocation
//!    that fails transiently cannot be retried afterwards, because its queued copy is sealed with
//!    the data key about to be destroyed: such tokens are reported as not revoked, like
//!    revocations the team had queued before.
//! 3. Every row the team owns and its data keys are deleted in one transaction, together with
//!    the `team.delete` audit record (the trail itself is kept). Whatever ciphertext of the team
//!    survives anywhere (free pages, the WAL, dead tuples, a later copy of the database) names a
//!    data key that no longer exists, so no master key opens it again.
//! 4. This process forgets the team's cached data keys.

use patchbay_domain::ids::TeamId;
use patchbay_store::{NewAuditEntry, SealedAt};
use serde::Serialize;

use crate::access::system;
use crate::audit::{SYSTEM_ACTOR, action};
use crate::revocations::{RevocationItem, RevocationOutcome};
use crate::{Patchbay, ServiceError, ServiceResult};

/// What became of one connection of a deleted team.
#[derive(Debug, Serialize)]
pub struct DeletedConnection {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its provider.
    pub provider: String,
    /// What happened to each credential at the provider (empty when revocation was skipped).
    pub revocation: Vec<RevocationItem>,
}

/// What a team deletion did.
#[derive(Debug, Serialize)]
pub struct TeamDeletion {
    /// The deleted team's id (its audit trail stays under it).
    pub team_id: String,
    /// Its name.
    pub name: String,
    /// Its connections, each deleted through the delete path (revoked first unless skipped).
    pub connections: Vec<DeletedConnection>,
    /// Credentials that may still work at their provider (not revoked, revocation failed or
    /// skipped, or no revocation API): revoke them there by hand.
    pub still_valid_at_providers: usize,
    /// Rows deleted, per table (`team_keys` are the destroyed data keys).
    pub rows: Vec<(String, u64)>,
}

/// A revocation that will never be retried: the data key sealing its queued copy is destroyed.
fn final_item(mut item: RevocationItem) -> RevocationItem {
    if item.outcome == RevocationOutcome::Pending {
        item.outcome = RevocationOutcome::Failed;
        item.detail = format!(
            "{}; it will not be retried because the team's data key is destroyed: revoke it at the provider",
            item.detail.trim_end_matches("; Patchbay keeps retrying in the background")
        );
    }
    item
}

fn still_valid(items: &[RevocationItem]) -> usize {
    items
        .iter()
        .filter(|i| {
            !matches!(i.outcome, RevocationOutcome::Revoked | RevocationOutcome::NotNeeded | RevocationOutcome::Kept)
        })
        .count()
}

impl Patchbay {
    /// Deletes team `team` (id or name) and destroys its data keys. `confirm` must be the team's
    /// exact name. With `revoke`, every connection is revoked at its provider first (needs the
    /// key ring unsealed); without it the credentials are destroyed here only.
    pub async fn delete_team(&self, team: &str, confirm: &str, revoke: bool) -> ServiceResult<TeamDeletion> {
        let row = self.find_team(team).await?;
        if confirm != row.name {
            return Err(ServiceError::Invalid(format!(
                "deleting team `{}` destroys every connection and secret of it for good: confirm with its exact name",
                row.name
            )));
        }
        if revoke {
            self.keys.require_unsealed().map_err(|e| match e {
                ServiceError::Sealed(m) => ServiceError::Sealed(format!(
                    "{m}. Revoking the team's connections needs the key; delete the team without revoking to skip it"
                )),
                e => e,
            })?;
        }
        // Revocations queued earlier are never retried either (counted before step 2 queues any).
        let queued = self.store.team_sealed_fields(&row.id).await?;
        let queued = queued.iter().filter(|f| matches!(f.at, SealedAt::RevocationToken { .. })).count();
        let (connections, still) = self.delete_team_connections(&row.id, revoke).await?;
        let still = still + queued;
        let detail = format!(
            "name={} connections={} revoked_first={revoke} still_valid_at_providers={still}",
            row.name,
            connections.len()
        );
        let record = NewAuditEntry {
            team_id: &row.id,
            at: self.clock.now(),
            actor: SYSTEM_ACTOR,
            action: action::TEAM_DELETE.as_str(),
            connection_id: None,
            outcome: "ok",
            detail: Some(&detail),
        };
        let rows = self
            .store
            .delete_team(&row.id, &record)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("team `{}` was deleted meanwhile", row.name)))?;
        self.keys.forget_team_keys(&row.id, None);
        tracing::info!(team = %row.id, connections = connections.len(), still_valid = still, "team deleted, its data keys destroyed");
        Ok(TeamDeletion {
            team_id: row.id.to_string(),
            name: row.name,
            connections,
            still_valid_at_providers: still,
            rows: rows.into_iter().map(|(t, n)| (t.to_owned(), n)).collect(),
        })
    }

    /// Step 2: each connection through the delete path (revoking first), or only listed when
    /// revocation is skipped (the team's deletion destroys them). Returns them and how many
    /// credentials may still be valid at their providers.
    async fn delete_team_connections(
        &self,
        team: &TeamId,
        revoke: bool,
    ) -> ServiceResult<(Vec<DeletedConnection>, usize)> {
        let mut out = Vec::new();
        let mut still = 0;
        let who = system(team);
        for c in self.store.list_connections(team).await? {
            let revocation = if revoke {
                let receipt = self.delete_connection_with(&who, c.id.as_str(), true).await?;
                let items: Vec<RevocationItem> = receipt.revocation.into_iter().map(final_item).collect();
                still += still_valid(&items);
                items
            } else {
                still += usize::from(c.credential_fingerprint.is_some());
                Vec::new()
            };
            out.push(DeletedConnection { id: c.id.to_string(), name: c.name, provider: c.provider, revocation });
        }
        Ok((out, still))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_revocation_becomes_final_and_says_why() {
        let pending = RevocationItem {
            credential: "refresh_token".into(),
            outcome: RevocationOutcome::Pending,
            detail: "Demo Cloud revocation endpoint answered HTTP 503; Patchbay keeps retrying in the background"
                .into(),
        };
        let item = final_item(pending);
        assert_eq!(item.outcome, RevocationOutcome::Failed);
        assert!(item.detail.starts_with("Demo Cloud revocation endpoint answered HTTP 503; it will not be retried"));
        assert!(!item.detail.contains("keeps retrying"), "{}", item.detail);
        assert_eq!(still_valid(&[item]), 1);
    }
}
