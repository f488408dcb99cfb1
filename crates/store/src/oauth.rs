//! OAuth persistence: consent flows (consumed atomically, once), credential replacement after a
//! grant, and revocations still owed to providers.

use patchbay_domain::connection::{ConnectionStatus, VerifyResult};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::scope::ScopeSet;
use time::OffsetDateTime;

use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// A started consent flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    /// SHA-256 (hex) of the state.
    pub state_hash: String,
    /// Team.
    pub team_id: TeamId,
    /// The connection it completes.
    pub connection_id: ConnectionId,
    /// Provider id.
    pub provider: String,
    /// `create` or `reauthorize`.
    pub kind: String,
    /// Scopes requested.
    pub requested_scopes: ScopeSet,
    /// The exact redirect URI sent.
    pub redirect_uri: String,
    /// Sealed PKCE verifier.
    pub pkce_verifier: Option<Vec<u8>>,
    /// SHA-256 of the browser session that started it, when started from the web UI.
    pub binding: Option<String>,
    /// Whether a different account may replace the stored one.
    pub allow_account_change: bool,
    /// Audit label of who started it.
    pub actor: String,
    /// Same-origin path to land on afterwards.
    pub return_to: Option<String>,
    /// Start time.
    pub created_at: OffsetDateTime,
    /// Expiry (10 minutes after start).
    pub expires_at: OffsetDateTime,
}

type FlowTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    Option<String>,
    i64,
    String,
    Option<String>,
    i64,
    i64,
);

fn flow_row(t: FlowTuple) -> Result<FlowRow, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("oauth flow: {e}"));
    Ok(FlowRow {
        state_hash: t.0,
        team_id: TeamId::parse(&t.1).map_err(|e| corrupt(e.to_string()))?,
        connection_id: ConnectionId::parse(&t.2).map_err(|e| corrupt(e.to_string()))?,
        provider: t.3,
        kind: t.4,
        requested_scopes: ScopeSet::parse(&t.5, " "),
        redirect_uri: t.6,
        pkce_verifier: t.7,
        binding: t.8,
        allow_account_change: t.9 != 0,
        actor: t.10,
        return_to: t.11,
        created_at: from_ms(t.12)?,
        expires_at: from_ms(t.13)?,
    })
}

/// New credential state after a successful grant or refresh.
#[derive(Debug, Clone)]
pub struct CredentialUpdate<'a> {
    /// Sealed fields to write (replacing same-named ones).
    pub secrets: &'a [(String, Vec<u8>)],
    /// Fields to delete that are not in `secrets` (e.g. a refresh token no longer issued).
    pub remove_fields: &'a [&'a str],
    /// New status.
    pub status: ConnectionStatus,
    /// Reason (None when active).
    pub status_reason: Option<&'a str>,
    /// Account label; `None` keeps the stored one (unless `reset_identity`).
    pub account: Option<&'a str>,
    /// Stable account id; `None` keeps the stored one (unless `reset_identity`).
    pub account_id: Option<&'a str>,
    /// Set `account` and `account_id` exactly as given, `None` included (an allowed account
    /// change: the old identity must not linger).
    pub reset_identity: bool,
    /// A new consent grant: recorded in the grant history, and the superseded one dealt with in
    /// the same transaction (see [`GrantRecord`]). `None` for a refresh or a renewal.
    pub grant: Option<GrantRecord<'a>>,
    /// Granted scopes.
    pub granted_scopes: &'a ScopeSet,
    /// Scopes asked for that this grant did not cover (kept on the connection until one does).
    pub requested_scopes: &'a ScopeSet,
    /// Access token expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Grant expiry; `None` keeps the stored one.
    pub reauthorize_by: Option<OffsetDateTime>,
    /// Verify outcome; `None` keeps the stored one.
    pub last_verify: Option<&'a VerifyResult>,
    /// New fingerprint.
    pub fingerprint: &'a str,
    /// Time of the change.
    pub now: OffsetDateTime,
}

