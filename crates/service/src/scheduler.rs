//! The background scheduler: refresh before expiry, keep idle grants alive, re-verify API keys
//! (and the tokens of OAuth providers that ask for a periodic check), warn before a grant's own
//! lifetime ends, and resolve refreshes whose outcome was lost.
//!
//! It reads only connections whose indexed `next_action_at` is due (cost grows with due work,
//! not with all connections), claims each with a conditional update (safe across nodes), works
//! through them with bounded concurrency, and writes the next due time back. State lives in the
//! database, so it survives restarts.

use std::sync::Arc;

use futures::StreamExt;
use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::Principal;
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::VerifyOutcome;
use serde_json::json;
use time::Duration;

use crate::access::system;
use crate::events::kind;
use crate::lifecycle::{
    RefreshState, keep_alive_of, last_verified_at, next_action, oauth_reverify_every_of, refresh_due_at,
    reverify_every_of,
};
use crate::{Patchbay, ServiceResult};

/// Connections worked on at once by one node.
const CONCURRENCY: usize = 8;

impl Patchbay {
    /// One scheduler pass: claims due connections and handles each. Returns how many.
    pub async fn run_due_connections(&self) -> ServiceResult<usize> {
        let now = self.clock.now();
        let due = self.store.claim_due_connections(now, Duration::minutes(2), 64).await?;
        let n = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(CONCURRENCY, |(team, id)| async move {
                if let Err(e) = self.handle_due(&team, &id).await {
                    tracing::warn!(connection_id = %id, error = %e, "scheduled work failed");
                }
            })
            .await;
        Ok(n)
    }

    /// At start: refreshes whose outcome a crash left unknown are made due now. On SQLite only
    /// one process uses the database, so a lease left by a crashed run is released too.
    pub async fn resolve_unknown_refreshes(&self) -> ServiceResult<usize> {
        let unresolved = self.store.unresolved_refreshes().await?;
        if self.store.engine() == patchbay_store::Engine::Sqlite {
            self.store.release_stale_leases().await?;
        }
        for (_, id) in &unresolved {
            self.store.set_next_action(id, Some(self.clock.now())).await?;
        }
        if !unresolved.is_empty() {
            tracing::warn!(count = unresolved.len(), "refreshes with an unknown outcome will be resolved now");
        }
        Ok(unresolved.len())
    }

    async fn handle_due(&self, team: &TeamId, id: &ConnectionId) -> ServiceResult<()> {
        let Some(c) = self.store.get_connection(team, id).await? else { return Ok(()) };
        let Some(provider) = self.find_provider(team, &c.provider).await? else {
            self.store.set_next_action(id, None).await?;
            return Ok(());
        };
        let who = system(team);
        let c = self.check_grant_lifetime(c).await?;
        let now = self.clock.now();
        if matches!(c.status, ConnectionStatus::Active | ConnectionStatus::Degraded) {
            let Some(lc) = self.store.lifecycle(team, id).await? else { return Ok(()) };
            match provider.auth_mode {
                AuthMode::Oauth2 => {
                    let refresh_due = refresh_due_at(&c, &lc, &provider).is_some_and(|t| t <= now);
                    let keep_alive = keep_alive_of(&provider);
                    // Keep-alive only renews a grant that can be renewed: without a refresh token
                    // there is nothing to keep alive, and refreshing would only fail.
                    let has_refresh_token = self
                        .store
                        .secret_field_names(team, Some(id))
                        .await?
                        .iter()
                        .any(|(_, f)| f == patchbay_domain::credential::field::REFRESH_TOKEN);
                    let keep_alive_due =
                        has_refresh_token && lc.last_refreshed_at.unwrap_or(c.updated_at) + keep_alive <= now;
                    let tried_refresh = refresh_due || keep_alive_due || RefreshState::of(&lc).is_some();
                    if tried_refresh {
                        // Errors are recorded on the connection (status, event); nothing to add here.
                        let _ = self.refresh_connection(team, id, true).await;
                    }
                    if let Some(every) = oauth_reverify_every_of(&provider) {
                        // After a refresh, its outcome decides (status, new expiry): read it back.
                        let c = if tried_refresh { self.store.get_connection(team, id).await?.unwrap_or(c) } else { c };
                        let alive = matches!(c.status, ConnectionStatus::Active | ConnectionStatus::Degraded);
                        // An expired token is the refresh's business, not a sign of revocation.
                        let unexpired = c.expires_at.is_none_or(|t| t > now);
                        if alive && unexpired && last_verified_at(&c) + every <= now {
                            self.scheduled_token_check(&who, &c, &provider).await?;
                        }
                    }
                }
                AuthMode::Oauth2ClientCredentials => {
                    self.renew_client_credentials_if_due(&who, c.clone(), &provider).await?;
                }
                AuthMode::ApiKey | AuthMode::Basic => {
                    if last_verified_at(&c) + reverify_every_of(&provider) <= now {
                        self.scheduled_verify(&who, &c, &provider).await?;
                    }
                }
            }
        }
        // Whatever happened, the next due time follows from the stored state.
        if let (Some(c), Some(lc)) = (self.store.get_connection(team, id).await?, self.store.lifecycle(team, id).await?)
        {
            let next = next_action(&c, &lc, &provider, self.clock.now());
            // A degraded connection keeps its retry time from the failed refresh.
            let next = if c.status == ConnectionStatus::Degraded { next.min(lc.next_action_at).or(next) } else { next };
            self.store.set_next_action(id, next).await?;
        }
        Ok(())
    }

