//! Every sealed field of a team, wherever it is stored, for the rotation of its data key
//! (docs/security.md S-04): listed with where it lives, replaced only while unchanged, and a
//! data key destroyed only when no stored field names it any more.
//!
//! Sealed fields live in six columns: `connection_secrets.ciphertext`,
//! `oauth_flows.pkce_verifier`, `pending_revocations.token` and `.client_secret`,
//! `webhooks.secret`, and `team_providers.client_secret` (a discovered server's registered client). Each ciphertext starts with a format byte and the big-endian id of the
//! data key that sealed it (`[0x01][key id u32]…`), so `substr(col, 2, 4)` is its key id in
//! both engines, without any key.

use patchbay_domain::ids::TeamId;

use crate::{Store, StoreError, with_pool};

/// Where one sealed field is stored; the service rebuilds its AAD from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedAt {
    /// A connection's credential or secret setting (`connection_secrets`).
    ConnectionSecret {
        /// The connection.
        connection_id: String,
        /// The field name.
        field: String,
    },
    /// The PKCE verifier of a consent flow in progress (`oauth_flows`).
    FlowVerifier {
        /// The flow's key.
        state_hash: String,
        /// The connection the flow is for.
        connection_id: String,
    },
    /// A token queued for revocation (`pending_revocations.token`).
    RevocationToken {
        /// The queue row.
        id: i64,
        /// The connection it came from.
        connection_id: String,
        /// Its field name (`refresh_token`, `access_token`).
        hint: String,
    },
    /// The connection's own client secret, queued with a revocation
    /// (`pending_revocations.client_secret`).
    RevocationClientSecret {
        /// The queue row.
        id: i64,
        /// The connection it came from.
        connection_id: String,
    },
    /// A webhook's signing secret (`webhooks.secret`).
    WebhookSecret {
        /// The webhook id (`whk_…`).
        webhook_id: String,
    },
    /// The client secret a discovered provider's registration issued
    /// (`team_providers.client_secret`).
    TeamProviderSecret {
        /// The team provider's id.
        provider_id: String,
    },
}

/// One sealed field of a team: where it is, and its ciphertext as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedField {
    /// Where it is stored.
    pub at: SealedAt,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
}

/// A queued revocation's sealed columns: id, connection, hint, token, own client secret.
type RevocationTuple = (i64, String, String, Vec<u8>, Option<Vec<u8>>);

/// The four bytes of a field ciphertext that name its data key.
fn key_id_bytes(key_id: u32) -> Vec<u8> {
    key_id.to_be_bytes().to_vec()
}

