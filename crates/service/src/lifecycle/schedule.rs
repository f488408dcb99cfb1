//! The scheduling policy of a connection's lifecycle: when its token is due for refresh, how
//! long to back off after a failed refresh, and when the scheduler should look at it next. The
//! rules are pure functions of the connection, its lifecycle row, its provider and `now`
//! (unit-tested below with fixed times); [`Patchbay::start_lifecycle`] is the one writer that
//! applies them to a new grant.

use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_store::Lifecycle;
use time::{Duration, OffsetDateTime};

use crate::backoff::Backoff;
use crate::{Patchbay, ServiceResult};

/// Default refresh margin.
const DEFAULT_MARGIN: Duration = Duration::minutes(5);
/// Default keep-alive of idle grants.
const DEFAULT_KEEP_ALIVE: Duration = Duration::hours(24);
/// Default re-verify interval of API keys and basic credentials.
const DEFAULT_REVERIFY: Duration = Duration::hours(24);

/// Backoff after consecutive transient refresh failures: 2 s · 2ⁿ, capped at 10 minutes,
/// +0–25 % jitter.
const REFRESH_RETRY: Backoff =
    Backoff { base: std::time::Duration::from_secs(2), cap: std::time::Duration::from_secs(600), jitter: 0.25 };

fn margin_of(provider: &Provider) -> Duration {
    provider.refresh_margin.map_or(DEFAULT_MARGIN, |l| Duration::seconds(l.seconds))
}

/// How long an idle OAuth grant may go without a refresh before it is refreshed to keep it alive.
pub(crate) fn keep_alive_of(provider: &Provider) -> Duration {
    provider.keep_alive.map_or(DEFAULT_KEEP_ALIVE, |l| Duration::seconds(l.seconds))
}

/// How often a static credential is verified again.
pub(crate) fn reverify_every_of(provider: &Provider) -> Duration {
    provider.reverify_every.map_or(DEFAULT_REVERIFY, |l| Duration::seconds(l.seconds))
}

/// When a connection's credential was last checked by its verify call (its creation if never):
/// where `reverify_every` counts from.
pub(crate) fn last_verified_at(c: &Connection) -> OffsetDateTime {
    c.last_verify.as_ref().map_or(c.created_at, |v| v.checked_at)
}

/// How often an OAuth connection's token is checked with the verify call, when its provider asks
/// for that (`reverify_every`; Twitch: hourly). OAuth providers have no default: refresh and
/// keep-alive already prove the grant.
pub(crate) fn oauth_reverify_every_of(provider: &Provider) -> Option<Duration> {
    provider.reverify_every.map(|l| Duration::seconds(l.seconds))
}

/// When a token should be refreshed: `expires_at − min(margin, lifetime / 2)`.
pub(crate) fn refresh_due_at(c: &Connection, lc: &Lifecycle, provider: &Provider) -> Option<OffsetDateTime> {
    let expires = c.expires_at?;
    let issued = lc.last_refreshed_at.unwrap_or(c.updated_at);
    let half_life: Duration = (expires - issued) / 2;
    Some(expires - margin_of(provider).min(half_life.max(Duration::ZERO)))
}

/// Backoff after `failures` consecutive transient failures ([`REFRESH_RETRY`]); at least the
/// provider's `Retry-After`.
pub(crate) fn retry_delay(failures: i64, retry_after: Option<u64>) -> Duration {
    REFRESH_RETRY.delay_at_least(failures, retry_after)
}

