//! Exactly-once refresh of an OAuth access token (docs/security.md R-01…R-12).
//!
//! One refresh per connection at a time, on one node and across nodes:
//! 1. an in-process lock per connection makes concurrent callers on this node queue; whoever
//!    gets it after a refresh finds the new token already stored and returns it;
//! 2. a database lease (owner + generation, a conditional update) decides between nodes; a node
//!    that finds the lease taken waits and re-reads — it never presents the refresh token itself;
//! 3. `in_flight` is recorded with the lease *before* the request leaves, and no transaction is
//!    held across the provider call;
//! 4. the new pair is written fenced (`generation = seen AND lease_owner = me`) and committed
//!    before anyone sees it; a reply without a refresh token keeps the old one.
//!
//! Failures are classified: `invalid_grant` and the provider's declared terminal codes make the
//! connection `needs_reauth` with the reason (`refresh_lost` when an earlier attempt's outcome
//! was unknown); 5xx, 429 (with `Retry-After`), timeouts and resets keep the token, mark it
//! `degraded` and retry with the backoff of [`super::schedule`].
//!
//! The audit records of a refresh are written *after* the fenced write and their errors are not
//! propagated (unlike the rest of the service, S-09): the new token is already committed, and an
//! error here would only make the caller discard a token that every other caller now gets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::provider::Provider;
use patchbay_domain::random;
use patchbay_providers::oauth::{self as client, TokenError, TokenSet};
use patchbay_store::{Lifecycle, RefreshFailure, RefreshWrite, StoreError};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::schedule::{next_action, refresh_due_at, retry_delay};
use crate::access::system;
use crate::audit::{AuditOutcome, SYSTEM_ACTOR, action};
use crate::events::kind;
use crate::words::word_enum;
use crate::{Patchbay, ServiceError};

/// How long a caller waits for another node's refresh before giving up.
const WAIT_FOR_OTHER: std::time::Duration = std::time::Duration::from_secs(25);
word_enum! {
    /// The `refresh_state` column of a connection: what is known about its last refresh request
    /// (no value: none is in flight and none was lost).
    pub enum RefreshState {
        /// A refresh request is about to leave or is out (set with the lease, before it leaves).
        InFlight = "in_flight",
        /// A refresh request left but its answer never arrived: the provider may have rotated the
        /// refresh token.
        Unknown = "unknown",
    }
}

impl RefreshState {
    /// The state of a stored lifecycle row (a word this version does not know reads as
    /// [`RefreshState::Unknown`], the cautious reading).
    pub fn of(lc: &Lifecycle) -> Option<RefreshState> {
        lc.refresh_state.as_deref().map(|w| RefreshState::parse(w).unwrap_or(RefreshState::Unknown))
    }
}

/// Per-process state of the lifecycle: this node's lease identity and the per-connection locks.
#[derive(Debug)]
pub struct RuntimeState {
    /// Lease owner name of this process.
    pub node_id: String,
    locks: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
    /// The latest exposure windows (provider's answer → durable commit), at most
    /// [`EXPOSURE_SAMPLES`], oldest first.
    exposure: Mutex<std::collections::VecDeque<std::time::Duration>>,
}

/// How many exposure windows [`RuntimeState`] keeps.
const EXPOSURE_SAMPLES: usize = 1024;

impl Default for RuntimeState {
    fn default() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
        RuntimeState {
            node_id: format!("{host}-{}-{}", std::process::id(), random::hex(&random::bytes::<8>())),
            locks: Mutex::new(HashMap::new()),
            exposure: Mutex::new(std::collections::VecDeque::new()),
        }
    }
}

impl RuntimeState {
    /// The latest refresh exposure windows of this process: from the moment the provider's
    /// answer (a rotated refresh token) arrived to the moment the new pair was durably committed.
    /// A crash inside one loses the grant at a strict rotating provider (`refresh_lost`).
    pub fn exposure_samples(&self) -> Vec<std::time::Duration> {
        self.exposure.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect()
    }

    fn record_exposure(&self, window: std::time::Duration) {
        let mut samples = self.exposure.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() == EXPOSURE_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(window);
    }

    fn lock_for(&self, id: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().expect("refresh lock map");
        // Drop locks nobody holds any more so the map does not grow with every connection.
        if map.len() > 1024 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(id.clone()).or_default().clone()
    }
}

/// Why a refresh did not produce a usable token.
#[derive(Debug)]
pub(crate) enum RefreshFailed {
    /// The grant is dead: reauthorize.
    NeedsReauth(String),
    /// Try again later (the current token, if still valid, is kept).
    Transient(String),
    /// The database could not be reached; try again in a few seconds (503, not the provider's
    /// fault).
    DatabaseUnavailable(String),
}

