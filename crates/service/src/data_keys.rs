//! Rotating one team's data key, online (docs/security.md S-04, "Data-key rotation"):
//! `POST /v1/team/keys/rotate` and `patchbay keys rotate-team`.
//!
//! 1. A new data key (the team's newest id + 1) is added, wrapped under the active master key.
//!    Every node seals new fields with a team's newest key, so from here on nothing new is
//!    sealed with an old one.
//! 2. Every sealed field of the team (credentials and secret settings, PKCE verifiers of flows in
//!    progress, tokens queued for revocation, webhook secrets) still under an older key is
//!    opened and sealed again under the new key, each written only if unchanged since it was read
//!    (a concurrent refresh or update wins; the next pass re-reads it). A `secret.read` record
//!    (`data key rotation`) is written before a connection's fields are opened (S-09).
//! 3. After a pause ([`ServiceConfig::data_key_settle`](crate::ServiceConfig)) in which writes
//!    that sealed under the old key just before step 1 land, a last pass moves those too.
//! 4. Each older key is destroyed by one statement that checks no stored field names it; a key
//!    still in use (a field that does not decrypt, or one written meanwhile) is kept and
//!    reported, and running the rotation again finishes it.
//!
//! A team with more than one data key has an unfinished rotation: the next run resumes it
//! (towards the newest key) rather than add another key, so two runs never race to destroy a key
//! the other is sealing with. The run is audited as `team.key_rotate`.

use std::collections::HashSet;

use patchbay_domain::credential::field;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_store::{SealedAt, SealedField};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{TEAM_PROVIDER_SECRET_FIELD, require_to, team_provider_owner};
use crate::audit::{AuditOutcome, SYSTEM_ACTOR, action};
use crate::secrets::client_secret_field;
use crate::webhooks::{webhook_aad_id, webhook_field};
use crate::{Patchbay, ServiceError, ServiceResult};

/// Re-encryption passes before the settle pause (each re-reads what a concurrent write changed).
const PASSES: usize = 3;

/// What a data-key rotation did (`POST /v1/team/keys/rotate`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamKeyRotation {
    /// The team's data key now: every field is sealed with it, and new ones will be.
    pub key_id: u32,
    /// `true`: this run finished an earlier rotation that had not destroyed its old key yet,
    /// instead of adding a key.
    pub resumed: bool,
    /// Sealed fields moved to the new key.
    pub reencrypted: usize,
    /// Older data keys destroyed: no stored field can be opened with them any more.
    pub destroyed: Vec<u32>,
    /// Older data keys kept because stored fields still name them; run the rotation again.
    pub kept: Vec<u32>,
    /// Fields that could not be opened (damaged, or sealed under a key that is gone); they keep
    /// their key from being destroyed. The server log names them.
    pub unreadable: usize,
}

/// A sealed field's AAD (connection id, field name), rebuilt from where it is stored.
fn aad_of(at: &SealedAt) -> (String, String) {
    match at {
        SealedAt::ConnectionSecret { connection_id, field } => (connection_id.clone(), field.clone()),
        SealedAt::FlowVerifier { connection_id, .. } => (connection_id.clone(), field::PKCE_VERIFIER.to_owned()),
        SealedAt::RevocationToken { connection_id, hint, .. } => (connection_id.clone(), hint.clone()),
        SealedAt::RevocationClientSecret { connection_id, .. } => (connection_id.clone(), client_secret_field()),
        SealedAt::WebhookSecret { webhook_id } => (webhook_aad_id().to_string(), webhook_field(webhook_id)),
        SealedAt::TeamProviderSecret { provider_id } => {
            (team_provider_owner(provider_id), TEAM_PROVIDER_SECRET_FIELD.to_owned())
        }
    }
}

/// The data key a ciphertext names, `None` when it is malformed.
fn key_of(f: &SealedField) -> Option<u32> {
    patchbay_vault::blob_key_id(&f.ciphertext).ok()
}

