//! Webhook subscriptions (create, list, delete; admins only) and the delivery worker: lifecycle
//! events POSTed to a team's URL, signed with HMAC-SHA256, retried with [`DELIVERY_RETRY`]. The
//! body is the event as `GET /v1/events` shows it — never a secret. The events themselves are
//! recorded and queued by `events`.
//!
//! Signature: header `Patchbay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//! with the subscription's secret (shown once, at creation). Receivers recompute it and reject
//! stale timestamps to stop replays.

use std::sync::Arc;

use aws_lc_rs::hmac;
use patchbay_domain::SecretString;
use patchbay_domain::ids::{ConnectionId, WebhookId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::random;
use patchbay_store::{DueDelivery, WebhookRow};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::access::require_to;
use crate::audit::{AuditOutcome, action};
use crate::backoff::Backoff;
use crate::events::kind;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: i64 = 8;

/// Retry after a failed delivery: 5 s · 2ⁿ (n = attempts so far, so 10 s after the first),
/// capped at an hour, no jitter (deliveries are already spread by their events).
pub(crate) const DELIVERY_RETRY: Backoff =
    Backoff { base: std::time::Duration::from_secs(5), cap: std::time::Duration::from_secs(3600), jitter: 0.0 };

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST events (https; http only to loopback when private networks are allowed).
    pub url: String,
    /// Event types to send (empty or absent: all).
    #[serde(default)]
    pub events: Vec<String>,
}

fn expose<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(v.expose_secret()),
        None => s.serialize_none(),
    }
}

/// A subscription as shown; the secret only in the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Event types (empty: all).
    pub events: Vec<String>,
    /// Signing secret — returned once, at creation.
    #[serde(serialize_with = "expose", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub secret: Option<SecretString>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

fn admin(who: &Principal) -> ServiceResult<()> {
    require_to(who, Action::Administer, "manage webhooks")
}

/// The `Patchbay-Signature` header value for a body.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    format!("t={timestamp},v1={}", random::hex(tag.as_ref()))
}

/// Webhook secrets are sealed with the team's data key like connection fields; their AAD uses
/// this all-zero pseudo connection id (never generated for a real connection) and the field
/// `webhook:<id>`, so a sealed webhook secret cannot stand in for any other field.
pub(crate) fn webhook_aad_id() -> ConnectionId {
    ConnectionId::parse("con_00000000000000000000000000000000").expect("a valid constant id")
}

/// The AAD field name of webhook `id`'s sealed secret.
pub(crate) fn webhook_field(id: &str) -> String {
    format!("webhook:{id}")
}

