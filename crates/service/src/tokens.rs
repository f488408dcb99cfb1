//! Runtime tokens and exactly-once refresh (DESIGN §4 "Token lifecycle", SECURITY R-01…R-12).
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
//! `degraded` and retry with exponential backoff and jitter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::{Action, Actor, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::oauth::{self as client, TokenError};
use patchbay_store::{Lifecycle, RefreshFailure, RefreshWrite};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::audit::action;
use crate::connections::{not_found, require};
use crate::events::kind;
use crate::{Patchbay, ServiceError, ServiceResult};

/// How long a caller waits for another node's refresh before giving up.
const WAIT_FOR_OTHER: std::time::Duration = std::time::Duration::from_secs(25);
/// Default refresh margin.
const DEFAULT_MARGIN: Duration = Duration::minutes(5);
/// Default keep-alive of idle grants.
const DEFAULT_KEEP_ALIVE: Duration = Duration::hours(24);

/// Per-process state of the lifecycle: this node's lease identity and the per-connection locks.
#[derive(Debug)]
pub struct RuntimeState {
    /// Lease owner name of this process.
    pub node_id: String,
    locks: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for RuntimeState {
    fn default() -> Self {
        let mut b = [0u8; 8];
        aws_lc_rs::rand::fill(&mut b).expect("the system random generator failed");
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
        RuntimeState {
            node_id: format!(
                "{host}-{}-{}",
                std::process::id(),
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl RuntimeState {
    fn lock_for(&self, id: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().expect("refresh lock map");
        // Drop locks nobody holds any more so the map does not grow with every connection.
        if map.len() > 1024 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(id.clone()).or_default().clone()
    }
}

/// Body of `POST /v1/connections/{id}/token` (all optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The module about to run (`provider.module`): refused with the missing scopes when the
    /// connection lacks them.
    #[serde(default)]
    pub module: Option<String>,
    /// Or the scenario…
    #[serde(default)]
    pub scenario: Option<String>,
    /// …and step whose module is about to run.
    #[serde(default)]
    pub step: Option<usize>,
}

fn expose<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.expose_secret())
}

/// The answer of the token endpoint: the only response that carries a secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The access token (or API key).
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub access_token: SecretString,
    /// `Bearer`, or `api_key`.
    pub token_type: String,
    /// Expiry, when known.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// Why a refresh did not produce a usable token.
#[derive(Debug)]
pub(crate) enum RefreshFailed {
    /// The grant is dead: reauthorize.
    NeedsReauth(String),
    /// Try again later (the current token, if still valid, is kept).
    Transient(String),
}

impl From<RefreshFailed> for ServiceError {
    fn from(f: RefreshFailed) -> Self {
        match f {
            RefreshFailed::NeedsReauth(r) => ServiceError::NeedsReauth(r),
            RefreshFailed::Transient(r) => {
                ServiceError::ProviderUnavailable(format!("the token could not be refreshed: {r}"))
            }
        }
    }
}

fn margin_of(provider: &Provider) -> Duration {
    provider.refresh_margin.map_or(DEFAULT_MARGIN, |l| Duration::seconds(l.seconds))
}

/// When a token should be refreshed: `expires_at − min(margin, lifetime / 2)`.
pub(crate) fn refresh_due_at(c: &Connection, lc: &Lifecycle, provider: &Provider) -> Option<OffsetDateTime> {
    let expires = c.expires_at?;
    let issued = lc.last_refreshed_at.unwrap_or(c.updated_at);
    let half_life: Duration = (expires - issued) / 2;
    Some(expires - margin_of(provider).min(half_life.max(Duration::ZERO)))
}

/// Backoff after `failures` consecutive transient failures: 2^n seconds from 2 s, capped at
/// 10 minutes, +0–25 % jitter; at least the provider's `Retry-After`.
pub(crate) fn retry_delay(failures: i64, retry_after: Option<u64>) -> Duration {
    let base = 2f64.powi(failures.clamp(0, 20) as i32 + 1).min(600.0);
    let mut r = [0u8; 1];
    aws_lc_rs::rand::fill(&mut r).expect("the system random generator failed");
    let jittered = base * (1.0 + f64::from(r[0]) / 255.0 * 0.25);
    let floor = retry_after.map_or(0.0, |s| s.min(3600) as f64);
    Duration::milliseconds((jittered.max(floor) * 1000.0) as i64)
}

fn system(team: &TeamId) -> Principal {
    Principal { team_id: team.clone(), role: patchbay_domain::principal::Role::Admin, actor: Actor::System }
}

impl Patchbay {
    /// Issues a usable access token for the runtime, refreshing first when it is expired or
    /// within the refresh margin. Audited before the token is returned (S-09).
    pub async fn issue_token(&self, who: &Principal, id: &str, req: TokenRequest) -> ServiceResult<IssuedToken> {
        let (c, provider, module) = self.prepare_use(who, id, &req).await?;
        // One audit record per hand-over, written before the secret is decrypted (S-09): the
        // purpose names the module, so a separate "issued" record would only double the writes.
        let purpose = module.as_deref().map_or_else(|| "token".to_owned(), |m| format!("token module={m}"));
        let credential = self.read_credential(who, &c, &provider, &purpose).await?;
        let (access_token, token_type) = match credential {
            Credential::OAuth2 { access_token, .. } => (access_token, "Bearer"),
            Credential::ApiKey { key } => (key, "api_key"),
            Credential::Basic { .. } => {
                return Err(ServiceError::Invalid(format!(
                    "{} uses basic authentication: call it through the proxy, POST /v1/connections/{}/proxy/…",
                    provider.display_name, c.id
                )));
            }
        };
        Ok(IssuedToken {
            access_token,
            token_type: token_type.to_owned(),
            expires_at: c.expires_at,
            scopes: c.granted_scopes.iter().map(str::to_owned).collect(),
        })
    }

    /// The checks before any use of a credential (token endpoint, proxy): the role, the module's
    /// scopes, the status, and a refresh when due. Returns the connection ready to use.
    pub(crate) async fn prepare_use(
        &self,
        who: &Principal,
        id: &str,
        req: &TokenRequest,
    ) -> ServiceResult<(Connection, std::sync::Arc<Provider>, Option<String>)> {
        require(who, Action::UseCredential)?;
        let c = self.load(who, id).await?;
        let provider = self.provider(&c.provider)?;
        let module = self.module_for_request(who, &c, req).await?;
        if let Some(module) = &module {
            let missing = self.missing_for_module(&c, &provider, module)?;
            if !missing.is_empty() {
                return Err(ServiceError::MissingScopes {
                    message: format!(
                        "connection `{}` lacks {} for `{module}`: extend it with POST /v1/connections/{}/reauthorize {{\"modules\": [\"{module}\"]}}",
                        c.name,
                        missing.join(", "),
                        c.id
                    ),
                    missing: missing.iter().map(str::to_owned).collect(),
                });
            }
        }
        self.keys.require_unsealed()?;
        let c = self.usable_connection(who, c, &provider).await?;
        Ok((c, provider, module))
    }

    /// The module a token request is for: `module`, or the module of `scenario` + `step`.
    async fn module_for_request(
        &self,
        who: &Principal,
        c: &Connection,
        req: &TokenRequest,
    ) -> ServiceResult<Option<String>> {
        match (&req.module, &req.scenario, req.step) {
            (Some(m), None, None) => Ok(Some(m.clone())),
            (None, None, None) => Ok(None),
            (None, Some(s), Some(step)) => {
                let scenario = self.get_scenario(who, s).await?;
                let st = scenario.steps.get(step).ok_or_else(|| {
                    ServiceError::Invalid(format!(
                        "scenario `{s}` has no step {step} (it has {})",
                        scenario.steps.len()
                    ))
                })?;
                if st.connection.as_deref() != Some(c.id.as_str()) {
                    return Err(ServiceError::Invalid(format!(
                        "step {step} of scenario `{s}` does not use connection `{}`",
                        c.id
                    )));
                }
                Ok(Some(st.module.clone()))
            }
            _ => Err(ServiceError::Invalid("send either `module`, or `scenario` with `step`".into())),
        }
    }

    /// A connection whose token is usable now: refreshed (or re-obtained) first when due. Never
    /// returns an expired token.
    pub(crate) async fn usable_connection(
        &self,
        who: &Principal,
        c: Connection,
        provider: &Provider,
    ) -> ServiceResult<Connection> {
        match c.status {
            ConnectionStatus::Pending => {
                return Err(ServiceError::NeedsReauth(format!(
                    "connection `{}` has no grant yet ({}): complete its consent flow",
                    c.name,
                    c.status_reason.as_deref().unwrap_or("pending")
                )));
            }
            ConnectionStatus::NeedsReauth | ConnectionStatus::Revoked => {
                return Err(ServiceError::NeedsReauth(format!(
                    "connection `{}` needs reauthorization: {}",
                    c.name,
                    c.status_reason.as_deref().unwrap_or("the provider rejected its credential")
                )));
            }
            _ => {}
        }
        let now = self.clock.now();
        match provider.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic => Ok(c),
            AuthMode::Oauth2ClientCredentials => {
                let c = self.renew_client_credentials_if_due(who, c, provider).await?;
                if c.expires_at.is_some_and(|t| t <= now) {
                    return Err(ServiceError::ProviderUnavailable(format!(
                        "the token of `{}` expired and a new one could not be obtained: {}",
                        c.name,
                        c.status_reason.as_deref().unwrap_or("unknown error")
                    )));
                }
                Ok(c)
            }
            AuthMode::Oauth2 => {
                let lc = self.store.lifecycle(&c.team_id, &c.id).await?.ok_or_else(|| not_found(c.id.as_str()))?;
                let due = refresh_due_at(&c, &lc, provider).is_some_and(|at| at <= now) || lc.refresh_state.is_some();
                if !due {
                    return Ok(c);
                }
                match self.refresh_connection(&c.team_id, &c.id, false).await {
                    Ok(fresh) => Ok(fresh),
                    // A transient failure while the current token is still valid: hand that one out.
                    Err(RefreshFailed::Transient(_))
                        if c.expires_at.is_some_and(|t| t > now + Duration::seconds(10)) =>
                    {
                        Ok(c)
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Refreshes a connection's access token exactly once across every caller and node (see the
    /// module header). With `force` the refresh happens even if the token is not due yet
    /// (keep-alive), unless another caller refreshed it meanwhile.
    pub(crate) async fn refresh_connection(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        force: bool,
    ) -> Result<Connection, RefreshFailed> {
        let internal = |e: ServiceError| RefreshFailed::Transient(e.to_string());
        let store_err = |e: patchbay_store::StoreError| RefreshFailed::Transient(e.to_string());
        // The generation before queueing: whoever refreshed while we waited for the lock has
        // answered our call too (also for a forced keep-alive).
        let mut first_generation = self.store.lifecycle(team, id).await.map_err(store_err)?.map(|l| l.generation);
        let lock = self.runtime.lock_for(id);
        let _guard = lock.lock().await;
        let started = std::time::Instant::now();
        let (c, lc, provider) = loop {
            let now = self.clock.now();
            let c = self
                .store
                .get_connection(team, id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| RefreshFailed::NeedsReauth("the connection was deleted".into()))?;
            let lc = self
                .store
                .lifecycle(team, id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| RefreshFailed::NeedsReauth("the connection was deleted".into()))?;
            let provider = self.provider(&c.provider).map_err(internal)?;
            let first = *first_generation.get_or_insert(lc.generation);
            if c.status == ConnectionStatus::NeedsReauth {
                return Err(RefreshFailed::NeedsReauth(
                    c.status_reason.unwrap_or_else(|| "needs reauthorization".into()),
                ));
            }
            // Someone refreshed while we waited: theirs is the answer.
            let refreshed_meanwhile = lc.generation != first;
            let fresh = refresh_due_at(&c, &lc, &provider).is_none_or(|at| at > now) && lc.refresh_state.is_none();
            if refreshed_meanwhile || (fresh && !force) {
                return Ok(c);
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
                return Err(RefreshFailed::Transient(format!("{reason} (next attempt in {wait} s)")));
            }
            if self
                .store
                .take_refresh_lease(id, lc.generation, &self.runtime.node_id, now, now + self.config.refresh_lease)
                .await
                .map_err(store_err)?
            {
                break (c, lc, provider);
            }
            if started.elapsed() > WAIT_FOR_OTHER {
                return Err(RefreshFailed::Transient("another node is refreshing this connection; try again".into()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        };
        self.refresh_with_lease(c, lc, &provider).await
    }

    async fn refresh_with_lease(
        &self,
        c: Connection,
        lc: Lifecycle,
        provider: &Provider,
    ) -> Result<Connection, RefreshFailed> {
        let (id, seen, owner) = (c.id.clone(), lc.generation, self.runtime.node_id.clone());
        let result = self.refresh_holding_lease(c, lc, provider).await;
        // Stopped before the request left (an error without a recorded outcome): give the lease
        // back instead of leaving it to expire. A no-op when the outcome was recorded.
        if result.is_err() {
            let _ = self.store.release_lease(&id, seen, &owner).await;
        }
        result
    }

    async fn refresh_holding_lease(
        &self,
        c: Connection,
        lc: Lifecycle,
        provider: &Provider,
    ) -> Result<Connection, RefreshFailed> {
        let seen = lc.generation;
        let owner = self.runtime.node_id.clone();
        let who = system(&c.team_id);
        let fail_internal = |e: ServiceError| RefreshFailed::Transient(e.to_string());
        // Secrets: the refresh token and, for an own client, its secret.
        let credential = self.read_credential(&who, &c, provider, "refresh").await.map_err(fail_internal)?;
        let Credential::OAuth2 { refresh_token: Some(refresh_token), .. } = credential else {
            let reason = "the provider issued no refresh token: reauthorize when the access token expires".to_owned();
            return self
                .record_failure(&c, seen, &owner, ConnectionStatus::NeedsReauth, &reason, None, None, &lc)
                .await;
        };
        let own_secret = self.own_client_secret(&c.team_id, &c.id).await.map_err(fail_internal)?;
        let oauth = self.oauth_client(provider, &c.settings, own_secret).map_err(fail_internal)?;
        if let Some(delay) = self.config.failpoint_refresh_delay {
            tokio::time::sleep(delay).await;
        }
        // Paused past the lease (GC, SIGSTOP)? Then someone else may own it now: do not send.
        let now = self.clock.now();
        if !self
            .store
            .holds_lease(&c.id, seen, &owner, now)
            .await
            .map_err(|e| RefreshFailed::Transient(e.to_string()))?
        {
            return self.reread(&c).await;
        }
        let result = client::refresh(&self.http, provider, &c.settings, &oauth, &refresh_token).await;
        let now = self.clock.now();
        match result {
            Ok(tokens) => {
                let mut fields = vec![(field::ACCESS_TOKEN.to_owned(), &tokens.access_token)];
                if let Some(r) = &tokens.refresh_token {
                    fields.push((field::REFRESH_TOKEN.to_owned(), r));
                }
                let sealed =
                    self.keys.seal_fields(&self.store, &c.team_id, &c.id, &fields, now).await.map_err(fail_internal)?;
                let granted = tokens.scope.clone().unwrap_or_else(|| c.granted_scopes.clone());
                let expires_at = tokens.expires_in.map(|s| now + Duration::seconds(s));
                let fingerprint = self
                    .keys
                    .fingerprint(&self.store, &c.team_id, &c.id, &tokens.access_token, now)
                    .await
                    .map_err(fail_internal)?;
                let mut next = Connection { expires_at, granted_scopes: granted.clone(), ..c.clone() };
                next.status = ConnectionStatus::Active;
                let next_lc = Lifecycle { last_refreshed_at: Some(now), refresh_state: None, ..lc.clone() };
                let next_action = self.next_action(&next, &next_lc, provider, now);
                let write = RefreshWrite {
                    secrets: &sealed,
                    expires_at,
                    granted_scopes: &granted,
                    fingerprint: &fingerprint,
                    next_action_at: next_action,
                    now,
                };
                if !self
                    .store
                    .finish_refresh(&c.id, seen, &owner, &write)
                    .await
                    .map_err(|e| RefreshFailed::Transient(e.to_string()))?
                {
                    // Fenced out: a newer generation exists; it is the truth.
                    return self.reread(&c).await;
                }
                let _ = self.audit_as(&c.team_id, "system", action::CONNECTION_REFRESH, Some(&c.id), "ok", None).await;
                let stored = self.reread(&c).await?;
                self.emit(&stored, kind::REFRESHED, json!({"expires_at": expires_at.map(|t| t.unix_timestamp())}))
                    .await;
                if c.status == ConnectionStatus::Degraded {
                    self.emit(&stored, kind::RECOVERED, json!({})).await;
                }
                tracing::info!(connection_id = %c.id, "access token refreshed");
                Ok(stored)
            }
            Err(e) => {
                let terminal = e.is_terminal()
                    || matches!(&e, TokenError::OAuth { error, .. } if provider.terminal_errors.iter().any(|t| t == error));
                if terminal {
                    let reason = if lc.refresh_state.as_deref() == Some("unknown") {
                        format!("refresh_lost: an earlier refresh got no answer and {e}; reauthorize the connection")
                    } else {
                        format!("{e}; reauthorize the connection")
                    };
                    self.record_failure(&c, seen, &owner, ConnectionStatus::NeedsReauth, &reason, None, None, &lc).await
                } else {
                    let (retry_after, unknown) = match &e {
                        TokenError::Transient { retry_after, outcome_unknown, .. } => (*retry_after, *outcome_unknown),
                        _ => (None, false),
                    };
                    let next = now + retry_delay(lc.failure_count, retry_after);
                    let state =
                        if unknown || lc.refresh_state.as_deref() == Some("unknown") { Some("unknown") } else { None };
                    let reason = format!("refresh failed, retrying: {e}");
                    self.record_failure(&c, seen, &owner, ConnectionStatus::Degraded, &reason, state, Some(next), &lc)
                        .await
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_failure(
        &self,
        c: &Connection,
        seen: i64,
        owner: &str,
        status: ConnectionStatus,
        reason: &str,
        refresh_state: Option<&str>,
        next_action_at: Option<OffsetDateTime>,
        lc: &Lifecycle,
    ) -> Result<Connection, RefreshFailed> {
        let now = self.clock.now();
        // A dead grant still gets its expiry warnings checked; nothing else is scheduled.
        let next_action_at = next_action_at.or_else(|| c.reauthorize_by.filter(|t| *t > now));
        let failure = RefreshFailure { status, reason, refresh_state, next_action_at, now };
        let written = self
            .store
            .fail_refresh(&c.id, seen, owner, &failure)
            .await
            .map_err(|e| RefreshFailed::Transient(e.to_string()))?;
        if !written {
            return self.reread(c).await;
        }
        let outcome = if status == ConnectionStatus::NeedsReauth { "failed" } else { "retry" };
        let _ =
            self.audit_as(&c.team_id, "system", action::CONNECTION_REFRESH, Some(&c.id), outcome, Some(reason)).await;
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
        self.store
            .get_connection(&c.team_id, &c.id)
            .await
            .map_err(|e| RefreshFailed::Transient(e.to_string()))?
            .ok_or_else(|| RefreshFailed::NeedsReauth("the connection was deleted".into()))
    }

    /// Starts the lifecycle of a new grant (a created connection, a completed consent): bumps
    /// the generation so refreshes of an older grant are fenced out, and schedules the next
    /// action as if the token had just been refreshed at `at`.
    pub(crate) async fn start_lifecycle(
        &self,
        c: &Connection,
        provider: &Provider,
        at: OffsetDateTime,
    ) -> ServiceResult<()> {
        let next = self.next_action(c, &Lifecycle::fresh(at), provider, at);
        self.store.reset_lifecycle(&c.id, at, next).await?;
        Ok(())
    }

    /// When the scheduler should next look at a connection: the earliest of its refresh time,
    /// keep-alive, re-verify, and grant-expiry warnings. `None`: nothing to do.
    pub(crate) fn next_action(
        &self,
        c: &Connection,
        lc: &Lifecycle,
        provider: &Provider,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let mut candidates: Vec<OffsetDateTime> = Vec::new();
        let alive = matches!(c.status, ConnectionStatus::Active | ConnectionStatus::Degraded);
        if alive {
            match provider.auth_mode {
                AuthMode::Oauth2 => {
                    candidates.extend(refresh_due_at(c, lc, provider));
                    let keep_alive = provider.keep_alive.map_or(DEFAULT_KEEP_ALIVE, |l| Duration::seconds(l.seconds));
                    candidates.push(lc.last_refreshed_at.unwrap_or(c.updated_at) + keep_alive);
                }
                // Matches renew_client_credentials_if_due: a new token a minute before expiry.
                AuthMode::Oauth2ClientCredentials => candidates.extend(c.expires_at.map(|t| t - Duration::minutes(1))),
                AuthMode::ApiKey | AuthMode::Basic => {
                    let every = provider.reverify_every.map_or(Duration::hours(24), |l| Duration::seconds(l.seconds));
                    let last = c.last_verify.as_ref().map_or(c.created_at, |v| v.checked_at);
                    candidates.push(last + every);
                }
            }
        }
        if let Some(by) = c.reauthorize_by
            && c.status != ConnectionStatus::NeedsReauth
        {
            let warned = lc.warned_days.unwrap_or(i64::MAX);
            if warned > 7 {
                candidates.push(by - Duration::days(7));
            }
            if warned > 1 {
                candidates.push(by - Duration::days(1));
            }
            candidates.push(by);
        }
        candidates.into_iter().min().map(|t| t.max(now))
    }
}
