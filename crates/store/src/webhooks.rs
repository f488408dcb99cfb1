//! Webhook subscriptions and their delivery queue. The signing secret is stored sealed; a
//! delivery row is claimed with a conditional update so one worker (or node) sends it at a time.

use patchbay_domain::ids::TeamId;
use time::OffsetDateTime;

use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// A webhook subscription.
#[derive(Debug, Clone)]
pub struct WebhookRow {
    /// Id (`whk_…`).
    pub id: String,
    /// Team.
    pub team_id: TeamId,
    /// Target URL.
    pub url: String,
    /// Sealed signing secret.
    pub secret: Vec<u8>,
    /// Event types it wants (empty: all).
    pub event_types: Vec<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A delivery due now.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Delivery id.
    pub id: i64,
    /// Attempts so far.
    pub attempts: i64,
    /// The subscription.
    pub webhook: WebhookRow,
    /// Event id.
    pub event_id: i64,
    /// Event type.
    pub event_type: String,
    /// Event time.
    pub event_at: OffsetDateTime,
    /// Event data (JSON text).
    pub event_data: String,
}

type HookTuple = (String, String, String, Vec<u8>, String, i64);

fn hook((id, team, url, secret, types, created): HookTuple) -> Result<WebhookRow, StoreError> {
    Ok(WebhookRow {
        id,
        team_id: TeamId::parse(&team).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        url,
        secret,
        event_types: types.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        created_at: from_ms(created)?,
    })
}

impl Store {
    /// Stores a subscription.
    pub async fn insert_webhook(&self, w: &WebhookRow) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO webhooks (id, team_id, url, secret, event_types, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&w.id).bind(w.team_id.as_str()).bind(&w.url).bind(&w.secret).bind(w.event_types.join(" "))
            .bind(to_ms(w.created_at)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The team's subscriptions.
    pub async fn list_webhooks(&self, team: &TeamId) -> Result<Vec<WebhookRow>, StoreError> {
        let rows: Vec<HookTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, team_id, url, secret, event_types, created_at FROM webhooks WHERE team_id = $1 ORDER BY created_at")
            .bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter().map(hook).collect()
    }

    /// Deletes a subscription (its queued deliveries go with it).
    pub async fn delete_webhook(&self, team: &TeamId, id: &str) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("DELETE FROM webhooks WHERE team_id = $1 AND id = $2")
                .bind(team.as_str()).bind(id).execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Queues a delivery of `event_id` to every subscription of the team that wants its type.
    pub async fn queue_deliveries(
        &self,
        team: &TeamId,
        event_id: i64,
        event_type: &str,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let hooks = self.list_webhooks(team).await?;
        let mut n = 0;
        for h in hooks.iter().filter(|h| h.event_types.is_empty() || h.event_types.iter().any(|t| t == event_type)) {
            n += with_pool!(self, p => sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, attempts, next_attempt_at, state) VALUES ($1, $2, 0, $3, 'pending')")
                .bind(&h.id).bind(event_id).bind(to_ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        }
        Ok(n)
    }

    /// Claims due deliveries (pushing each `lease` ahead so no other worker sends it meanwhile).
    pub async fn claim_due_deliveries(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        type Row = (i64, i64, i64, String, String, String, Vec<u8>, String, i64, i64, String, i64, String);
        let rows: Vec<Row> = with_pool!(self, p => sqlx::query_as(
            "SELECT d.id, d.attempts, d.next_attempt_at, w.id, w.team_id, w.url, w.secret, w.event_types, w.created_at, \
             e.id, e.type, e.at, e.data FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             JOIN events e ON e.id = d.event_id WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at LIMIT $2")
            .bind(to_ms(now)).bind(limit).fetch_all(p).await)?;
        let mut out = Vec::new();
        for r in rows {
            let claimed = with_pool!(self, p => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND state = 'pending'")
                .bind(to_ms(now + lease)).bind(r.0).bind(r.2).execute(p).await.map(|x| x.rows_affected()))?;
            if claimed == 1 {
                out.push(DueDelivery {
                    id: r.0,
                    attempts: r.1,
                    webhook: hook((r.3, r.4, r.5, r.6, r.7, r.8))?,
                    event_id: r.9,
                    event_type: r.10,
                    event_at: from_ms(r.11)?,
                    event_data: r.12,
                });
            }
        }
        Ok(out)
    }

    /// Marks a delivery `delivered` or `failed` (given up), or reschedules it.
    pub async fn update_delivery(
        &self,
        id: i64,
        state: &str,
        attempts: i64,
        next: OffsetDateTime,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $5")
            .bind(state).bind(attempts).bind(to_ms(next)).bind(error).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