impl From<RefreshFailed> for ServiceError {
    fn from(f: RefreshFailed) -> Self {
        match f {
            RefreshFailed::NeedsReauth(r) => ServiceError::NeedsReauth(r),
            RefreshFailed::Transient(r) => {
                ServiceError::ProviderUnavailable(format!("the token could not be refreshed: {r}"))
            }
            RefreshFailed::DatabaseUnavailable(r) => ServiceError::DatabaseUnavailable(r),
        }
    }
}

fn internal(e: ServiceError) -> RefreshFailed {
    match e {
        ServiceError::DatabaseUnavailable(why) => RefreshFailed::DatabaseUnavailable(why),
        e => RefreshFailed::Transient(e.to_string()),
    }
}

fn store_err(e: patchbay_store::StoreError) -> RefreshFailed {
    internal(e.into())
}

fn deleted() -> RefreshFailed {
    RefreshFailed::NeedsReauth("the connection was deleted".into())
}

/// One look at the connection while queued for its refresh.
enum Turn {
    /// Done without a request: someone else's refresh answered, or there is nothing to do.
    Answer(Result<Connection, RefreshFailed>),
    /// The lease is ours (until the time given): refresh now.
    Leased(Connection, Lifecycle, Arc<Provider>, OffsetDateTime),
    /// Another node holds the lease: wait and look again.
    Wait,
}

/// The provider's successful answer to a refresh, as it waits for its commit.
struct Answered<'a> {
    /// The new pair (and scopes, lifetime).
    tokens: &'a TokenSet,
    /// When it arrived (the start of the exposure window).
    at: std::time::Instant,
    /// When this node's lease ends: the last moment it may still write the pair.
    lease_until: OffsetDateTime,
}

/// How often a lease whose release failed (the database was away) is released again.
const RELEASE_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// The first pause before a commit of a refreshed pair is retried, and the longest.
const COMMIT_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const COMMIT_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// A failed refresh as it is recorded on the connection.
struct FailureRecord<'a> {
    /// `needs_reauth` (terminal) or `degraded` (retried).
    status: ConnectionStatus,
    /// Why, for the status reason, the audit record and the events.
    reason: &'a str,
    /// `unknown` when the request may have reached the provider.
    refresh_state: Option<RefreshState>,
    /// When to retry (`None`: not retried).
    next_action_at: Option<OffsetDateTime>,
}

impl Patchbay {
    /// Refreshes a connection's access token exactly once across every caller and node (see the
    /// module header). With `force` the refresh happens even if the token is not due yet
    /// (keep-alive), unless another caller refreshed it meanwhile.
    pub(crate) async fn refresh_connection(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        force: bool,
    ) -> Result<Connection, RefreshFailed> {
        // The generation before queueing: whoever refreshed while we waited for the lock has
        // answered our call too (also for a forced keep-alive).
        let mut first_generation = self.store.lifecycle(team, id).await.map_err(store_err)?.map(|l| l.generation);
        let lock = self.runtime.lock_for(id);
        let _guard = lock.lock().await;
        let started = std::time::Instant::now();
        loop {
            match self.take_turn(team, id, force, &mut first_generation).await? {
                Turn::Answer(answer) => return answer,
                Turn::Leased(c, lc, provider, until) => return self.refresh_with_lease(c, lc, &provider, until).await,
                Turn::Wait if started.elapsed() > WAIT_FOR_OTHER => {
                    return Err(RefreshFailed::Transient(
                        "another node is refreshing this connection; try again".into(),
                    ));
                }
                Turn::Wait => tokio::time::sleep(std::time::Duration::from_millis(25)).await,
            }
        }
    }