/// The progress of one rotation.
struct Run<'a> {
    team: &'a TeamId,
    actor: &'a str,
    target: u32,
    /// AAD connection ids whose `secret.read` record is written.
    audited: HashSet<String>,
    /// Ciphertexts that failed to open (not retried).
    unreadable: HashSet<Vec<u8>>,
    reencrypted: usize,
}

impl Patchbay {
    /// Rotates the data key of the admin's team (see the module header).
    pub async fn rotate_team_key(&self, who: &Principal) -> ServiceResult<TeamKeyRotation> {
        require_to(who, Action::Administer, "rotate the team's data key")?;
        self.rotate_data_key(&who.team_id, &who.actor.label()).await
    }

    /// Rotates the data key of team `team` (id or name), as `system` (`patchbay keys rotate-team`).
    pub async fn rotate_team_key_of(&self, team: &str) -> ServiceResult<TeamKeyRotation> {
        let team = self.find_team(team).await?;
        self.rotate_data_key(&team.id, SYSTEM_ACTOR).await
    }

    async fn rotate_data_key(&self, team: &TeamId, actor: &str) -> ServiceResult<TeamKeyRotation> {
        self.keys.require_unsealed()?;
        let (target, resumed) = self.target_key(team).await?;
        let mut run = Run { team, actor, target, audited: HashSet::new(), unreadable: HashSet::new(), reencrypted: 0 };
        for _ in 0..PASSES {
            if self.reencrypt_pass(&mut run).await? == 0 {
                break;
            }
        }
        // Writes that read the old key as the newest just before it was superseded land now.
        tokio::time::sleep(self.config.data_key_settle).await;
        self.reencrypt_pass(&mut run).await?;
        let (destroyed, kept) = self.destroy_old_keys(team, target).await?;
        let report = TeamKeyRotation {
            key_id: target,
            resumed,
            reencrypted: run.reencrypted,
            destroyed,
            kept,
            unreadable: run.unreadable.len(),
        };
        let outcome = if report.kept.is_empty() { AuditOutcome::Ok } else { AuditOutcome::Retry };
        let detail = format!(
            "key={} resumed={} reencrypted={} destroyed={:?} kept={:?} unreadable={}",
            report.key_id, report.resumed, report.reencrypted, report.destroyed, report.kept, report.unreadable
        );
        self.audit_as(team, actor, action::TEAM_KEY_ROTATE, None, outcome, Some(&detail)).await?;
        tracing::info!(team = %team, key_id = target, reencrypted = report.reencrypted, destroyed = ?report.destroyed, kept = ?report.kept, "team data key rotated");
        Ok(report)
    }

    /// The key to rotate to: the newest one when an earlier rotation is unfinished (more than one
    /// key), else a new one.
    async fn target_key(&self, team: &TeamId) -> ServiceResult<(u32, bool)> {
        let keys = self.store.team_keys(team).await?;
        let Some(newest) = keys.last() else {
            return Err(ServiceError::Conflict(
                "the team has no data key to rotate yet: one is created with its first stored secret".into(),
            ));
        };
        if keys.len() > 1 {
            return Ok((newest.key_id, true));
        }
        let next =
            newest.key_id.checked_add(1).ok_or_else(|| ServiceError::Internal("data key ids exhausted".into()))?;
        match self.keys.add_team_key(&self.store, team, next, self.clock.now()).await {
            Ok(()) => Ok((next, false)),
            // Another run added it a moment ago: finish that rotation with it.
            Err(ServiceError::Conflict(_)) => Ok((next, true)),
            Err(e) => Err(e),
        }
    }

