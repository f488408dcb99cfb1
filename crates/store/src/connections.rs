//! Connections and their encrypted secret fields. A connection row and its secrets are written
//! in one transaction, so a connection never exists half-stored.

use std::collections::BTreeMap;

use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::{from_ms, from_ms_opt, to_ms};
use crate::{Store, StoreError, with_pool};

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
    granted_scopes: String,
    settings: String,
    credential_fingerprint: Option<String>,
    expires_at: Option<i64>,
    reauthorize_by: Option<i64>,
    last_verify: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, team_id, provider, name, status, status_reason, account, granted_scopes, settings, \
     credential_fingerprint, expires_at, reauthorize_by, last_verify, created_at, updated_at";

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("connection {}: {what}: {e}", r.id));
        Ok(Connection {
            id: ConnectionId::parse(&r.id).map_err(|e| corrupt("id", e.to_string()))?,
            team_id: TeamId::parse(&r.team_id).map_err(|e| corrupt("team", e.to_string()))?,
            status: r.status.parse::<ConnectionStatus>().map_err(|e| corrupt("status", e))?,
            granted_scopes: ScopeSet::parse(&r.granted_scopes, " "),
            settings: serde_json::from_str::<BTreeMap<String, String>>(&r.settings)
                .map_err(|e| corrupt("settings", e.to_string()))?,
            last_verify: r
                .last_verify
                .as_deref()
                .map(serde_json::from_str::<VerifyResult>)
                .transpose()
                .map_err(|e| corrupt("last_verify", e.to_string()))?,
            expires_at: from_ms_opt(r.expires_at)?,
            reauthorize_by: from_ms_opt(r.reauthorize_by)?,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
            provider: r.provider,
            name: r.name,
            status_reason: r.status_reason,
            account: r.account,
            credential_fingerprint: r.credential_fingerprint,
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
                 settings, credential_fingerprint, expires_at, reauthorize_by, last_verify, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
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
             last_verify = $4, updated_at = $5 WHERE team_id = $6 AND id = $7")
            .bind(status.as_str())
            .bind(reason)
            .bind(&result.account)
            .bind(json)
            .bind(to_ms(result.checked_at))
            .bind(team.as_str())
            .bind(id.as_str())
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
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
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("DELETE FROM connections WHERE team_id = $1 AND id = $2")
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