    /// Reads the connection and decides: answer without a request, refresh under a fresh lease,
    /// or wait for another node's.
    async fn take_turn(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        force: bool,
        first_generation: &mut Option<i64>,
    ) -> Result<Turn, RefreshFailed> {
        let now = self.clock.now();
        let c = self.store.get_connection(team, id).await.map_err(store_err)?.ok_or_else(deleted)?;
        let lc = self.store.lifecycle(team, id).await.map_err(store_err)?.ok_or_else(deleted)?;
        let provider = self.provider(team, &c.provider).await.map_err(internal)?;
        let first = *first_generation.get_or_insert(lc.generation);
        if c.status == ConnectionStatus::NeedsReauth {
            let reason = c.status_reason.unwrap_or_else(|| "needs reauthorization".into());
            return Ok(Turn::Answer(Err(RefreshFailed::NeedsReauth(reason))));
        }
        // Someone refreshed while we waited: theirs is the answer.
        let refreshed_meanwhile = lc.generation != first;
        let fresh = refresh_due_at(&c, &lc, &provider).is_none_or(|at| at > now) && RefreshState::of(&lc).is_none();
        if refreshed_meanwhile || (fresh && !force) {
            return Ok(Turn::Answer(Ok(c)));
        }
        // Backing off after a transient failure: do not hammer a failing provider on every
        // runtime call; the scheduler retries when the backoff ends.
        if !force
            && c.status == ConnectionStatus::Degraded
            && lc.failure_count > 0
            && let Some(retry_at) = lc.next_action_at.filter(|t| *t > now)
        {
            let wait = (retry_at - now).whole_seconds().max(1);
            let reason = c.status_reason.clone().unwrap_or_else(|| "the provider is failing".into());
            return Ok(Turn::Answer(Err(RefreshFailed::Transient(format!("{reason} (next attempt in {wait} s)")))));
        }
        let until = now + self.config.refresh_lease;
        if self
            .store
            .take_refresh_lease(id, lc.generation, &self.runtime.node_id, now, until)
            .await
            .map_err(store_err)?
        {
            Ok(Turn::Leased(c, lc, provider, until))
        } else {
            Ok(Turn::Wait)
        }
    }

    async fn refresh_with_lease(
        &self,
        c: Connection,
        lc: Lifecycle,
        provider: &Provider,
        lease_until: OffsetDateTime,
    ) -> Result<Connection, RefreshFailed> {
        let (id, seen, owner) = (c.id.clone(), lc.generation, self.runtime.node_id.clone());
        let result = self.refresh_holding_lease(c, lc, provider, lease_until).await;
        // Stopped before the request left (an error without a recorded outcome): give the lease
        // back instead of leaving it to expire. A no-op when the outcome was recorded.
        if result.is_err()
            && let Err(StoreError::Unavailable(_)) = self.store.release_lease(&id, seen, &owner).await
        {
            // The database is away (a failover): keep trying in the background, or every caller
            // of this connection on every node waits for the lease to expire once it is back.
            let (store, clock) = (self.store.clone(), self.clock.clone());
            tokio::spawn(async move {
                while clock.now() < lease_until {
                    tokio::time::sleep(RELEASE_RETRY).await;
                    if !matches!(store.release_lease(&id, seen, &owner).await, Err(StoreError::Unavailable(_))) {
                        break;
                    }
                }
            });
        }
        result
    }

    /// With the lease held: read the secrets, check the lease is still ours, send the refresh,
    /// and record the answer ([`Self::on_refreshed`] / [`Self::on_refresh_failed`]).
    async fn refresh_holding_lease(
        &self,
        c: Connection,
        lc: Lifecycle,
        provider: &Provider,
        lease_until: OffsetDateTime,
    ) -> Result<Connection, RefreshFailed> {
        // Secrets: the refresh token and, for an own client, its secret.
        let credential = self.read_credential(&system(&c.team_id), &c, provider, "refresh").await.map_err(internal)?;
        let Credential::OAuth2 { refresh_token: Some(refresh_token), .. } = credential else {
            let reason = "the provider issued no refresh token: reauthorize when the access token expires";
            let record = FailureRecord {
                status: ConnectionStatus::NeedsReauth,
                reason,
                refresh_state: None,
                next_action_at: None,
            };
            return self.record_failure(&c, &lc, record).await;
        };
        let oauth = self.connection_client(&c, provider).await.map_err(internal)?;
        if let Some(delay) = self.config.failpoint_refresh_delay {
            tokio::time::sleep(delay).await;
        }
        // Paused past the lease (GC, SIGSTOP)? Then someone else may own it now: do not send.
        let still_ours = self
            .store
            .holds_lease(&c.id, lc.generation, &self.runtime.node_id, self.clock.now())
            .await
            .map_err(store_err)?;
        if !still_ours {
            return self.reread(&c).await;
        }
        match client::refresh(&self.http, provider, &c.template_values(), &oauth, &refresh_token).await {
            Ok(tokens) => {
                let answer = Answered { tokens: &tokens, at: std::time::Instant::now(), lease_until };
                self.on_refreshed(&c, &lc, provider, answer).await
            }
            Err(e) => self.on_refresh_failed(&c, &lc, provider, &e).await,
        }
    }

