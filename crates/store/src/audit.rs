//! The audit trail: append-only records of who did what to which connection, never a secret.

use patchbay_domain::ids::TeamId;
use serde::Serialize;
use time::OffsetDateTime;

use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// A record to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// Team the action concerns.
    pub team_id: &'a TeamId,
    /// When.
    pub at: OffsetDateTime,
    /// Who (`token:name (tok_…)`, `user:…`, `system`).
    pub actor: &'a str,
    /// What (`connection.create`, `connection.secret_read`, …).
    pub action: &'a str,
    /// Which connection, if any.
    pub connection_id: Option<&'a str>,
    /// `ok`, `denied`, `failed`, …
    pub outcome: &'a str,
    /// Extra non-secret detail (provider, new name, error code).
    pub detail: Option<&'a str>,
}

/// An owned record, as the group-commit writer queues it ([`Store::append_audit_batch`]).
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Team the action concerns.
    pub team_id: TeamId,
    /// When.
    pub at: OffsetDateTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which connection, if any.
    pub connection_id: Option<String>,
    /// `ok`, `denied`, `failed`, …
    pub outcome: String,
    /// Extra non-secret detail.
    pub detail: Option<String>,
}

/// Rows per statement of a batch: 7 parameters each stays far below both engines' limits.
const BATCH_ROWS_PER_STATEMENT: usize = 500;

/// A stored audit record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Monotonic id (use as a cursor).
    pub id: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which connection.
    pub connection_id: Option<String>,
    /// Outcome.
    pub outcome: String,
    /// Detail.
    pub detail: Option<String>,
}

/// Filter for reading the trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this connection.
    pub connection_id: Option<String>,
    /// Only records older than this id (paging cursor).
    pub before_id: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: u32,
}

type AuditTuple = (i64, i64, String, String, Option<String>, String, Option<String>);

impl Store {
    /// Appends a record. The caller treats a failure as fatal for the action (S-09: no secret
    /// is handed out unless its read was recorded).
    pub async fn append_audit(&self, e: &NewAuditEntry<'_>) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO audit_log (team_id, at, actor, action, connection_id, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(e.team_id.as_str())
            .bind(to_ms(e.at))
            .bind(e.actor)
            .bind(e.action)
            .bind(e.connection_id)
            .bind(e.outcome)
            .bind(e.detail)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Appends many records durably at once (group commit): one transaction on SQLite, one
    /// multi-row insert per 500 records on PostgreSQL (in one transaction too). All or none are
    /// written; the error is the whole batch's.
    pub async fn append_audit_batch(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in records.chunks(BATCH_ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (team_id, at, actor, action, connection_id, outcome, detail) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.team_id.as_str())
                        .push_bind(to_ms(r.at))
                        .push_bind(r.actor.as_str())
                        .push_bind(r.action.as_str())
                        .push_bind(r.connection_id.as_deref())
                        .push_bind(r.outcome.as_str())
                        .push_bind(r.detail.as_deref());
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Reads the team's trail, newest first.
    pub async fn list_audit(&self, team: &TeamId, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::from(q.limit.clamp(1, 500));
        let rows: Vec<AuditTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, at, actor, action, connection_id, outcome, detail FROM audit_log \
             WHERE team_id = $1 AND ($2 IS NULL OR connection_id = $2) AND ($3 IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4")
            .bind(team.as_str())
            .bind(&q.connection_id)
            .bind(q.before_id)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(id, at, actor, action, connection_id, outcome, detail)| {
                Ok(AuditEntry { id, at: from_ms(at)?, actor, action, connection_id, outcome, detail })
            })
            .collect()
    }
}
