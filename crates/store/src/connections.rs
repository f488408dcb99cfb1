//! Connections and their encrypted secret fields. A connection row and its secrets are written
//! in one transaction, so a connection never exists half-stored.

use std::collections::BTreeMap;

use patchbay_domain::connection::{AuthorizationOutcome, Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::end_user::EndUser;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::{from_ms, from_ms_opt, to_ms};
use crate::{Store, StoreError, with_pool};

/// A new static credential (API key, basic) for [`Store::replace_static_credential`].
#[derive(Debug, Clone, Copy)]
pub struct StaticCredentialUpdate<'a> {
    /// Team of the connection.
    pub team: &'a TeamId,
    /// The connection.
    pub id: &'a ConnectionId,
    /// (field name, sealed blob) pairs; each field must already be stored.
    pub secrets: &'a [(String, Vec<u8>)],
    /// Status afterwards (`active`).
    pub status: ConnectionStatus,
    /// Account the provider reported; `None` keeps the stored one.
    pub account: Option<&'a str>,
    /// The verify outcome (`None`: saved without a check, the old outcome is cleared).
    pub last_verify: Option<&'a VerifyResult>,
    /// Fingerprint of the new main secret.
    pub fingerprint: &'a str,
    /// Time of the change.
    pub now: OffsetDateTime,
}

/// A connection to insert together with its sealed secret fields.
#[derive(Debug)]
pub struct NewConnection<'a> {
    /// The connection metadata.
    pub connection: &'a Connection,
    /// (field name, sealed blob) pairs.
    pub secrets: &'a [(String, Vec<u8>)],
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: String,
    team_id: String,
    provider: String,
    name: String,
    status: String,
    status_reason: Option<String>,
    account: Option<String>,
    account_id: Option<String>,
    granted_scopes: String,
    requested_scopes: String,
    settings: String,
    credential_fingerprint: Option<String>,
    expires_at: Option<i64>,
    reauthorize_by: Option<i64>,
    last_verify: Option<String>,
    last_authorization: Option<String>,
    created_at: i64,
    updated_at: i64,
    end_user_id: Option<String>,
    end_user_name: Option<String>,
    metadata: String,
}

const COLUMNS: &str = "id, team_id, provider, name, status, status_reason, account, account_id, granted_scopes, requested_scopes, \
     settings, credential_fingerprint, expires_at, reauthorize_by, last_verify, last_authorization, created_at, updated_at, \
     end_user_id, end_user_name, metadata";

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("connection {}: {what}: {e}", r.id));
        Ok(Connection {
            id: ConnectionId::parse(&r.id).map_err(|e| corrupt("id", e.to_string()))?,
            team_id: TeamId::parse(&r.team_id).map_err(|e| corrupt("team", e.to_string()))?,
            status: r.status.parse::<ConnectionStatus>().map_err(|e| corrupt("status", e))?,
            granted_scopes: ScopeSet::parse(&r.granted_scopes, " "),
            requested_scopes: ScopeSet::parse(&r.requested_scopes, " "),
            settings: serde_json::from_str::<BTreeMap<String, String>>(&r.settings)
                .map_err(|e| corrupt("settings", e.to_string()))?,
            last_verify: r
                .last_verify
                .as_deref()
                .map(serde_json::from_str::<VerifyResult>)
                .transpose()
                .map_err(|e| corrupt("last_verify", e.to_string()))?,
            last_authorization: r
                .last_authorization
                .as_deref()
                .map(serde_json::from_str::<AuthorizationOutcome>)
                .transpose()
                .map_err(|e| corrupt("last_authorization", e.to_string()))?,
            expires_at: from_ms_opt(r.expires_at)?,
            reauthorize_by: from_ms_opt(r.reauthorize_by)?,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
            provider: r.provider,
            name: r.name,
            status_reason: r.status_reason,
            account: r.account,
            account_id: r.account_id,
            credential_fingerprint: r.credential_fingerprint,
            end_user: r.end_user_id.map(|id| EndUser { id, display_name: r.end_user_name }),
            metadata: serde_json::from_str::<BTreeMap<String, String>>(&r.metadata)
                .map_err(|e| corrupt("metadata", e.to_string()))?,
        })
    }
}

