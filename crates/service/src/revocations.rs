//! Revoking a deleted connection's tokens at the provider (RFC 7009), now and later.
//!
//! Delete revokes the refresh token first (which at most providers also kills its access
//! tokens), then the access token, each with its `token_type_hint`. The local secret is destroyed
//! at once either way. A revocation that fails transiently (5xx, 429, timeout) is queued with its
//! still-sealed token and retried by [`run_worker`] with the backoff of [`revocation_retry`]
//! until it succeeds or the give-up time passes; every outcome is audited.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::credential::field;
use patchbay_domain::ids::ConnectionId;
use patchbay_domain::principal::Principal;
use patchbay_domain::provider::{AuthMode, Provider, RevocationScope};
use patchbay_providers::oauth::{self as client, RevokeOutcome};
use patchbay_store::{GrantRecord, PendingRevocation, SupersededRevocation};
use serde::{Deserialize, Serialize};
use time::Duration;
use utoipa::ToSchema;

use crate::audit::{AuditOutcome, SYSTEM_ACTOR, action};
use crate::backoff::Backoff;
use crate::secrets::client_secret_field;
use crate::words::word_enum;
use crate::{Patchbay, ServiceResult};

word_enum! {
    /// What happened to one credential at the provider on delete.
    pub enum RevocationOutcome {
        /// The provider confirmed the revocation.
        Revoked = "revoked",
        /// It failed transiently; Patchbay keeps retrying in the background.
        Pending = "pending",
        /// The provider has no way to revoke it (or left the catalog).
        NotSupported = "not_supported",
        /// The provider refused it.
        Failed = "failed",
        /// There was nothing to revoke (no tokens were ever received).
        NotNeeded = "not_needed",
        /// Deliberately left live: another connection holds the same authorization at a
        /// provider whose revocation ends all of it (Google's Gmail and Drive of one account).
        Kept = "kept",
    }
}

/// What happened to one credential at the provider on delete.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevocationItem {
    /// Which credential (`api_key`, `refresh_token`, …).
    pub credential: String,
    /// `revoked`, `pending` (retried in the background), `not_supported`, `failed`, `not_needed`.
    pub outcome: RevocationOutcome,
    /// What the user should know or do.
    pub detail: String,
}

fn item(credential: &str, outcome: RevocationOutcome, detail: String) -> RevocationItem {
    RevocationItem { credential: credential.to_owned(), outcome, detail }
}

/// Retry policy of queued revocations: `base`·2ⁿ, capped at 5 minutes, plus up to 25 % jitter
/// so many queued revocations do not hit a recovering provider together; never sooner than the
/// provider's `Retry-After` (see [`Backoff::delay_at_least`]).
pub(crate) fn revocation_retry(base: std::time::Duration) -> Backoff {
    Backoff { base, cap: std::time::Duration::from_secs(300), jitter: 0.25 }
}

/// The state of the current grant after delete tried to revoke it, and why.
fn current_grant_fate(items: &[RevocationItem]) -> (&'static str, String) {
    let details = || items.iter().map(|i| format!("{}: {}", i.credential, i.detail)).collect::<Vec<_>>().join("; ");
    if items.iter().any(|i| i.outcome == RevocationOutcome::Pending) {
        ("pending", details())
    } else if !items.is_empty()
        && items.iter().all(|i| matches!(i.outcome, RevocationOutcome::Revoked | RevocationOutcome::NotNeeded))
    {
        ("revoked", "revoked at the provider when the connection was deleted".to_owned())
    } else {
        ("live", details())
    }
}

/// The OAuth provider to revoke at, or the answer when nothing can be revoked there: it left the
/// catalog, or static credentials have no revocation API.
fn oauth_provider<'a>(c: &Connection, provider: Option<&'a Provider>) -> Result<&'a Provider, RevocationItem> {
    let Some(provider) = provider else {
        return Err(item(
            "unknown",
            RevocationOutcome::NotSupported,
            format!("provider `{}` is no longer in the catalog; revoke the credential at the service", c.provider),
        ));
    };
    let display = &provider.display_name;
    match provider.auth_mode {
        AuthMode::ApiKey | AuthMode::Basic => {
            let credential = if provider.auth_mode == AuthMode::Basic { "password" } else { "api_key" };
            Err(item(
                credential,
                RevocationOutcome::NotSupported,
                format!(
                    "{display} has no API to revoke a key: Patchbay destroyed its copy, but the key still works at {display} until you revoke it in its dashboard"
                ),
            ))
        }
        AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Ok(provider),
    }
}