    /// Writes the new pair fenced by the lease ([`Self::commit_refreshed`]), then audits and
    /// emits (see the module header for why the audit result is not propagated).
    async fn on_refreshed(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        provider: &Provider,
        answer: Answered<'_>,
    ) -> Result<Connection, RefreshFailed> {
        if !self.commit_refreshed(c, lc, provider, &answer).await? {
            // Fenced out: a newer generation exists; it is the truth.
            return self.reread(c).await;
        }
        let window = answer.at.elapsed();
        self.runtime.record_exposure(window);
        tracing::debug!(connection_id = %c.id, exposure_us = window.as_micros() as u64, "refreshed pair committed");
        // Not propagated: the new token is committed (module header).
        let _ = self
            .audit_as(&c.team_id, SYSTEM_ACTOR, action::CONNECTION_REFRESH, Some(&c.id), AuditOutcome::Ok, None)
            .await;
        let stored = self.reread(c).await?;
        let expires_at = answer.tokens.expires_in.map(|s| self.clock.now() + Duration::seconds(s));
        self.emit(&stored, kind::REFRESHED, json!({"expires_at": expires_at.map(|t| t.unix_timestamp())})).await;
        if c.status == ConnectionStatus::Degraded {
            self.emit(&stored, kind::RECOVERED, json!({})).await;
        }
        tracing::info!(connection_id = %c.id, "access token refreshed");
        Ok(stored)
    }

    /// Commits the provider's new pair, fenced by the lease. A database that cannot be reached
    /// (down, restarting, failing over) does not lose the pair: it stays in memory and the commit
    /// is retried, with a growing pause, until it lands or the lease runs out (then another node
    /// may take over, and this one must not write any more). `Ok(false)`: fenced out.
    async fn commit_refreshed(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        provider: &Provider,
        answer: &Answered<'_>,
    ) -> Result<bool, RefreshFailed> {
        // On the process clock, so a paused or fixed service clock cannot stretch the lease.
        let left: std::time::Duration = (answer.lease_until - self.clock.now()).try_into().unwrap_or_default();
        let deadline = std::time::Instant::now() + left;
        let mut pause = COMMIT_RETRY_FIRST;
        let mut attempt = 1u32;
        loop {
            match self.write_refreshed(c, lc, provider, answer.tokens).await {
                Ok(written) => return Ok(written),
                Err(ServiceError::DatabaseUnavailable(why)) if std::time::Instant::now() + pause < deadline => {
                    tracing::warn!(
                        connection_id = %c.id,
                        attempt,
                        retry_in_ms = pause.as_millis() as u64,
                        "the refreshed pair is not committed yet (the database is unavailable: {why}); kept in memory, retrying"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(COMMIT_RETRY_MAX);
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(
                        connection_id = %c.id,
                        attempt,
                        "the refreshed pair could not be committed before the lease ran out: {e}"
                    );
                    return Err(internal(e));
                }
            }
        }
    }

    /// One attempt of [`Self::commit_refreshed`]: seal the pair and write it fenced.
    async fn write_refreshed(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        provider: &Provider,
        tokens: &TokenSet,
    ) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let mut fields: Vec<(String, &SecretString)> = vec![(field::ACCESS_TOKEN.to_owned(), &tokens.access_token)];
        if let Some(r) = &tokens.refresh_token {
            fields.push((field::REFRESH_TOKEN.to_owned(), r));
        }
        let sealed = self.keys.seal_fields(&self.store, &c.team_id, &c.id, &fields, now).await?;
        let granted = tokens.scope.clone().unwrap_or_else(|| c.granted_scopes.clone());
        let expires_at = tokens.expires_in.map(|s| now + Duration::seconds(s));
        let fingerprint = self.keys.fingerprint(&self.store, &c.team_id, &c.id, &tokens.access_token, now).await?;
        // A refresh token with a lifetime of its own moves the grant's end (QuickBooks states it
        // on every refresh; Xero's and Box's 60 days start again with each new refresh token).
        let horizon = tokens.refresh_expires_in.and(super::grant::grant_horizon(provider, tokens, now));
        let horizon = match (provider.grant_lifetime, c.reauthorize_by, horizon) {
            (Some(_), Some(cap), Some(h)) => Some(cap.min(h)),
            (_, _, h) => h,
        };
        let reauthorize_by = horizon.or(c.reauthorize_by);
        let mut next = Connection { expires_at, granted_scopes: granted.clone(), reauthorize_by, ..c.clone() };
        next.status = ConnectionStatus::Active;
        let next_lc = Lifecycle { last_refreshed_at: Some(now), refresh_state: None, ..lc.clone() };
        let write = RefreshWrite {
            secrets: &sealed,
            expires_at,
            granted_scopes: &granted,
            fingerprint: &fingerprint,
            next_action_at: next_action(&next, &next_lc, provider, now),
            now,
        };
        let written = self.store.finish_refresh(&c.id, lc.generation, &self.runtime.node_id, &write).await?;
        if written {
            if let Some(at) = horizon {
                self.store.set_reauthorize_by(&c.team_id, &c.id, at).await?;
            }
            // A refresh reply may restate metadata (Salesforce's instance_url), vetted again.
            if !tokens.metadata.is_empty() {
                let mut metadata = c.metadata.clone();
                metadata.extend(tokens.metadata.clone());
                self.store.set_metadata(&c.team_id, &c.id, &metadata).await?;
            }
        }
        Ok(written)
    }

