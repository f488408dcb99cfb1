//! Lifecycle events (`connection.refreshed`, `needs_reauth`, `expiring`, …): their names, the
//! one writer (which also queues the webhook deliveries of each event), the events a verify
//! outcome implies, retention, and the admins' read at `GET /v1/events`. An event never carries
//! a secret: only ids, names, statuses and reasons. Delivering the queued webhooks is the
//! `webhooks` module's job; this module does not call it.

use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::ids::TeamId;
use patchbay_domain::principal::{Action, Principal};
/// Filter of [`Patchbay::list_events`] (connection, type, time range, paging).
pub use patchbay_store::EventQuery;
use patchbay_store::EventRow;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::require_to;
use crate::{Patchbay, ServiceResult};

/// One lifecycle event, as `GET /v1/events` and the Events page show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventView {
    /// Monotonic id (cursor).
    pub id: i64,
    /// Connection concerned.
    pub connection_id: Option<String>,
    /// `connection.refreshed`, … (see [`kind`]).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Details (never a secret).
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        EventView { id: e.id, connection_id: e.connection_id, event_type: e.event_type, at: e.at, data: e.data }
    }
}

/// Event type names (stable; webhooks filter on them).
pub mod kind {
    /// A connection was created.
    pub const CREATED: &str = "connection.created";
    /// A verify call succeeded.
    pub const VERIFIED: &str = "connection.verified";
    /// A verify call failed.
    pub const VERIFY_FAILED: &str = "connection.verify_failed";
    /// An access token was refreshed.
    pub const REFRESHED: &str = "connection.refreshed";
    /// A refresh failed (transiently or for good).
    pub const REFRESH_FAILED: &str = "connection.refresh_failed";
    /// The provider fails transiently; the credential is kept.
    pub const DEGRADED: &str = "connection.degraded";
    /// A degraded connection works again.
    pub const RECOVERED: &str = "connection.recovered";
    /// The user must reauthorize.
    pub const NEEDS_REAUTH: &str = "connection.needs_reauth";
    /// The grant expires soon.
    pub const EXPIRING: &str = "connection.expiring";
    /// A reauthorization completed.
    pub const REAUTHORIZED: &str = "connection.reauthorized";
    /// The connection was deleted.
    pub const DELETED: &str = "connection.deleted";
    /// A never-granted connection was discarded (by its user, or when its consent was abandoned).
    pub const DISCARDED: &str = "connection.discarded";

    /// Every type, for validating webhook filters.
    pub const ALL: [&str; 12] = [
        CREATED,
        VERIFIED,
        VERIFY_FAILED,
        REFRESHED,
        REFRESH_FAILED,
        DEGRADED,
        RECOVERED,
        NEEDS_REAUTH,
        EXPIRING,
        REAUTHORIZED,
        DELETED,
        DISCARDED,
    ];
}

impl Patchbay {
    /// Records an event about a connection (and queues its webhook deliveries). A failure to
    /// record is logged, not propagated: the state change it describes already happened.
    pub(crate) async fn emit(&self, c: &Connection, event_type: &str, extra: Value) {
        let mut data = json!({
            "connection_id": c.id.to_string(),
            "connection_name": c.name,
            "provider": c.provider,
        });
        // A connection made for a platform's end user names them in every event, so the
        // platform can route it to its user.
        if let (Some(user), Value::Object(base)) = (&c.end_user, &mut data) {
            base.insert("end_user".into(), json!(user));
        }
        if let (Value::Object(base), Value::Object(more)) = (&mut data, extra) {
            base.extend(more);
        }
        match self.store.insert_event(&c.team_id, Some(&c.id), event_type, self.clock.now(), &data).await {
            Ok(id) => self.queue_webhooks(&c.team_id, id, event_type).await,
            Err(e) => tracing::error!(error = %e, connection_id = %c.id, event_type, "cannot record an event"),
        }
    }

    /// Queues one delivery per matching subscription; logged, not propagated, like [`Self::emit`].
    async fn queue_webhooks(&self, team: &TeamId, event_id: i64, event_type: &str) {
        if let Err(e) = self.store.queue_deliveries(team, event_id, event_type, self.clock.now()).await {
            tracing::error!(error = %e, event_id, "cannot queue webhook deliveries");
        }
    }

    /// Events for a verify outcome, including the status transition it caused.
    pub(crate) async fn emit_verify(&self, before: &Connection, status: ConnectionStatus, result: &VerifyResult) {
        if result.ok {
            self.emit(before, kind::VERIFIED, json!({"account": result.account})).await;
            if before.status == ConnectionStatus::Degraded || before.status == ConnectionStatus::NeedsReauth {
                self.emit(before, kind::RECOVERED, json!({})).await;
            }
        } else {
            self.emit(before, kind::VERIFY_FAILED, json!({"error": result.error})).await;
            if status == ConnectionStatus::NeedsReauth && before.status != ConnectionStatus::NeedsReauth {
                self.emit(before, kind::NEEDS_REAUTH, json!({"reason": result.error})).await;
            } else if status == ConnectionStatus::Degraded && before.status != ConnectionStatus::Degraded {
                self.emit(before, kind::DEGRADED, json!({"reason": result.error})).await;
            }
        }
    }

    /// Deletes events past the retention period (see [`crate::ServiceConfig::event_retention`]).
    /// The audit trail is not pruned: it is the record of secret access.
    pub async fn prune_events(&self) -> ServiceResult<usize> {
        let before = self.clock.now() - self.config.event_retention;
        Ok(self.store.prune_events(before).await? as usize)
    }

    /// The team's events, newest first (admins).
    pub async fn list_events(&self, who: &Principal, q: &EventQuery) -> ServiceResult<Vec<EventView>> {
        require_to(who, Action::Administer, "read events")?;
        Ok(self.store.list_events(&who.team_id, q).await?.into_iter().map(EventView::from).collect())
    }
}

/// Runs the retention pass once an hour until `shutdown` changes.
pub async fn run_retention_worker(patchbay: std::sync::Arc<Patchbay>, shutdown: tokio::sync::watch::Receiver<bool>) {
    crate::workers::run_every("retention", std::time::Duration::from_secs(3600), shutdown, || patchbay.prune_events())
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_serialize_like_the_stored_rows() {
        let row = EventRow {
            id: 3,
            connection_id: Some("con_1".into()),
            event_type: kind::REFRESH_FAILED.into(),
            at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            data: json!({"reason": "invalid_grant", "attempt": 2}),
        };
        let view = EventView::from(row.clone());
        assert_eq!(serde_json::to_string(&view).unwrap(), serde_json::to_string(&row).unwrap());
    }
}