    /// Emits `expiring` 7 days and 1 day before `reauthorize_by`, and turns a passed grant into
    /// `needs_reauth` with reason `grant_expired`.
    async fn check_grant_lifetime(&self, c: Connection) -> ServiceResult<Connection> {
        let Some(by) = c.reauthorize_by else { return Ok(c) };
        if c.status == ConnectionStatus::NeedsReauth {
            return Ok(c);
        }
        let now = self.clock.now();
        if by <= now {
            let reason = "grant_expired: the provider's grant lifetime has passed; reauthorize the connection";
            self.store.set_status(&c.team_id, &c.id, ConnectionStatus::NeedsReauth, Some(reason), now).await?;
            let c = self.store.get_connection(&c.team_id, &c.id).await?.unwrap_or(c);
            self.emit(&c, kind::NEEDS_REAUTH, json!({"reason": "grant_expired"})).await;
            return Ok(c);
        }
        let lc = self.store.lifecycle(&c.team_id, &c.id).await?;
        let warned = lc.and_then(|l| l.warned_days).unwrap_or(i64::MAX);
        let left = by - now;
        for days in [1i64, 7] {
            if left <= Duration::days(days) && warned > days {
                self.store.set_warned_days(&c.id, days).await?;
                let reauthorize_by = by.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                self.emit(&c, kind::EXPIRING, json!({"days": days, "reauthorize_by": reauthorize_by})).await;
                break;
            }
        }
        Ok(c)
    }

    async fn scheduled_verify(&self, who: &Principal, c: &Connection, provider: &Provider) -> ServiceResult<()> {
        let outcome = self.verify_stored(who, c, provider).await?;
        let now = self.clock.now();
        let (status, reason, result) = match outcome {
            VerifyOutcome::Ok { account, account_id } => (
                ConnectionStatus::Active,
                None,
                VerifyResult { ok: true, account, account_id, checked_at: now, error: None },
            ),
            VerifyOutcome::Rejected { message, .. } => (
                ConnectionStatus::NeedsReauth,
                Some(message.clone()),
                VerifyResult { ok: false, account: None, account_id: None, checked_at: now, error: Some(message) },
            ),
            VerifyOutcome::Failed { message } => (
                ConnectionStatus::Degraded,
                Some(format!("verify failed: {message}")),
                VerifyResult { ok: false, account: None, account_id: None, checked_at: now, error: Some(message) },
            ),
        };
        self.store.record_verify(&c.team_id, &c.id, status, reason.as_deref(), &result).await?;
        self.emit_verify(c, status, &result).await;
        Ok(())
    }

    /// The periodic token check of an OAuth provider that asks for one (`reverify_every`;
    /// Twitch requires apps to validate every token hourly, to notice a user who disconnected the
    /// app). The verify call runs with the stored access token; a token refused before its
    /// expiry is refreshed once and checked again, so only a grant that is really gone ends up
    /// `needs_reauth`. An unreachable provider changes nothing: the token may well be fine, and
    /// the refresh schedule already reports a provider that is down.
    async fn scheduled_token_check(&self, who: &Principal, c: &Connection, provider: &Provider) -> ServiceResult<()> {
        let mut outcome = self.verify_stored(who, c, provider).await?;
        let mut current = c.clone();
        if matches!(outcome, VerifyOutcome::Rejected { .. }) {
            // A failed refresh records its own status and events.
            if let Ok(fresh) = self.refresh_connection(&c.team_id, &c.id, true).await {
                outcome = self.verify_stored(who, &fresh, provider).await?;
                current = fresh;
            } else {
                current = self.store.get_connection(&c.team_id, &c.id).await?.unwrap_or(current);
            }
        }
        let (account, account_id, error) = match &outcome {
            VerifyOutcome::Ok { account, account_id } => (account.clone(), account_id.clone(), None),
            VerifyOutcome::Rejected { message, .. } | VerifyOutcome::Failed { message } => {
                (None, None, Some(message.clone()))
            }
        };
        let result = VerifyResult { ok: error.is_none(), account, account_id, checked_at: self.clock.now(), error };
        let (status, reason) = match outcome {
            VerifyOutcome::Rejected { message, .. }
                if !matches!(current.status, ConnectionStatus::NeedsReauth | ConnectionStatus::Degraded) =>
            {
                (ConnectionStatus::NeedsReauth, Some(format!("{message}; reauthorize the connection")))
            }
            // Passed; or refused after a refresh that failed and said why (the user must act, or
            // it is retried); or the provider could not be asked, and the token may well be fine.
            _ => (current.status, current.status_reason.clone()),
        };
        self.store.record_verify(&c.team_id, &c.id, status, reason.as_deref(), &result).await?;
        // A passing hourly check is routine: events only for a failure or a change.
        if !result.ok || status != current.status {
            self.emit_verify(&current, status, &result).await;
        }
        Ok(())
    }

    /// The provider's verify call with the connection's stored credential.
    async fn verify_stored(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
    ) -> ServiceResult<VerifyOutcome> {
        let credential = self.read_credential(who, c, provider, "scheduled verify").await?;
        Ok(patchbay_providers::verify_credential(&self.http, provider, &c.template_values(), &credential).await)
    }
}

/// Runs the scheduler until `shutdown` changes, one pass per `interval`, after resolving the
/// refreshes a crash left unknown.
pub async fn run_worker(
    patchbay: Arc<Patchbay>,
    interval: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    if let Err(e) = patchbay.resolve_unknown_refreshes().await {
        tracing::error!(error = %e, "cannot resolve refreshes left unknown by the last run");
    }
    crate::workers::run_every("scheduler", interval, shutdown, || patchbay.run_due_connections()).await;
}