/// When the scheduler should next look at a connection: the earliest of its refresh time,
/// keep-alive, re-verify, and grant-expiry warnings. `None`: nothing to do.
pub(crate) fn next_action(
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
                candidates.push(lc.last_refreshed_at.unwrap_or(c.updated_at) + keep_alive_of(provider));
                if let Some(every) = oauth_reverify_every_of(provider) {
                    candidates.push(last_verified_at(c) + every);
                }
            }
            // Matches renew_client_credentials_if_due: a new token a minute before expiry.
            AuthMode::Oauth2ClientCredentials => candidates.extend(c.expires_at.map(|t| t - Duration::minutes(1))),
            AuthMode::ApiKey | AuthMode::Basic => {
                candidates.push(last_verified_at(c) + reverify_every_of(provider));
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

impl Patchbay {
    /// Starts the lifecycle of a new grant (a created connection, a completed consent): bumps
    /// the generation so refreshes of an older grant are fenced out, and schedules the next
    /// action as if the token had just been refreshed at `at`.
    pub(crate) async fn start_lifecycle(
        &self,
        c: &Connection,
        provider: &Provider,
        at: OffsetDateTime,
    ) -> ServiceResult<()> {
        let next = next_action(c, &Lifecycle::fresh(at), provider, at);
        self.store.reset_lifecycle(&c.id, at, next).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::connection::VerifyResult;
    use patchbay_domain::ids::{ConnectionId, TeamId};
    use patchbay_domain::scope::ScopeSet;
    use serde_json::json;

    use super::*;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("a valid timestamp")
    }

    fn provider(auth_mode: &str, extra: serde_json::Value) -> Provider {
        let mut p = json!({"id": "acme", "display_name": "Acme", "auth_mode": auth_mode});
        if let (Some(p), serde_json::Value::Object(extra)) = (p.as_object_mut(), extra) {
            p.extend(extra);
        }
        serde_json::from_value(p).expect("a valid provider")
    }

    fn connection(status: ConnectionStatus) -> Connection {
        Connection {
            id: ConnectionId::generate(),
            team_id: TeamId::generate(),
            provider: "acme".into(),
            name: "c".into(),
            status,
            status_reason: None,
            account: None,
            account_id: None,
            granted_scopes: ScopeSet::new(),
            requested_scopes: ScopeSet::new(),
            settings: Default::default(),
            credential_fingerprint: None,
            expires_at: None,
            reauthorize_by: None,
            last_verify: None,
            last_authorization: None,
            created_at: t0(),
            updated_at: t0(),
            end_user: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn refresh_is_due_a_margin_before_expiry_or_at_half_life() {
        let p = provider("oauth2", json!({}));
        let lc = Lifecycle::fresh(t0());
        let mut c = connection(ConnectionStatus::Active);
        assert_eq!(refresh_due_at(&c, &lc, &p), None, "no expiry, nothing to refresh");
        c.expires_at = Some(t0() + Duration::hours(1));
        assert_eq!(refresh_due_at(&c, &lc, &p), Some(t0() + Duration::minutes(55)), "default margin 5 min");
        c.expires_at = Some(t0() + Duration::minutes(4));
        assert_eq!(refresh_due_at(&c, &lc, &p), Some(t0() + Duration::minutes(2)), "short token: half-life");
        let p = provider("oauth2", json!({"refresh_margin": "10m"}));
        c.expires_at = Some(t0() + Duration::hours(1));
        assert_eq!(refresh_due_at(&c, &lc, &p), Some(t0() + Duration::minutes(50)));
        c.expires_at = Some(t0() - Duration::minutes(1));
        assert_eq!(refresh_due_at(&c, &lc, &p), Some(t0() - Duration::minutes(1)), "expired: due at expiry");
    }

    #[test]
    fn refresh_retries_back_off_from_two_seconds_to_ten_minutes() {
        for (failures, nominal) in [(0, 2), (1, 4), (4, 32), (8, 512), (9, 600), (30, 600)] {
            let d = retry_delay(failures, None);
            let nominal = Duration::seconds(nominal);
            assert!(d >= nominal && d <= nominal * 5 / 4, "{failures}: {d}");
        }
        assert!(retry_delay(0, Some(90)) >= Duration::seconds(90), "Retry-After is a floor");
        assert!(retry_delay(0, Some(86_400)) <= Duration::hours(1), "…capped at an hour");
    }

    #[test]
    fn next_action_of_an_oauth_grant_is_its_refresh_or_keep_alive() {
        let p = provider("oauth2", json!({}));
        let mut c = connection(ConnectionStatus::Active);
        let lc = Lifecycle::fresh(t0());
        assert_eq!(next_action(&c, &lc, &p, t0()), Some(t0() + Duration::hours(24)), "keep-alive only");
        c.expires_at = Some(t0() + Duration::hours(1));
        assert_eq!(next_action(&c, &lc, &p, t0()), Some(t0() + Duration::minutes(55)));
        let later = t0() + Duration::hours(2);
        assert_eq!(next_action(&c, &lc, &p, later), Some(later), "overdue work is due now, not in the past");
        c.status = ConnectionStatus::Pending;
        assert_eq!(next_action(&c, &lc, &p, t0()), None, "no grant, nothing to do");
    }

    #[test]
    fn next_action_of_other_modes() {
        let lc = Lifecycle::fresh(t0());
        let mut c = connection(ConnectionStatus::Active);
        c.expires_at = Some(t0() + Duration::hours(1));
        let cc = provider("oauth2_client_credentials", json!({}));
        assert_eq!(next_action(&c, &lc, &cc, t0()), Some(t0() + Duration::minutes(59)));
        let key = provider("api_key", json!({"reverify_every": "12h"}));
        assert_eq!(next_action(&c, &lc, &key, t0()), Some(t0() + Duration::hours(12)), "from creation");
        c.last_verify = Some(VerifyResult {
            ok: true,
            account: None,
            account_id: None,
            checked_at: t0() + Duration::hours(1),
            error: None,
        });
        assert_eq!(next_action(&c, &lc, &key, t0()), Some(t0() + Duration::hours(13)), "from the last verify");
    }

    #[test]
    fn grant_expiry_warnings_come_seven_and_one_day_before() {
        let p = provider("api_key", json!({"reverify_every": "60d"}));
        let mut c = connection(ConnectionStatus::Active);
        let by = t0() + Duration::days(30);
        c.reauthorize_by = Some(by);
        let mut lc = Lifecycle::fresh(t0());
        assert_eq!(next_action(&c, &lc, &p, t0()), Some(by - Duration::days(7)));
        lc.warned_days = Some(7);
        assert_eq!(next_action(&c, &lc, &p, t0()), Some(by - Duration::days(1)));
        lc.warned_days = Some(1);
        assert_eq!(next_action(&c, &lc, &p, t0()), Some(by));
        c.status = ConnectionStatus::NeedsReauth;
        assert_eq!(next_action(&c, &lc, &p, t0()), None, "a dead grant is not warned about");
    }
}