    /// Classifies a refresh error: terminal ones need the user, the rest are retried later.
    async fn on_refresh_failed(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        provider: &Provider,
        e: &TokenError,
    ) -> Result<Connection, RefreshFailed> {
        let terminal = e.is_terminal()
            || matches!(e, TokenError::OAuth { error, .. } if provider.terminal_errors.iter().any(|t| t == error));
        let was_unknown = RefreshState::of(lc) == Some(RefreshState::Unknown);
        if terminal {
            let reason = if was_unknown {
                format!("refresh_lost: an earlier refresh got no answer and {e}; reauthorize the connection")
            } else {
                format!("{e}; reauthorize the connection")
            };
            let record = FailureRecord {
                status: ConnectionStatus::NeedsReauth,
                reason: &reason,
                refresh_state: None,
                next_action_at: None,
            };
            return self.record_failure(c, lc, record).await;
        }
        let (retry_after, unknown) = match e {
            TokenError::Transient { retry_after, outcome_unknown, .. } => (*retry_after, *outcome_unknown),
            _ => (None, false),
        };
        let reason = format!("refresh failed, retrying: {e}");
        let record = FailureRecord {
            status: ConnectionStatus::Degraded,
            reason: &reason,
            refresh_state: (unknown || was_unknown).then_some(RefreshState::Unknown),
            next_action_at: Some(self.clock.now() + retry_delay(lc.failure_count, retry_after)),
        };
        self.record_failure(c, lc, record).await
    }

    /// Writes a failed refresh fenced by the lease, then audits (not propagated, like a success:
    /// the outcome is committed) and emits the events of the new status.
    async fn record_failure(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        record: FailureRecord<'_>,
    ) -> Result<Connection, RefreshFailed> {
        let FailureRecord { status, reason, refresh_state, next_action_at } = record;
        let now = self.clock.now();
        // A dead grant still gets its expiry warnings checked; nothing else is scheduled.
        let next_action_at = next_action_at.or_else(|| c.reauthorize_by.filter(|t| *t > now));
        let refresh_state = refresh_state.map(RefreshState::as_str);
        let failure = RefreshFailure { status, reason, refresh_state, next_action_at, now };
        let written =
            self.store.fail_refresh(&c.id, lc.generation, &self.runtime.node_id, &failure).await.map_err(store_err)?;
        if !written {
            return self.reread(c).await;
        }
        let outcome = if status == ConnectionStatus::NeedsReauth { AuditOutcome::Failed } else { AuditOutcome::Retry };
        let _ = self
            .audit_as(&c.team_id, SYSTEM_ACTOR, action::CONNECTION_REFRESH, Some(&c.id), outcome, Some(reason))
            .await;
        let stored = self.reread(c).await.unwrap_or_else(|_| c.clone());
        self.emit(&stored, kind::REFRESH_FAILED, json!({"reason": reason, "attempt": lc.failure_count + 1})).await;
        if status == ConnectionStatus::NeedsReauth {
            self.emit(&stored, kind::NEEDS_REAUTH, json!({"reason": reason})).await;
            Err(RefreshFailed::NeedsReauth(reason.to_owned()))
        } else {
            if c.status != ConnectionStatus::Degraded {
                self.emit(&stored, kind::DEGRADED, json!({"reason": reason})).await;
            }
            Err(RefreshFailed::Transient(reason.to_owned()))
        }
    }

    async fn reread(&self, c: &Connection) -> Result<Connection, RefreshFailed> {
        self.store.get_connection(&c.team_id, &c.id).await.map_err(store_err)?.ok_or_else(deleted)
    }
}