/// What becomes of the grant a new consent supersedes, decided by the provider's revocation:
/// queued for revocation (due at once) when revoking a token ends only its own grant
/// (`revocation_scope: token`), else left live with the reason.
pub(crate) struct SupersedePlan {
    /// Terms of the queued revocation, when the superseded grant is revoked.
    pub revoke: Option<(String, String, time::OffsetDateTime)>,
    live_detail: String,
    secret_field: String,
}

impl SupersedePlan {
    /// The store's view of the plan.
    pub(crate) fn record(&self) -> GrantRecord<'_> {
        GrantRecord {
            revoke: self.revoke.as_ref().map(|(provider, settings, give_up_at)| SupersededRevocation {
                provider,
                settings,
                client_secret_field: &self.secret_field,
                token_fields: [field::REFRESH_TOKEN, field::ACCESS_TOKEN],
                give_up_at: *give_up_at,
            }),
            live_detail: &self.live_detail,
        }
    }
}

/// Counts of the grants a deleted connection held, and each grant's fate.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct GrantsReceipt {
    /// Every grant Patchbay ever held for the connection (each consent is one).
    pub held: usize,
    /// Confirmed revoked at the provider.
    pub revoked: usize,
    /// Revocation queued, retried in the background.
    pub pending: usize,
    /// Still valid at the provider (see each grant's `detail` for why and what to do).
    pub still_live: usize,
    /// Each grant, oldest first.
    pub items: Vec<GrantItem>,
}

/// One grant a connection held.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GrantItem {
    /// When Patchbay obtained it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub obtained_at: time::OffsetDateTime,
    /// When a newer grant or the delete replaced it.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub replaced_at: Option<time::OffsetDateTime>,
    /// `revoked`, `pending` or `live`.
    pub state: String,
    /// What happened, and for a live grant how to end it.
    pub detail: Option<String>,
}

/// One token on its way to the provider, still sealed for the retry queue.
struct SealedToken {
    /// `refresh_token` or `access_token` (also the RFC 7009 `token_type_hint`).
    hint: String,
    token: Vec<u8>,
    client_secret: Option<Vec<u8>>,
}

impl Patchbay {
    /// Revokes the connection's tokens before it is deleted and says what happened to each, and
    /// to every grant the connection ever held.
    pub(crate) async fn revoke_for_delete(
        &self,
        who: &Principal,
        c: &Connection,
        provider: Option<&Provider>,
    ) -> ServiceResult<(Vec<RevocationItem>, GrantsReceipt)> {
        let items = self.revoke_current_grant(who, c, provider).await?;
        let grants = self.grants_receipt(c, &items).await?;
        Ok((items, grants))
    }

    /// Revokes the connection's current tokens and says what happened to each.
    async fn revoke_current_grant(
        &self,
        who: &Principal,
        c: &Connection,
        provider: Option<&Provider>,
    ) -> ServiceResult<Vec<RevocationItem>> {
        let provider = match oauth_provider(c, provider) {
            Ok(provider) => provider,
            Err(answer) => return Ok(vec![answer]),
        };
        let blobs = self.store.connection_secrets(&c.team_id, &c.id).await?;
        let token_blobs: Vec<(String, Vec<u8>)> = [field::REFRESH_TOKEN, field::ACCESS_TOKEN]
            .iter()
            .filter_map(|f| blobs.iter().find(|(name, _)| name == f).cloned())
            .collect();
        if token_blobs.is_empty() {
            return Ok(vec![item(
                "oauth2",
                RevocationOutcome::NotNeeded,
                "the connection never received tokens".into(),
            )]);
        }
        if !provider.revokes() {
            let display = &provider.display_name;
            return Ok(vec![item(
                "oauth2",
                RevocationOutcome::NotSupported,
                format!(
                    "{display} offers no revocation endpoint: the grant stays valid until it expires or you remove the app's access in your {display} account"
                ),
            )]);
        }
        if provider.revocation_scope == RevocationScope::Grant
            && let Some(other) = self.sharing_the_grant(c, provider).await?
        {
            let display = &provider.display_name;
            return Ok(vec![item(
                "oauth2",
                RevocationOutcome::Kept,
                format!(
                    "not revoked: {display} ends the whole authorization of the account for any token, and “{}” ({}) of the same account still uses it; it is revoked with the last of them",
                    other.name, other.provider
                ),
            )]);
        }
        self.revoke_tokens(who, c, provider, &blobs, token_blobs).await
    }

