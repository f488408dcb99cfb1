//! Deleting a team and everything it owns, in one transaction (docs/security.md, "Team
//! deletion"): its data keys go with it, so every ciphertext of the team that survives anywhere
//! (free pages, the WAL, dead tuples, a copy of the database taken later) can never be opened
//! again: crypto-shredding.
//!
//! The audit trail is the one thing kept: it holds no secret, and the deletion's own record is
//! written in the same transaction, so a team is never gone without its record.

use patchbay_domain::ids::TeamId;

use crate::audit::NewAuditEntry;
use crate::time_col::to_ms;
use crate::{Store, StoreError, with_pool};

/// The tables a team's rows are deleted from, in order, each with its condition on `$1` (the
/// team id). Connections go first: like every other transaction this one then writes a
/// connection row before its team's change generation (0008's triggers), so no lock-order
/// cycle. Children before parents for the foreign keys; `teams` last.
pub const TEAM_TABLES: [(&str, &str); 18] = [
    ("connections", "team_id = $1"),
    ("connection_secrets", "connection_id IN (SELECT id FROM connections WHERE team_id = $1)"),
    ("connection_grants", "team_id = $1"),
    ("oauth_flows", "team_id = $1"),
    ("pending_revocations", "team_id = $1"),
    ("webhook_deliveries", "webhook_id IN (SELECT id FROM webhooks WHERE team_id = $1)"),
    ("webhooks", "team_id = $1"),
    ("events", "team_id = $1"),
    ("scenario_steps", "scenario_id IN (SELECT id FROM scenarios WHERE team_id = $1)"),
    ("scenarios", "team_id = $1"),
    // Delete receipts name the team's connections (metadata only); they go with the team.
    ("kept_receipts", "team_id = $1"),
    ("web_sessions", "team_id = $1"),
    ("users", "team_id = $1"),
    ("api_tokens", "team_id = $1"),
    // A discovered provider's client secret is sealed with the team's data key: before the keys.
    ("team_providers", "team_id = $1"),
    ("team_keys", "team_id = $1"),
    ("connect_sessions", "team_id = $1"),
    ("teams", "id = $1"),
];

/// Tables that hold team rows and are deliberately kept when the team is deleted.
pub const KEPT_TABLES: [&str; 1] = ["audit_log"];

impl Store {
    /// Deletes the team and every row it owns (see [`TEAM_TABLES`]), and appends `record` to the
    /// audit trail, in one transaction. Returns the rows deleted per table (tables with none
    /// left out); `Ok(None)`: no such team, nothing changed.
    pub async fn delete_team(
        &self,
        team: &TeamId,
        record: &NewAuditEntry<'_>,
    ) -> Result<Option<Vec<(&'static str, u64)>>, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM teams WHERE id = $1")
                .bind(team.as_str()).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Ok(None);
            }
            // Counted first: deleting the connections removes them by ON DELETE CASCADE.
            let (secrets,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM connection_secrets WHERE connection_id IN \
                (SELECT id FROM connections WHERE team_id = $1)")
                .bind(team.as_str()).fetch_one(&mut *tx).await?;
            let mut counts = Vec::new();
            for (table, condition) in TEAM_TABLES {
                let sql = format!("DELETE FROM {table} WHERE {condition}");
                let n = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team.as_str()).execute(&mut *tx).await?.rows_affected();
                // Said explicitly after the cascade, so no engine setting can leave one behind.
                let n = if table == "connection_secrets" { n.max(u64::try_from(secrets).unwrap_or(0)) } else { n };
                if n > 0 {
                    counts.push((table, n));
                }
            }
            sqlx::query(
                "INSERT INTO audit_log (team_id, at, actor, action, connection_id, outcome, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(record.team_id.as_str())
                .bind(to_ms(record.at))
                .bind(record.actor)
                .bind(record.action)
                .bind(record.connection_id)
                .bind(record.outcome)
                .bind(record.detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(counts))
        })
    }
}