impl Store {
    /// Every sealed field of the team, in all six columns.
    pub async fn team_sealed_fields(&self, team: &TeamId) -> Result<Vec<SealedField>, StoreError> {
        let t = team.as_str();
        let secrets: Vec<(String, String, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT s.connection_id, s.field, s.ciphertext FROM connection_secrets s \
             JOIN connections c ON c.id = s.connection_id WHERE c.team_id = $1 ORDER BY s.connection_id, s.field")
            .bind(t).fetch_all(p).await)?;
        let flows: Vec<(String, String, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT state_hash, connection_id, pkce_verifier FROM oauth_flows \
             WHERE team_id = $1 AND pkce_verifier IS NOT NULL ORDER BY state_hash")
            .bind(t).fetch_all(p).await)?;
        let revocations: Vec<RevocationTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, connection_id, hint, token, client_secret FROM pending_revocations WHERE team_id = $1 ORDER BY id")
            .bind(t).fetch_all(p).await)?;
        let hooks: Vec<(String, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, secret FROM webhooks WHERE team_id = $1 ORDER BY id")
            .bind(t).fetch_all(p).await)?;
        let providers: Vec<(String, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, client_secret FROM team_providers WHERE team_id = $1 AND client_secret IS NOT NULL ORDER BY id")
            .bind(t).fetch_all(p).await)?;
        let mut out = Vec::new();
        for (connection_id, field, ciphertext) in secrets {
            out.push(SealedField { at: SealedAt::ConnectionSecret { connection_id, field }, ciphertext });
        }
        for (state_hash, connection_id, ciphertext) in flows {
            out.push(SealedField { at: SealedAt::FlowVerifier { state_hash, connection_id }, ciphertext });
        }
        for (id, connection_id, hint, token, client_secret) in revocations {
            if let Some(ciphertext) = client_secret {
                let at = SealedAt::RevocationClientSecret { id, connection_id: connection_id.clone() };
                out.push(SealedField { at, ciphertext });
            }
            out.push(SealedField { at: SealedAt::RevocationToken { id, connection_id, hint }, ciphertext: token });
        }
        for (webhook_id, ciphertext) in hooks {
            out.push(SealedField { at: SealedAt::WebhookSecret { webhook_id }, ciphertext });
        }
        for (provider_id, ciphertext) in providers {
            out.push(SealedField { at: SealedAt::TeamProviderSecret { provider_id }, ciphertext });
        }
        Ok(out)
    }

    /// Replaces one sealed field of the team with `new`, only if it still holds the ciphertext
    /// `old` read (a concurrent refresh or update wins: `Ok(false)`, and the caller re-reads).
    pub async fn replace_sealed_field(&self, team: &TeamId, old: &SealedField, new: &[u8]) -> Result<bool, StoreError> {
        let t = team.as_str();
        let before = old.ciphertext.as_slice();
        let done = match &old.at {
            SealedAt::ConnectionSecret { connection_id, field } => with_pool!(self, p => sqlx::query(
                "UPDATE connection_secrets SET ciphertext = $1 WHERE connection_id = $2 AND field = $3 \
                 AND ciphertext = $4 AND connection_id IN (SELECT id FROM connections WHERE team_id = $5)")
                .bind(new).bind(connection_id).bind(field).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
            SealedAt::FlowVerifier { state_hash, .. } => with_pool!(self, p => sqlx::query(
                "UPDATE oauth_flows SET pkce_verifier = $1 WHERE state_hash = $2 AND pkce_verifier = $3 AND team_id = $4")
                .bind(new).bind(state_hash).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
            SealedAt::RevocationToken { id, .. } => with_pool!(self, p => sqlx::query(
                "UPDATE pending_revocations SET token = $1 WHERE id = $2 AND token = $3 AND team_id = $4")
                .bind(new).bind(id).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
            SealedAt::RevocationClientSecret { id, .. } => with_pool!(self, p => sqlx::query(
                "UPDATE pending_revocations SET client_secret = $1 WHERE id = $2 AND client_secret = $3 AND team_id = $4")
                .bind(new).bind(id).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
            SealedAt::WebhookSecret { webhook_id } => with_pool!(self, p => sqlx::query(
                "UPDATE webhooks SET secret = $1 WHERE id = $2 AND secret = $3 AND team_id = $4")
                .bind(new).bind(webhook_id).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
            SealedAt::TeamProviderSecret { provider_id } => with_pool!(self, p => sqlx::query(
                "UPDATE team_providers SET client_secret = $1 WHERE id = $2 AND client_secret = $3 AND team_id = $4")
                .bind(new).bind(provider_id).bind(before).bind(t)
                .execute(p).await.map(|r| r.rows_affected()))?,
        };
        Ok(done == 1)
    }

    /// Destroys data key `key_id` of the team, in one statement that checks that no sealed field
    /// of the team names it and that it is not the team's newest key. `Ok(false)`: it is still
    /// in use (or the newest, or gone already), and nothing was deleted.
    pub async fn destroy_unused_team_key(&self, team: &TeamId, key_id: u32) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "DELETE FROM team_keys WHERE team_id = $1 AND key_id = $2 \
             AND key_id < (SELECT MAX(k.key_id) FROM team_keys k WHERE k.team_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM connection_secrets s JOIN connections c ON c.id = s.connection_id \
                 WHERE c.team_id = $1 AND substr(s.ciphertext, 2, 4) = $3) \
             AND NOT EXISTS (SELECT 1 FROM oauth_flows f WHERE f.team_id = $1 AND substr(f.pkce_verifier, 2, 4) = $3) \
             AND NOT EXISTS (SELECT 1 FROM pending_revocations r WHERE r.team_id = $1 \
                 AND (substr(r.token, 2, 4) = $3 OR substr(r.client_secret, 2, 4) = $3)) \
             AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.team_id = $1 AND substr(w.secret, 2, 4) = $3) \
             AND NOT EXISTS (SELECT 1 FROM team_providers t WHERE t.team_id = $1 AND substr(t.client_secret, 2, 4) = $3)")
            .bind(team.as_str())
            .bind(i64::from(key_id))
            .bind(key_id_bytes(key_id))
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
