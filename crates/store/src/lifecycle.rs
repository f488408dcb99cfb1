//! Token lifecycle persistence: the refresh lease and its generation fence, the scheduler's due
//! index, and lifecycle events.
//!
//! The lease is a conditional update (`… WHERE generation = $seen AND lease is free`), so on any
//! engine and any number of nodes exactly one caller holds it; the write of new tokens is fenced
//! by `generation = $seen AND lease_owner = $me`, so a caller whose lease expired (paused,
//! partitioned) can never overwrite a newer token. No transaction is held across the provider
//! call: the lease is taken, committed, and only then does the request leave.

use patchbay_domain::connection::ConnectionStatus;
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use serde::Serialize;
use time::OffsetDateTime;

use crate::time_col::{from_ms, from_ms_opt, to_ms};
use crate::{Store, StoreError, with_pool};

/// Lifecycle columns of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Bumped by every credential change; the fence of refresh writes.
    pub generation: i64,
    /// Who holds the refresh lease.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<OffsetDateTime>,
    /// `in_flight` / `unknown` when a refresh's outcome is not known yet.
    pub refresh_state: Option<String>,
    /// Consecutive transient failures.
    pub failure_count: i64,
    /// Last successful refresh (or grant).
    pub last_refreshed_at: Option<OffsetDateTime>,
    /// When the scheduler next looks at it.
    pub next_action_at: Option<OffsetDateTime>,
    /// Smallest days-before-expiry warning already emitted.
    pub warned_days: Option<i64>,
}

impl Lifecycle {
    /// The state of a grant just obtained at `at`: no lease, no failures, nothing warned.
    pub fn fresh(at: OffsetDateTime) -> Lifecycle {
        Lifecycle {
            generation: 0,
            lease_owner: None,
            lease_until: None,
            refresh_state: None,
            failure_count: 0,
            last_refreshed_at: Some(at),
            next_action_at: None,
            warned_days: None,
        }
    }
}

/// A refreshed credential to write under the fence.
#[derive(Debug)]
pub struct RefreshWrite<'a> {
    /// Sealed fields to replace (the access token, and the refresh token when rotated).
    pub secrets: &'a [(String, Vec<u8>)],
    /// New expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Granted scopes after the refresh.
    pub granted_scopes: &'a ScopeSet,
    /// New fingerprint.
    pub fingerprint: &'a str,
    /// Next scheduler action.
    pub next_action_at: Option<OffsetDateTime>,
    /// Time of the write.
    pub now: OffsetDateTime,
}

/// A failed refresh to record (lease released, credential kept).
#[derive(Debug)]
pub struct RefreshFailure<'a> {
    /// New status (`degraded` or `needs_reauth`).
    pub status: ConnectionStatus,
    /// Why.
    pub reason: &'a str,
    /// `unknown` when the request may have been processed, else `None`.
    pub refresh_state: Option<&'a str>,
    /// Next scheduler action (retry time), `None` for a dead grant.
    pub next_action_at: Option<OffsetDateTime>,
    /// Time.
    pub now: OffsetDateTime,
}

/// A stored lifecycle event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventRow {
    /// Monotonic id (cursor).
    pub id: i64,
    /// Connection concerned.
    pub connection_id: Option<String>,
    /// `connection.refreshed`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Details (never a secret).
    pub data: serde_json::Value,
}

/// Filter for reading events, newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only this connection.
    pub connection_id: Option<String>,
    /// Only this type.
    pub event_type: Option<String>,
    /// Only at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only before this time.
    pub until: Option<OffsetDateTime>,
    /// Only older than this id.
    pub before_id: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: u32,
}