    /// Another granted connection of the team that holds the same authorization as `c`: the same
    /// OAuth app (`oauth_app`, or the same provider), the same client (its own, or the
    /// platform's) and the same stable account id.
    async fn sharing_the_grant(&self, c: &Connection, provider: &Provider) -> ServiceResult<Option<Connection>> {
        let Some(account) = c.account_id.as_deref() else { return Ok(None) };
        let own_client = |x: &Connection| x.settings.get("client_id").cloned();
        for other in self.store.list_connections(&c.team_id).await? {
            let same_holder = other.id != c.id
                && other.status != ConnectionStatus::Pending
                && other.account_id.as_deref() == Some(account)
                && own_client(&other) == own_client(c);
            if !same_holder {
                continue;
            }
            if let Some(p) = self.find_provider(&c.team_id, &other.provider).await?
                && p.app_id() == provider.app_id()
            {
                return Ok(Some(other));
            }
        }
        Ok(None)
    }

    /// Opens the tokens (audited) and revokes each at the provider, queueing transient failures.
    async fn revoke_tokens(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
        blobs: &[(String, Vec<u8>)],
        token_blobs: Vec<(String, Vec<u8>)>,
    ) -> ServiceResult<Vec<RevocationItem>> {
        self.keys.require_unsealed()?;
        self.audit(who, action::SECRET_READ, Some(&c.id), AuditOutcome::Ok, Some("revoke")).await?;
        let secret_field = client_secret_field();
        let client_secret = blobs.iter().find(|(f, _)| *f == secret_field).map(|(_, b)| b.clone());
        let mut opened = self.keys.open_fields(&self.store, &c.team_id, &c.id, blobs).await?;
        let oauth = self.oauth_client(provider, &c.settings, opened.remove(&secret_field))?;
        let mut items = Vec::new();
        for (hint, token) in token_blobs {
            let Some(plain) = opened.remove(&hint) else {
                continue;
            };
            let outcome = client::revoke(&self.http, provider, &c.template_values(), &oauth, &plain, &hint).await;
            let sealed = SealedToken { hint, token, client_secret: client_secret.clone() };
            items.push(self.revocation_item(c, provider, sealed, outcome).await?);
        }
        Ok(items)
    }

    /// What one revocation outcome means for the receipt; a transient failure is queued.
    async fn revocation_item(
        &self,
        c: &Connection,
        provider: &Provider,
        sealed: SealedToken,
        outcome: RevokeOutcome,
    ) -> ServiceResult<RevocationItem> {
        let hint = sealed.hint.clone();
        Ok(match outcome {
            RevokeOutcome::Revoked => {
                item(&hint, RevocationOutcome::Revoked, format!("{} confirmed the revocation", provider.display_name))
            }
            RevokeOutcome::Refused(reason) => item(&hint, RevocationOutcome::Failed, reason),
            // The declared call revokes the grant through its other token (Dropbox, Slack).
            RevokeOutcome::NotApplicable(reason) => item(&hint, RevocationOutcome::NotNeeded, reason),
            RevokeOutcome::Retry { reason, retry_after } => {
                let now = self.clock.now();
                let pending = PendingRevocation {
                    id: 0,
                    team_id: c.team_id.clone(),
                    connection_id: c.id.to_string(),
                    provider: provider.id.clone(),
                    // With the metadata: a revocation URL may be built from it too.
                    settings: serde_json::to_string(&c.template_values()).expect("a string map always serializes"),
                    hint: sealed.hint,
                    token: sealed.token,
                    client_secret: sealed.client_secret,
                    attempts: 1,
                    give_up_at: now
                        + Duration::try_from(self.config.revocation_give_up_after).unwrap_or(Duration::days(1)),
                    grant_id: self.store.current_grant(&c.team_id, &c.id).await?,
                };
                let first_retry = revocation_retry(self.config.revocation_retry_base).delay_at_least(0, retry_after);
                self.store.insert_pending_revocation(&pending, now + first_retry, &reason).await?;
                item(&hint, RevocationOutcome::Pending, format!("{reason}; Patchbay keeps retrying in the background"))
            }
        })
    }