/// How [`Store::replace_credential`] records a new consent grant and deals with the one it
/// supersedes.
#[derive(Debug, Clone)]
pub struct GrantRecord<'a> {
    /// `Some`: queue the superseded grant's tokens for revocation (due at once) under these
    /// terms; `None`: the superseded grant stays live at the provider, for `live_detail`'s reason.
    pub revoke: Option<SupersededRevocation<'a>>,
    /// Why the superseded grant stays live, when it is not revoked.
    pub live_detail: &'a str,
}

/// Terms of the revocation queued for a superseded grant's tokens.
#[derive(Debug, Clone)]
pub struct SupersededRevocation<'a> {
    /// Provider id.
    pub provider: &'a str,
    /// The connection's non-secret settings (JSON).
    pub settings: &'a str,
    /// The secret field holding the connection's own client secret, copied along if present.
    pub client_secret_field: &'a str,
    /// The token fields to revoke, refresh token first (queued in this order, both due at once).
    pub token_fields: [&'a str; 2],
    /// When to give up retrying.
    pub give_up_at: OffsetDateTime,
}

/// A revocation owed to a provider.
#[derive(Debug, Clone)]
pub struct PendingRevocation {
    /// Row id.
    pub id: i64,
    /// Team.
    pub team_id: TeamId,
    /// The deleted connection.
    pub connection_id: String,
    /// Provider id.
    pub provider: String,
    /// Its non-secret settings (JSON).
    pub settings: String,
    /// `refresh_token` or `access_token`.
    pub hint: String,
    /// The sealed token.
    pub token: Vec<u8>,
    /// The sealed own client secret, if the connection had one.
    pub client_secret: Option<Vec<u8>>,
    /// Attempts so far.
    pub attempts: i64,
    /// When to give up.
    pub give_up_at: OffsetDateTime,
    /// The grant (`connection_grants.id`) the token belongs to, when recorded.
    pub grant_id: Option<i64>,
}