fn last_verify_json(c: &Connection) -> Option<String> {
    c.last_verify.as_ref().map(|v| serde_json::to_string(v).expect("a verify result always serializes"))
}

fn settings_json(c: &Connection) -> String {
    serde_json::to_string(&c.settings).expect("a string map always serializes")
}

impl Store {
    /// Inserts a connection and its secrets atomically. A name already used in the team gives
    /// [`StoreError::Conflict`].
    pub async fn insert_connection(&self, new: NewConnection<'_>) -> Result<(), StoreError> {
        let c = new.connection;
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO connections (id, team_id, provider, name, status, status_reason, account, granted_scopes, \
                 settings, credential_fingerprint, expires_at, reauthorize_by, last_verify, created_at, updated_at, \
                 requested_scopes, account_id, end_user_id, end_user_name, metadata) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)")
                .bind(c.id.as_str())
                .bind(c.team_id.as_str())
                .bind(&c.provider)
                .bind(&c.name)
                .bind(c.status.as_str())
                .bind(&c.status_reason)
                .bind(&c.account)
                .bind(c.granted_scopes.join(" "))
                .bind(settings_json(c))
                .bind(&c.credential_fingerprint)
                .bind(c.expires_at.map(to_ms))
                .bind(c.reauthorize_by.map(to_ms))
                .bind(last_verify_json(c))
                .bind(to_ms(c.created_at))
                .bind(to_ms(c.updated_at))
                .bind(c.requested_scopes.join(" "))
                .bind(&c.account_id)
                .bind(c.end_user.as_ref().map(|u| u.id.as_str()))
                .bind(c.end_user.as_ref().and_then(|u| u.display_name.as_deref()))
                .bind(serde_json::to_string(&c.metadata).expect("a string map always serializes"))
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "a connection with this name in the team"))?;
            for (field, blob) in new.secrets {
                sqlx::query("INSERT INTO connection_secrets (connection_id, field, ciphertext) VALUES ($1, $2, $3)")
                    .bind(c.id.as_str())
                    .bind(field)
                    .bind(blob)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The team's connections, oldest first.
    pub async fn list_connections(&self, team: &TeamId) -> Result<Vec<Connection>, StoreError> {
        let rows: Vec<ConnectionRow> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE team_id = $1 ORDER BY created_at, id")))
            .bind(team.as_str())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Connection::try_from).collect()
    }

    /// One connection of the team; `None` when missing *or* owned by another team.
    pub async fn get_connection(&self, team: &TeamId, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
        let row: Option<ConnectionRow> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE team_id = $1 AND id = $2")))
            .bind(team.as_str())
            .bind(id.as_str())
            .fetch_optional(p)
            .await)?;
        row.map(Connection::try_from).transpose()
    }

    /// The team's connection named `name`, if any.
    pub async fn connection_by_name(&self, team: &TeamId, name: &str) -> Result<Option<Connection>, StoreError> {
        let row: Option<ConnectionRow> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE team_id = $1 AND name = $2")))
            .bind(team.as_str())
            .bind(name)
            .fetch_optional(p)
            .await)?;
        row.map(Connection::try_from).transpose()
    }

    /// Never-granted (`pending`) connections unchanged since before `changed_before` and with
    /// no consent flow expiring at or after `flows_before`: the abandoned ones, as (team, id).
    pub async fn abandoned_pending_connections(
        &self,
        changed_before: OffsetDateTime,
        flows_before: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<(TeamId, ConnectionId)>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT c.team_id, c.id FROM connections c WHERE c.status = 'pending' AND c.updated_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM oauth_flows f WHERE f.connection_id = c.id AND f.expires_at >= $2) \
             ORDER BY c.updated_at LIMIT $3")
            .bind(to_ms(changed_before))
            .bind(to_ms(flows_before))
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(team, id)| {
                let corrupt = |e: String| StoreError::Corrupt(format!("connection {id}: {e}"));
                Ok((
                    TeamId::parse(&team).map_err(|e| corrupt(e.to_string()))?,
                    ConnectionId::parse(&id).map_err(|e| corrupt(e.to_string()))?,
                ))
            })
            .collect()
    }

    /// Starts a never-granted connection over: new settings and secret settings, same id and
    /// name. `Ok(false)`: no such connection in the team, or it is no longer `pending`.
    pub async fn restart_pending_connection(
        &self,
        c: &Connection,
        secrets: &[(String, Vec<u8>)],
    ) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE connections SET settings = $1, status_reason = $2, updated_at = $3, requested_scopes = $6 \
                 WHERE team_id = $4 AND id = $5 AND status = 'pending'")
                .bind(settings_json(c))
                .bind(&c.status_reason)
                .bind(to_ms(c.updated_at))
                .bind(c.team_id.as_str())
                .bind(c.id.as_str())
                .bind(c.requested_scopes.join(" "))
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1")
                .bind(c.id.as_str())
                .execute(&mut *tx)
                .await?;
            for (field, blob) in secrets {
                sqlx::query("INSERT INTO connection_secrets (connection_id, field, ciphertext) VALUES ($1, $2, $3)")
                    .bind(c.id.as_str())
                    .bind(field)
                    .bind(blob)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Names in use in the team that start with `prefix` (for default names).
    pub async fn connection_names_like(&self, team: &TeamId, prefix: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT name FROM connections WHERE team_id = $1 AND substr(name, 1, length($2)) = $2")
            .bind(team.as_str())
            .bind(prefix)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Renames a connection. `Ok(false)`: no such connection in the team.
    pub async fn rename_connection(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET name = $1, updated_at = $2 WHERE team_id = $3 AND id = $4")
            .bind(name)
            .bind(to_ms(now))
            .bind(team.as_str())
            .bind(id.as_str())
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a connection with this name in the team"))?;
        Ok(done == 1)
    }

    /// Records a verify outcome: status, reason, account (kept when the check did not yield
    /// one) and the result itself.
    pub async fn record_verify(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        status: ConnectionStatus,
        reason: Option<&str>,
        result: &VerifyResult,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(result).expect("a verify result always serializes");
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET status = $1, status_reason = $2, account = COALESCE($3, account), \
             last_verify = $4, updated_at = $5, account_id = COALESCE(account_id, $8) WHERE team_id = $6 AND id = $7")
            .bind(status.as_str())
            .bind(reason)
            .bind(&result.account)
            .bind(json)
            .bind(to_ms(result.checked_at))
            .bind(team.as_str())
            .bind(id.as_str())
            .bind(&result.account_id)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Replaces the scopes a connection remembers as asked for but not granted yet.
    pub async fn set_requested_scopes(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        scopes: &ScopeSet,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET requested_scopes = $1 WHERE team_id = $2 AND id = $3")
            .bind(scopes.join(" "))
            .bind(team.as_str())
            .bind(id.as_str())
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Replaces a static credential (API key, basic) in place, in one transaction: each sealed
    /// field's row is overwritten (the old ciphertext does not survive in another row), the
    /// fingerprint, verify outcome, status and account are updated. Every field in `secrets`
    /// must already exist; `Ok(false)` when the connection is missing or a field is not stored
    /// (nothing is changed then).
    pub async fn replace_static_credential(&self, u: &StaticCredentialUpdate<'_>) -> Result<bool, StoreError> {
        let last_verify = u.last_verify.map(|v| serde_json::to_string(v).expect("a verify result always serializes"));
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(
                "UPDATE connections SET status = $1, status_reason = NULL, account = COALESCE($2, account), \
                 last_verify = $3, credential_fingerprint = $4, updated_at = $5 WHERE team_id = $6 AND id = $7")
                .bind(u.status.as_str())
                .bind(u.account)
                .bind(last_verify)
                .bind(u.fingerprint)
                .bind(to_ms(u.now))
                .bind(u.team.as_str())
                .bind(u.id.as_str())
                .execute(&mut *tx)
                .await?;
            if updated.rows_affected() != 1 {
                return Ok(false);
            }
            for (field, blob) in u.secrets {
                let n = sqlx::query("UPDATE connection_secrets SET ciphertext = $1 WHERE connection_id = $2 AND field = $3")
                    .bind(blob)
                    .bind(u.id.as_str())
                    .bind(field)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n != 1 {
                    // Dropping the transaction rolls the metadata update back.
                    return Ok(false);
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records the outcome of a consent callback on the connection.
    pub async fn set_last_authorization(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        outcome: &AuthorizationOutcome,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(outcome).expect("an authorization outcome always serializes");
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET last_authorization = $1 WHERE team_id = $2 AND id = $3")
            .bind(json).bind(team.as_str()).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Moves when a connection's grant ends (a refresh token's stated or fixed lifetime).
    pub async fn set_reauthorize_by(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET reauthorize_by = $1 WHERE team_id = $2 AND id = $3")
            .bind(to_ms(at)).bind(team.as_str()).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Replaces what the provider said about a connection's grant (its metadata).
    pub async fn set_metadata(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        metadata: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(metadata).expect("a string map always serializes");
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET metadata = $1 WHERE team_id = $2 AND id = $3")
            .bind(json).bind(team.as_str()).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The sealed secret fields of a team's connection (empty when none or not the team's).
    pub async fn connection_secrets(
        &self,
        team: &TeamId,
        id: &ConnectionId,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            // EXISTS rather than a join: PostgreSQL's generic plan for the join scanned the team.
            "SELECT field, ciphertext FROM connection_secrets WHERE connection_id = $2 \
             AND EXISTS (SELECT 1 FROM connections WHERE id = $2 AND team_id = $1) ORDER BY field")
            .bind(team.as_str())
            .bind(id.as_str())
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Names of the stored secret fields of a team's connections, as (connection id, field) —
    /// never the ciphertexts. `only` restricts it to one connection.
    pub async fn secret_field_names(
        &self,
        team: &TeamId,
        only: Option<&ConnectionId>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // Two statements rather than `($2 IS NULL OR c.id = $2)`: that form defeats the primary
        // key index and turns a one-connection read into a scan of the team.
        let rows: Vec<(String, String)> = match only {
            Some(id) => with_pool!(self, p => sqlx::query_as(
                "SELECT connection_id, field FROM connection_secrets WHERE connection_id = $1 \
                 AND EXISTS (SELECT 1 FROM connections WHERE id = $1 AND team_id = $2) ORDER BY field")
                .bind(id.as_str())
                .bind(team.as_str())
                .fetch_all(p)
                .await)?,
            None => with_pool!(self, p => sqlx::query_as(
                "SELECT s.connection_id, s.field FROM connection_secrets s JOIN connections c ON c.id = s.connection_id \
                 WHERE c.team_id = $1 ORDER BY s.connection_id, s.field")
                .bind(team.as_str())
                .fetch_all(p)
                .await)?,
        };
        Ok(rows)
    }

    /// Deletes a connection and destroys its secrets in one transaction. `Ok(false)`: no such
    /// connection in the team. The connection row goes first, so this transaction, like every
    /// other, writes a connection row before its team's change generation (no lock-order cycle).
    pub async fn delete_connection(&self, team: &TeamId, id: &ConnectionId) -> Result<bool, StoreError> {
        self.delete_where(team, id, "").await
    }

    /// Deletes a connection that is still `pending` (never granted) and its secrets, in one
    /// transaction. `Ok(false)`: no such connection in the team, or it was granted meanwhile.
    pub async fn delete_pending_connection(&self, team: &TeamId, id: &ConnectionId) -> Result<bool, StoreError> {
        self.delete_where(team, id, " AND status = 'pending'").await
    }

    /// Deletes a connection matching `extra` (a fixed SQL condition) and its secrets.
    async fn delete_where(&self, team: &TeamId, id: &ConnectionId, extra: &'static str) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM connections WHERE team_id = $1 AND id = $2{extra}")))
                .bind(team.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                // Already gone through ON DELETE CASCADE; said explicitly so no engine setting
                // can leave a ciphertext behind.
                sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