type LifecycleTuple = (i64, Option<String>, Option<i64>, Option<String>, i64, Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// The lifecycle columns of a team's connection.
    pub async fn lifecycle(&self, team: &TeamId, id: &ConnectionId) -> Result<Option<Lifecycle>, StoreError> {
        let row: Option<LifecycleTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT generation, lease_owner, lease_until, refresh_state, failure_count, last_refreshed_at, next_action_at, \
             warned_days FROM connections WHERE team_id = $1 AND id = $2")
            .bind(team.as_str()).bind(id.as_str()).fetch_optional(p).await)?;
        row.map(|t| {
            Ok(Lifecycle {
                generation: t.0,
                lease_owner: t.1,
                lease_until: from_ms_opt(t.2)?,
                refresh_state: t.3,
                failure_count: t.4,
                last_refreshed_at: from_ms_opt(t.5)?,
                next_action_at: from_ms_opt(t.6)?,
                warned_days: t.7,
            })
        })
        .transpose()
    }

    /// Takes the refresh lease if the generation is still `seen` and nobody holds a live lease,
    /// recording `in_flight` before any request leaves. Returns whether it was taken.
    pub async fn take_refresh_lease(
        &self,
        id: &ConnectionId,
        seen_generation: i64,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET lease_owner = $1, lease_until = $2, \
             refresh_state = CASE WHEN refresh_state IS NULL THEN 'in_flight' ELSE 'unknown' END \
             WHERE id = $3 AND generation = $4 AND (lease_until IS NULL OR lease_until < $5)")
            .bind(owner).bind(to_ms(until)).bind(id.as_str()).bind(seen_generation).bind(to_ms(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Whether `owner` still holds a live lease at `now` on generation `seen` (checked right
    /// before the request leaves, so a caller paused past its lease does not send a stale token).
    pub async fn holds_lease(
        &self,
        id: &ConnectionId,
        seen: i64,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n: i64 = with_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM connections WHERE id = $1 AND generation = $2 AND lease_owner = $3 AND lease_until >= $4")
            .bind(id.as_str()).bind(seen).bind(owner).bind(to_ms(now)).fetch_one(p).await)?;
        Ok(n == 1)
    }

    /// Gives the lease back when a refresh stopped before its request left (sealed, decrypt or
    /// configuration error): nothing happened at the provider, so `in_flight` is cleared.
    pub async fn release_lease(&self, id: &ConnectionId, seen_generation: i64, owner: &str) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE connections SET lease_owner = NULL, lease_until = NULL, \
             refresh_state = CASE WHEN refresh_state = 'in_flight' THEN NULL ELSE refresh_state END \
             WHERE id = $1 AND generation = $2 AND lease_owner = $3")
            .bind(id.as_str()).bind(seen_generation).bind(owner).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes refreshed tokens under the fence and releases the lease, in one transaction.
    /// `Ok(false)`: fenced out (the generation moved or the lease was lost); nothing written.
    pub async fn finish_refresh(
        &self,
        id: &ConnectionId,
        seen_generation: i64,
        owner: &str,
        w: &RefreshWrite<'_>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE connections SET generation = generation + 1, lease_owner = NULL, lease_until = NULL, \
                 refresh_state = NULL, failure_count = 0, last_refreshed_at = $1, next_action_at = $2, expires_at = $3, \
                 granted_scopes = $4, credential_fingerprint = $5, status = 'active', status_reason = NULL, updated_at = $1 \
                 WHERE id = $6 AND generation = $7 AND lease_owner = $8")
                .bind(to_ms(w.now))
                .bind(w.next_action_at.map(to_ms))
                .bind(w.expires_at.map(to_ms))
                .bind(w.granted_scopes.join(" "))
                .bind(w.fingerprint)
                .bind(id.as_str())
                .bind(seen_generation)
                .bind(owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            for (field, blob) in w.secrets {
                sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1 AND field = $2")
                    .bind(id.as_str()).bind(field).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO connection_secrets (connection_id, field, ciphertext) VALUES ($1, $2, $3)")
                    .bind(id.as_str()).bind(field).bind(blob).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records a failed refresh and releases the lease (fenced like a success).
    pub async fn fail_refresh(
        &self,
        id: &ConnectionId,
        seen_generation: i64,
        owner: &str,
        f: &RefreshFailure<'_>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET lease_owner = NULL, lease_until = NULL, refresh_state = $1, \
             failure_count = failure_count + 1, status = $2, status_reason = $3, next_action_at = $4, updated_at = $5 \
             WHERE id = $6 AND generation = $7 AND lease_owner = $8")
            .bind(f.refresh_state)
            .bind(f.status.as_str())
            .bind(f.reason)
            .bind(f.next_action_at.map(to_ms))
            .bind(to_ms(f.now))
            .bind(id.as_str())
            .bind(seen_generation)
            .bind(owner)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks a grant change outside the refresh path (a new consent, a reauthorize): bumps the
    /// generation so in-flight refreshes of the old grant are fenced out, and resets the
    /// lifecycle columns.
    pub async fn reset_lifecycle(
        &self,
        id: &ConnectionId,
        now: OffsetDateTime,
        next_action_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE connections SET generation = generation + 1, lease_owner = NULL, lease_until = NULL, refresh_state = NULL, \
             failure_count = 0, last_refreshed_at = $1, next_action_at = $2, warned_days = NULL WHERE id = $3")
            .bind(to_ms(now)).bind(next_action_at.map(to_ms)).bind(id.as_str())
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Releases every lease and turns `in_flight` into `unknown`: only for a single-process
    /// database (SQLite) at start, when no other holder can exist.
    pub async fn release_stale_leases(&self) -> Result<u64, StoreError> {
        Ok(with_pool!(self, p => sqlx::query(
            "UPDATE connections SET lease_owner = NULL, lease_until = NULL, \
             refresh_state = CASE WHEN refresh_state IS NULL THEN NULL ELSE 'unknown' END WHERE lease_owner IS NOT NULL \
             OR refresh_state IS NOT NULL")
            .execute(p).await.map(|r| r.rows_affected()))?)
    }

    /// Sets when the scheduler next looks at a connection.
    pub async fn set_next_action(&self, id: &ConnectionId, at: Option<OffsetDateTime>) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("UPDATE connections SET next_action_at = $1 WHERE id = $2")
            .bind(at.map(to_ms)).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records the smallest expiry warning emitted.
    pub async fn set_warned_days(&self, id: &ConnectionId, days: i64) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("UPDATE connections SET warned_days = $1 WHERE id = $2")
            .bind(days).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Claims up to `limit` connections whose next action is due, pushing each one's
    /// `next_action_at` `lease` ahead with a conditional update so no other worker takes it.
    /// Reads only the index: cost grows with due connections, not all of them.
    pub async fn claim_due_connections(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> Result<Vec<(TeamId, ConnectionId)>, StoreError> {
        let rows: Vec<(String, String, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, id, next_action_at FROM connections WHERE next_action_at IS NOT NULL AND next_action_at <= $1 \
             ORDER BY next_action_at LIMIT $2")
            .bind(to_ms(now)).bind(limit).fetch_all(p).await)?;
        let mut out = Vec::with_capacity(rows.len());
        for (team, id, seen) in rows {
            let n = with_pool!(self, p => sqlx::query(
                "UPDATE connections SET next_action_at = $1 WHERE id = $2 AND next_action_at = $3")
                .bind(to_ms(now + lease)).bind(&id).bind(seen).execute(p).await.map(|r| r.rows_affected()))?;
            if n == 1 {
                let corrupt = |e: patchbay_domain::ids::InvalidId| StoreError::Corrupt(e.to_string());
                out.push((TeamId::parse(&team).map_err(corrupt)?, ConnectionId::parse(&id).map_err(corrupt)?));
            }
        }
        Ok(out)
    }

    /// Connections whose last refresh outcome is not known (a crash mid-refresh), for the
    /// resolution pass at start.
    pub async fn unresolved_refreshes(&self) -> Result<Vec<(TeamId, ConnectionId)>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, id FROM connections WHERE refresh_state IS NOT NULL").fetch_all(p).await)?;
        rows.into_iter()
            .map(|(t, i)| {
                let corrupt = |e: patchbay_domain::ids::InvalidId| StoreError::Corrupt(e.to_string());
                Ok((TeamId::parse(&t).map_err(corrupt)?, ConnectionId::parse(&i).map_err(corrupt)?))
            })
            .collect()
    }

    /// Deletes events older than `before` that no pending webhook delivery still needs, and
    /// finished deliveries (delivered or given up) older than `before`. Returns rows deleted.
    pub async fn prune_events(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let cutoff = to_ms(before);
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let deliveries = sqlx::query(
                "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND event_id IN (SELECT id FROM events WHERE at < $1)")
                .bind(cutoff).execute(&mut *tx).await?.rows_affected();
            let events = sqlx::query(
                "DELETE FROM events WHERE at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = events.id)")
                .bind(cutoff).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(deliveries + events)
        })
    }

    /// Appends an event; returns its id.
    pub async fn insert_event(
        &self,
        team: &TeamId,
        connection: Option<&ConnectionId>,
        event_type: &str,
        at: OffsetDateTime,
        data: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let id: i64 = with_pool!(self, p => sqlx::query_scalar(
            "INSERT INTO events (team_id, connection_id, type, at, data) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(team.as_str())
            .bind(connection.map(|c| c.as_str().to_owned()))
            .bind(event_type)
            .bind(to_ms(at))
            .bind(data.to_string())
            .fetch_one(p)
            .await)?;
        Ok(id)
    }

    /// The team's events, newest first.
    pub async fn list_events(&self, team: &TeamId, q: &EventQuery) -> Result<Vec<EventRow>, StoreError> {
        let rows: Vec<(i64, Option<String>, String, i64, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, connection_id, type, at, data FROM events WHERE team_id = $1 \
             AND ($2 IS NULL OR connection_id = $2) AND ($3 IS NULL OR type = $3) AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR id < $6) ORDER BY id DESC LIMIT $7")
            .bind(team.as_str())
            .bind(&q.connection_id)
            .bind(&q.event_type)
            .bind(q.since.map(to_ms))
            .bind(q.until.map(to_ms))
            .bind(q.before_id)
            .bind(i64::from(q.limit.clamp(1, 500)))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(id, connection_id, event_type, at, data)| {
                Ok(EventRow {
                    id,
                    connection_id,
                    event_type,
                    at: from_ms(at)?,
                    data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?,
                })
            })
            .collect()
    }
}