    /// What to do with the grant a new consent of `c` supersedes at `provider`.
    pub(crate) fn grant_record(&self, provider: &Provider, c: &Connection, now: time::OffsetDateTime) -> SupersedePlan {
        let display = &provider.display_name;
        let (revoke, live_detail) = match (provider.revokes(), provider.revocation_scope) {
            (false, _) => (
                None,
                format!(
                    "{display} offers no revocation endpoint: the superseded grant stays valid until it expires or you remove the app's access in your {display} account"
                ),
            ),
            (true, RevocationScope::Grant) => (
                None,
                format!(
                    "{display} revokes the whole authorization for any token (revocation_scope: grant), so revoking the superseded grant would end the new one too: it stays valid until it expires at {display}"
                ),
            ),
            (true, RevocationScope::Token) => {
                let give_up =
                    now + Duration::try_from(self.config.revocation_give_up_after).unwrap_or(Duration::days(1));
                let settings = serde_json::to_string(&c.template_values()).expect("a string map always serializes");
                (Some((provider.id.clone(), settings, give_up)), String::new())
            }
        };
        SupersedePlan { revoke, live_detail, secret_field: client_secret_field() }
    }

    /// The grants of a connection about to be deleted, after its current grant's revocation
    /// (`items`) was attempted: the current grant's state is set from it, then all are counted.
    async fn grants_receipt(&self, c: &Connection, items: &[RevocationItem]) -> ServiceResult<GrantsReceipt> {
        let now = self.clock.now();
        if let Some(current) = self.store.current_grant(&c.team_id, &c.id).await? {
            let (state, detail) = current_grant_fate(items);
            self.store.set_grant_state(current, state, &detail, now).await?;
        }
        let rows = self.store.list_grants(&c.team_id, &c.id).await?;
        let items: Vec<GrantItem> = rows
            .into_iter()
            .map(|g| GrantItem {
                obtained_at: g.obtained_at,
                replaced_at: g.replaced_at,
                state: g.state,
                detail: g.detail,
            })
            .collect();
        let count = |state: &str| items.iter().filter(|g| g.state == state).count();
        Ok(GrantsReceipt {
            held: items.len(),
            revoked: count("revoked"),
            pending: count("pending"),
            still_live: count("live"),
            items,
        })
    }

    /// One pass of the retry worker: attempts every due revocation once.
    pub async fn retry_due_revocations(&self) -> ServiceResult<usize> {
        self.retry_revocations(None).await
    }

    /// Attempts due revocations once (only `grant`'s, when given) and settles their grants.
    pub(crate) async fn retry_revocations(&self, grant: Option<i64>) -> ServiceResult<usize> {
        let now = self.clock.now();
        let due = self.store.claim_due_revocations(now, Duration::minutes(2), 50, grant).await?;
        let mut done = 0;
        for r in due {
            let connection_id = ConnectionId::parse(&r.connection_id).ok();
            let (outcome, detail) = match self.retry_one(&r).await {
                Ok(RevokeOutcome::Revoked) => {
                    done += 1;
                    (AuditOutcome::Revoked, r.hint.clone())
                }
                Ok(RevokeOutcome::NotApplicable(reason)) => (AuditOutcome::Revoked, reason),
                Ok(RevokeOutcome::Refused(reason)) => {
                    if let Some(g) = r.grant_id {
                        let detail = format!("the provider refused to revoke its {}: {reason}", r.hint);
                        self.store.set_grant_state(g, "live", &detail, now).await?;
                    }
                    (AuditOutcome::Failed, reason)
                }
                Ok(RevokeOutcome::Retry { reason, retry_after }) => {
                    self.requeue_or_give_up(&r, connection_id.as_ref(), &reason, retry_after).await?;
                    continue;
                }
                Err(reason) => {
                    self.requeue_or_give_up(&r, connection_id.as_ref(), &reason, None).await?;
                    continue;
                }
            };
            self.store.delete_revocation(r.id).await?;
            if let Some(g) = r.grant_id {
                self.store.settle_grant(g, now).await?;
            }
            let cid = connection_id.as_ref();
            self.audit_as(&r.team_id, SYSTEM_ACTOR, action::REVOCATION, cid, outcome, Some(&detail)).await?;
        }
        Ok(done)
    }