impl Patchbay {
    /// Creates a subscription; the answer carries its signing secret, once.
    pub async fn create_webhook(&self, who: &Principal, req: CreateWebhook) -> ServiceResult<WebhookView> {
        admin(who)?;
        let url = url::Url::parse(req.url.trim()).map_err(|e| {
            ServiceError::Invalid(format!("`url` is not a URL ({e}): write e.g. https://hooks.example.com/patchbay"))
        })?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(ServiceError::Invalid("webhook URLs must use https".into()));
        }
        self.http.check_url(&url).map_err(|e| ServiceError::Invalid(format!("webhook URL refused: {e}")))?;
        if let Some(bad) = req.events.iter().find(|e| !kind::ALL.contains(&e.as_str())) {
            return Err(ServiceError::Invalid(format!(
                "unknown event type `{bad}`: use one of {}",
                kind::ALL.join(", ")
            )));
        }
        self.keys.require_unsealed()?;
        let secret = SecretString::from(format!("whsec_{}", random::token(32)));
        let id = WebhookId::generate().to_string();
        let now = self.clock.now();
        let field = webhook_field(&id);
        let sealed = self
            .keys
            .seal_fields(&self.store, &who.team_id, &webhook_aad_id(), &[(field, &secret)], now)
            .await?
            .pop()
            .map(|(_, blob)| blob)
            .ok_or_else(|| ServiceError::Internal("sealing produced nothing".into()))?;
        let row = WebhookRow {
            id: id.clone(),
            team_id: who.team_id.clone(),
            url: url.to_string(),
            secret: sealed,
            event_types: req.events.clone(),
            created_at: now,
        };
        self.store.insert_webhook(&row).await?;
        self.audit(who, action::WEBHOOK_CREATE, None, AuditOutcome::Ok, Some(&format!("{id} {}", row.url))).await?;
        Ok(WebhookView { id, url: row.url, events: req.events, secret: Some(secret), created_at: now })
    }

    /// The team's subscriptions (without secrets).
    pub async fn list_webhooks(&self, who: &Principal) -> ServiceResult<Vec<WebhookView>> {
        admin(who)?;
        Ok(self
            .store
            .list_webhooks(&who.team_id)
            .await?
            .into_iter()
            .map(|w| WebhookView {
                id: w.id,
                url: w.url,
                events: w.event_types,
                secret: None,
                created_at: w.created_at,
            })
            .collect())
    }

    /// Deletes a subscription.
    pub async fn delete_webhook(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        admin(who)?;
        if !self.store.delete_webhook(&who.team_id, id).await? {
            return Err(ServiceError::NotFound(format!("no webhook `{id}` in your team")));
        }
        self.audit(who, action::WEBHOOK_DELETE, None, AuditOutcome::Ok, Some(id)).await
    }

    /// One pass of the delivery worker.
    pub async fn deliver_due_webhooks(&self) -> ServiceResult<usize> {
        let now = self.clock.now();
        let due = self.store.claim_due_deliveries(now, Duration::minutes(2), 50).await?;
        let mut delivered = 0;
        for d in due {
            let attempts = d.attempts + 1;
            match self.deliver(&d).await {
                Ok(()) => {
                    self.store.update_delivery(d.id, "delivered", attempts, now, None).await?;
                    delivered += 1;
                }
                Err(reason) if attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(webhook = %d.webhook.id, %reason, "webhook delivery given up");
                    self.store.update_delivery(d.id, "failed", attempts, now, Some(&reason)).await?;
                }
                Err(reason) => {
                    let delay = DELIVERY_RETRY.delay(attempts);
                    self.store
                        .update_delivery(d.id, "pending", attempts, self.clock.now() + delay, Some(&reason))
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    async fn deliver(&self, d: &DueDelivery) -> Result<(), String> {
        let field = webhook_field(&d.webhook.id);
        let blobs = [(field.clone(), d.webhook.secret.clone())];
        let secret = self
            .keys
            .open_fields(&self.store, &d.webhook.team_id, &webhook_aad_id(), &blobs)
            .await
            .map_err(|e| e.to_string())?
            .remove(&field)
            .ok_or("the webhook secret is missing")?;
        let data: serde_json::Value = serde_json::from_str(&d.event_data).map_err(|e| e.to_string())?;
        let body = json!({
            "id": d.event_id,
            "type": d.event_type,
            "at": d.event_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "data": data,
        })
        .to_string();
        let t = self.clock.now().unix_timestamp();
        let url = url::Url::parse(&d.webhook.url).map_err(|e| e.to_string())?;
        let request = self
            .http
            .request(http::Method::POST, url)
            .map_err(|e| e.to_string())?
            .header("content-type", "application/json")
            .header("patchbay-event", d.event_type.as_str())
            .header("patchbay-delivery", d.id.to_string())
            .header("patchbay-signature", signature(secret.expose_secret(), t, body.as_bytes()))
            .body(body);
        match self.http.fetch(request).await {
            Ok(r) if r.status.is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status.as_u16())),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Runs the delivery loop until `shutdown` changes, one pass per `interval`.
pub async fn run_worker(
    patchbay: Arc<Patchbay>,
    interval: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::run_every("webhooks", interval, shutdown, || patchbay.deliver_due_webhooks()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Recomputed independently: HMAC-SHA256(key="whsec_test", "1700000000.{}").
        let sig = signature("whsec_test", 1_700_000_000, b"{}");
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, b"{}"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, b"{}"));
    }

    #[test]
    fn deliveries_back_off_from_ten_seconds_to_an_hour() {
        // The numbers the delivery worker used before the shared Backoff: 5 s << attempts, ≤ 1 h.
        for attempts in 1..=12 {
            let old = (5i64 << attempts.min(10)).min(3600);
            assert_eq!(DELIVERY_RETRY.delay(attempts), Duration::seconds(old), "{attempts}");
        }
    }
}