/// Inside [`Store::replace_credential`]'s transaction `$tx` (either engine): records the new
/// grant of `$u` (its [`GrantRecord`] `$g`) as current and settles the one it supersedes:
/// its tokens queued for revocation from the rows about to be replaced, or marked `live`.
macro_rules! record_grant {
    ($tx:ident, $team:expr, $id:expr, $u:expr, $g:expr) => {{
        let (team, id, u, g): (&TeamId, &ConnectionId, &CredentialUpdate<'_>, &GrantRecord<'_>) = ($team, $id, $u, $g);
        // Before the fields are replaced: the superseded tokens are queued from the rows.
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM connection_grants WHERE team_id = $1 AND connection_id = $2 AND state = 'current' \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(team.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(old) = current {
            let (state, detail) = match &g.revoke {
                Some(r) => {
                    let queued = sqlx::query(
                        "INSERT INTO pending_revocations (team_id, connection_id, provider, settings, hint, token, \
                         client_secret, attempts, next_attempt_at, give_up_at, last_error, grant_id) \
                         SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), s.field, \
                         s.ciphertext, (SELECT c.ciphertext FROM connection_secrets c WHERE c.connection_id = $2 \
                         AND c.field = $5), 0, CAST($6 AS BIGINT), \
                         CAST($8 AS BIGINT), 'superseded by a new grant', CAST($9 AS BIGINT) \
                         FROM connection_secrets s WHERE s.connection_id = $2 AND s.field IN ($7, $10) \
                         ORDER BY CASE WHEN s.field = $7 THEN 0 ELSE 1 END",
                    )
                    .bind(team.as_str())
                    .bind(id.as_str())
                    .bind(r.provider)
                    .bind(r.settings)
                    .bind(r.client_secret_field)
                    .bind(to_ms(u.now))
                    .bind(r.token_fields[0])
                    .bind(to_ms(r.give_up_at))
                    .bind(old)
                    .bind(r.token_fields[1])
                    .execute(&mut *$tx)
                    .await?;
                    if queued.rows_affected() == 0 {
                        ("revoked", "it held no tokens")
                    } else {
                        ("pending", "revocation queued: the grant was superseded")
                    }
                }
                None => ("live", g.live_detail),
            };
            sqlx::query("UPDATE connection_grants SET state = $1, detail = $2, replaced_at = $3 WHERE id = $4")
                .bind(state)
                .bind(detail)
                .bind(to_ms(u.now))
                .bind(old)
                .execute(&mut *$tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO connection_grants (team_id, connection_id, obtained_at, state) VALUES ($1, $2, $3, 'current')",
        )
        .bind(team.as_str())
        .bind(id.as_str())
        .bind(to_ms(u.now))
        .execute(&mut *$tx)
        .await?;
    }};
}

type RevocationTuple = (i64, String, String, String, String, String, Vec<u8>, Option<Vec<u8>>, i64, i64, Option<i64>);

impl Store {
    /// Records a started flow.
    pub async fn insert_flow(&self, f: &FlowRow) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO oauth_flows (state_hash, team_id, connection_id, provider, kind, requested_scopes, redirect_uri, \
             pkce_verifier, binding, allow_account_change, actor, return_to, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
            .bind(&f.state_hash)
            .bind(f.team_id.as_str())
            .bind(f.connection_id.as_str())
            .bind(&f.provider)
            .bind(&f.kind)
            .bind(f.requested_scopes.join(" "))
            .bind(&f.redirect_uri)
            .bind(&f.pkce_verifier)
            .bind(&f.binding)
            .bind(i64::from(f.allow_account_change))
            .bind(&f.actor)
            .bind(&f.return_to)
            .bind(to_ms(f.created_at))
            .bind(to_ms(f.expires_at))
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Consumes a flow: deletes and returns it in one statement, so of any number of concurrent
    /// callbacks with the same state exactly one gets it.
    pub async fn take_flow(&self, state_hash: &str) -> Result<Option<FlowRow>, StoreError> {
        let row: Option<FlowTuple> = with_pool!(self, p => sqlx::query_as(
            "DELETE FROM oauth_flows WHERE state_hash = $1 RETURNING state_hash, team_id, connection_id, provider, kind, \
             requested_scopes, redirect_uri, pkce_verifier, binding, allow_account_change, actor, return_to, created_at, expires_at")
            .bind(state_hash)
            .fetch_optional(p)
            .await)?;
        row.map(flow_row).transpose()
    }

    /// Deletes flows that expired before `now`; returns how many.
    pub async fn purge_expired_flows(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(with_pool!(self, p => sqlx::query("DELETE FROM oauth_flows WHERE expires_at < $1")
            .bind(to_ms(now)).execute(p).await.map(|r| r.rows_affected()))?)
    }

    /// Replaces a connection's credential and metadata atomically. `Ok(false)`: no such
    /// connection in the team.
    pub async fn replace_credential(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        u: &CredentialUpdate<'_>,
    ) -> Result<bool, StoreError> {
        let last_verify = u.last_verify.map(|v| serde_json::to_string(v).expect("a verify result always serializes"));
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let updated = sqlx::query(
                "UPDATE connections SET status = $1, status_reason = $2, \
                 account = CASE WHEN $12 = 1 THEN $3 ELSE COALESCE($3, account) END, \
                 account_id = CASE WHEN $12 = 1 THEN $13 ELSE COALESCE($13, account_id) END, granted_scopes = $4, \
                 expires_at = $5, reauthorize_by = COALESCE($6, reauthorize_by), last_verify = COALESCE($7, last_verify), \
                 credential_fingerprint = $8, updated_at = $9, requested_scopes = $14 WHERE team_id = $10 AND id = $11")
                .bind(u.status.as_str())
                .bind(u.status_reason)
                .bind(u.account)
                .bind(u.granted_scopes.join(" "))
                .bind(u.expires_at.map(to_ms))
                .bind(u.reauthorize_by.map(to_ms))
                .bind(last_verify)
                .bind(u.fingerprint)
                .bind(to_ms(u.now))
                .bind(team.as_str())
                .bind(id.as_str())
                .bind(i64::from(u.reset_identity))
                .bind(u.account_id)
                .bind(u.requested_scopes.join(" "))
                .execute(&mut *tx)
                .await?;
            if updated.rows_affected() != 1 {
                return Ok(false);
            }
            if let Some(g) = &u.grant {
                record_grant!(tx, team, id, u, g);
            }
            let names = u.secrets.iter().map(|(f, _)| f.as_str()).chain(u.remove_fields.iter().copied());
            for field in names {
                sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1 AND field = $2")
                    .bind(id.as_str())
                    .bind(field)
                    .execute(&mut *tx)
                    .await?;
            }
            for (field, blob) in u.secrets {
                sqlx::query("INSERT INTO connection_secrets (connection_id, field, ciphertext) VALUES ($1, $2, $3)")
                    .bind(id.as_str())
                    .bind(field)
                    .bind(blob)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Sets status and reason only (a denied consent, a failed token exchange).
    pub async fn set_status(
        &self,
        team: &TeamId,
        id: &ConnectionId,
        status: ConnectionStatus,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connections SET status = $1, status_reason = $2, updated_at = $3 WHERE team_id = $4 AND id = $5")
            .bind(status.as_str())
            .bind(reason)
            .bind(to_ms(now))
            .bind(team.as_str())
            .bind(id.as_str())
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Queues a revocation to retry.
    pub async fn insert_pending_revocation(
        &self,
        r: &PendingRevocation,
        next_attempt_at: OffsetDateTime,
        last_error: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO pending_revocations (team_id, connection_id, provider, settings, hint, token, client_secret, attempts, \
             next_attempt_at, give_up_at, last_error, grant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(r.team_id.as_str())
            .bind(&r.connection_id)
            .bind(&r.provider)
            .bind(&r.settings)
            .bind(&r.hint)
            .bind(&r.token)
            .bind(&r.client_secret)
            .bind(r.attempts)
            .bind(to_ms(next_attempt_at))
            .bind(to_ms(r.give_up_at))
            .bind(last_error)
            .bind(r.grant_id)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Claims due revocations: each returned row has been pushed `lease` into the future by a
    /// conditional update, so another worker (or node) does not take it at the same time.
    /// `grant`: only that grant's revocations.
    pub async fn claim_due_revocations(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: i64,
        grant: Option<i64>,
    ) -> Result<Vec<PendingRevocation>, StoreError> {
        let rows: Vec<(i64, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, next_attempt_at FROM pending_revocations WHERE next_attempt_at <= $1 \
             AND ($3 IS NULL OR grant_id = $3) ORDER BY next_attempt_at, id LIMIT $2")
            .bind(to_ms(now)).bind(limit).bind(grant).fetch_all(p).await)?;
        let mut claimed = Vec::new();
        for (id, seen) in rows {
            let row: Option<RevocationTuple> = with_pool!(self, p => sqlx::query_as(
                "UPDATE pending_revocations SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 \
                 RETURNING id, team_id, connection_id, provider, settings, hint, token, client_secret, attempts, give_up_at, grant_id")
                .bind(to_ms(now + lease)).bind(id).bind(seen).fetch_optional(p).await)?;
            if let Some(t) = row {
                claimed.push(PendingRevocation {
                    id: t.0,
                    team_id: TeamId::parse(&t.1).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    connection_id: t.2,
                    provider: t.3,
                    settings: t.4,
                    hint: t.5,
                    token: t.6,
                    client_secret: t.7,
                    attempts: t.8,
                    give_up_at: from_ms(t.9)?,
                    grant_id: t.10,
                });
            }
        }
        Ok(claimed)
    }

    /// Schedules the next attempt of a revocation.
    pub async fn reschedule_revocation(
        &self,
        id: i64,
        attempts: i64,
        next: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE pending_revocations SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4")
            .bind(attempts).bind(to_ms(next)).bind(error).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forgets a revocation (done or given up); the sealed token goes with it.
    pub async fn delete_revocation(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("DELETE FROM pending_revocations WHERE id = $1")
            .bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Number of revocations still owed for a connection (for tests and status).
    pub async fn pending_revocation_count(&self, connection_id: &str) -> Result<i64, StoreError> {
        let n: i64 = with_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pending_revocations WHERE connection_id = $1").bind(connection_id).fetch_one(p).await)?;
        Ok(n)
    }
}