    /// After a failed attempt: schedule the next one (not before the provider's `Retry-After`),
    /// or give up — audited — once the give-up time has passed.
    async fn requeue_or_give_up(
        &self,
        r: &PendingRevocation,
        connection_id: Option<&ConnectionId>,
        reason: &str,
        retry_after: Option<u64>,
    ) -> ServiceResult<()> {
        let now = self.clock.now();
        if now >= r.give_up_at {
            self.store.delete_revocation(r.id).await?;
            let detail = format!("gave up after {} attempts: {reason}", r.attempts);
            if let Some(g) = r.grant_id {
                self.store.set_grant_state(g, "live", &format!("revocation {detail}"), now).await?;
            }
            return self
                .audit_as(
                    &r.team_id,
                    SYSTEM_ACTOR,
                    action::REVOCATION,
                    connection_id,
                    AuditOutcome::GaveUp,
                    Some(&detail),
                )
                .await;
        }
        let next = now + revocation_retry(self.config.revocation_retry_base).delay_at_least(r.attempts, retry_after);
        self.store.reschedule_revocation(r.id, r.attempts + 1, next, reason).await?;
        Ok(())
    }

    async fn retry_one(&self, r: &PendingRevocation) -> Result<RevokeOutcome, String> {
        let provider = self
            .find_provider(&r.team_id, &r.provider)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("provider `{}` left the catalog", r.provider))?;
        let connection = ConnectionId::parse(&r.connection_id).map_err(|e| e.to_string())?;
        let settings: BTreeMap<String, String> = serde_json::from_str(&r.settings).map_err(|e| e.to_string())?;
        let mut blobs = vec![(r.hint.clone(), r.token.clone())];
        let secret_field = client_secret_field();
        if let Some(cs) = &r.client_secret {
            blobs.push((secret_field.clone(), cs.clone()));
        }
        let mut opened =
            self.keys.open_fields(&self.store, &r.team_id, &connection, &blobs).await.map_err(|e| e.to_string())?;
        let token = opened.remove(&r.hint).ok_or("the queued token is missing")?;
        let oauth = self.oauth_client(&provider, &settings, opened.remove(&secret_field)).map_err(|e| e.to_string())?;
        Ok(client::revoke(&self.http, &provider, &settings, &oauth, &token, &r.hint).await)
    }
}

/// Runs the retry loop until `shutdown` changes, one pass per `interval`.
pub async fn run_worker(
    patchbay: Arc<Patchbay>,
    interval: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::run_every("revocations", interval, shutdown, || patchbay.retry_due_revocations()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        let base = std::time::Duration::from_secs(5);
        for attempts in 0..6 {
            let d = revocation_retry(base).delay(attempts).whole_milliseconds();
            let nominal = 5000 * 2i128.pow(attempts as u32);
            assert!(d >= nominal && d <= nominal * 5 / 4, "{attempts}: {d}");
        }
        assert!(revocation_retry(base).delay(40).whole_seconds() <= 375);
    }

    #[test]
    fn retry_after_is_a_floor_not_a_replacement() {
        let base = std::time::Duration::from_secs(5);
        let policy = revocation_retry(base);
        assert!(policy.delay_at_least(0, Some(120)).whole_seconds() >= 120);
        assert!(policy.delay_at_least(0, None).whole_seconds() < 10);
        assert!(policy.delay_at_least(0, Some(1_000_000)).whole_seconds() <= 3600, "capped at an hour");
    }
}