    /// Moves every field of the team still under an older key to `run.target`; returns how many
    /// were left for the next pass (changed meanwhile). Unreadable fields are counted, not retried.
    async fn reencrypt_pass(&self, run: &mut Run<'_>) -> ServiceResult<usize> {
        let mut left = 0;
        for f in self.store.team_sealed_fields(run.team).await? {
            if key_of(&f) == Some(run.target) || run.unreadable.contains(&f.ciphertext) {
                continue;
            }
            let (connection, name) = aad_of(&f.at);
            self.audit_rotation_read(run, &connection, &f.at).await?;
            let new = match self
                .keys
                .reseal(&self.store, run.team, (&connection, &name), &f.ciphertext, run.target)
                .await
            {
                Ok(Some(new)) => new,
                Ok(None) => continue,
                Err(ServiceError::Sealed(m)) => return Err(ServiceError::Sealed(m)),
                Err(e) => {
                    tracing::warn!(team = %run.team, connection = %connection, field = %name, error = %e, "a sealed field cannot be re-encrypted: its data key is kept");
                    run.unreadable.insert(f.ciphertext.clone());
                    continue;
                }
            };
            if self.store.replace_sealed_field(run.team, &f, &new).await? {
                run.reencrypted += 1;
            } else {
                left += 1;
            }
        }
        Ok(left)
    }

    /// The `secret.read` record before the first field of a connection (or webhook) is opened.
    async fn audit_rotation_read(&self, run: &mut Run<'_>, connection: &str, at: &SealedAt) -> ServiceResult<()> {
        let (key, detail) = match at {
            SealedAt::WebhookSecret { webhook_id } => (webhook_id.clone(), format!("data key rotation {webhook_id}")),
            SealedAt::TeamProviderSecret { provider_id } => {
                (team_provider_owner(provider_id), format!("data key rotation provider {provider_id}"))
            }
            _ => (connection.to_owned(), "data key rotation".to_owned()),
        };
        if !run.audited.insert(key) {
            return Ok(());
        }
        let cid = match at {
            SealedAt::WebhookSecret { .. } | SealedAt::TeamProviderSecret { .. } => None,
            _ => ConnectionId::parse(connection).ok(),
        };
        self.audit_as(run.team, run.actor, action::SECRET_READ, cid.as_ref(), AuditOutcome::Ok, Some(&detail)).await
    }

    /// Destroys every key older than `target` that no stored field names; (destroyed, kept).
    async fn destroy_old_keys(&self, team: &TeamId, target: u32) -> ServiceResult<(Vec<u32>, Vec<u32>)> {
        let (mut destroyed, mut kept) = (Vec::new(), Vec::new());
        for k in self.store.team_keys(team).await?.into_iter().filter(|k| k.key_id < target) {
            if self.store.destroy_unused_team_key(team, k.key_id).await? {
                destroyed.push(k.key_id);
            } else {
                kept.push(k.key_id);
            }
        }
        self.keys.forget_team_keys(team, Some(&destroyed));
        Ok((destroyed, kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sealed_column_gets_the_aad_it_was_sealed_with() {
        let c = "con_0123456789abcdef0123456789abcdef".to_owned();
        let aad = |at| aad_of(&at);
        assert_eq!(
            aad(SealedAt::ConnectionSecret { connection_id: c.clone(), field: "api_key".into() }),
            (c.clone(), "api_key".into())
        );
        assert_eq!(
            aad(SealedAt::FlowVerifier { state_hash: "h".into(), connection_id: c.clone() }),
            (c.clone(), "pkce_verifier".into())
        );
        assert_eq!(
            aad(SealedAt::RevocationToken { id: 1, connection_id: c.clone(), hint: "refresh_token".into() }),
            (c.clone(), "refresh_token".into())
        );
        assert_eq!(
            aad(SealedAt::RevocationClientSecret { id: 1, connection_id: c.clone() }),
            (c, "setting:client_secret".into())
        );
        assert_eq!(
            aad(SealedAt::WebhookSecret { webhook_id: "whk_1".into() }),
            ("con_00000000000000000000000000000000".into(), "webhook:whk_1".into())
        );
        assert_eq!(
            aad(SealedAt::TeamProviderSecret { provider_id: "items".into() }),
            ("provider:items".into(), "client_secret".into())
        );
    }
}
