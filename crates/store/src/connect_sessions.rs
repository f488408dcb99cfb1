//! Connect sessions (migration 0011): what one hosted "Add connection" page of a platform's end
//! user may do. The session token is stored only as its SHA-256 digest; a row is found by that
//! digest (the hosted page) or by its id within its team. Lists are stored as JSON arrays.

use patchbay_domain::end_user::EndUser;
use patchbay_domain::ids::TeamId;
use time::OffsetDateTime;

use crate::time_col::{from_ms, from_ms_opt, to_ms};
use crate::{Store, StoreError, with_pool};

/// A session the expiry sweep found: ran out unused, its expiry not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredConnectSession {
    /// Id (`cs_…`).
    pub id: String,
    /// Its team.
    pub team_id: TeamId,
    /// The platform's id for the end user.
    pub end_user_id: String,
    /// Whether its page was ever opened.
    pub opened: bool,
}

/// A connect session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectSessionRow {
    /// Id (`cs_…`).
    pub id: String,
    /// The platform's team: every connection the session makes is the team's.
    pub team_id: TeamId,
    /// SHA-256 of the session token.
    pub token_digest: Vec<u8>,
    /// Whom the connection is for.
    pub end_user: EndUser,
    /// Providers the page offers (empty: every interactive one).
    pub allowed_providers: Vec<String>,
    /// Modules the connection is for (`provider.module`).
    pub modules: Vec<String>,
    /// Extra scopes to ask for.
    pub scopes: Vec<String>,
    /// The connection a reconnect session reauthorizes (same id).
    pub connection_id: Option<String>,
    /// Where the page sends the browser at the end.
    pub return_url: Option<String>,
    /// Origins a `postMessage` of the result may go to.
    pub allowed_origins: Vec<String>,
    /// Actor label of whoever created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When the token and the page stop working.
    pub expires_at: OffsetDateTime,
    /// SHA-256 of the page's cookie secret, once the token was exchanged for it.
    pub cookie_digest: Option<Vec<u8>>,
    /// The page's anti-CSRF token (not a secret on its own: it is checked with the cookie).
    pub csrf_token: Option<String>,
    /// When the token was exchanged for the page's cookie.
    pub opened_at: Option<OffsetDateTime>,
    /// When the session's one connection was granted.
    pub completed_at: Option<OffsetDateTime>,
    /// The session's one connection (made or reconnected), recorded at the first save.
    pub connection_made: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    team_id: String,
    token_digest: Vec<u8>,
    end_user_id: String,
    end_user_name: Option<String>,
    allowed_providers: String,
    modules: String,
    scopes: String,
    connection_id: Option<String>,
    return_url: Option<String>,
    allowed_origins: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    cookie_digest: Option<Vec<u8>>,
    csrf_token: Option<String>,
    opened_at: Option<i64>,
    completed_at: Option<i64>,
    connection_made: Option<String>,
}

const COLUMNS: &str = "id, team_id, token_digest, end_user_id, end_user_name, allowed_providers, modules, scopes, \
     connection_id, return_url, allowed_origins, created_by, created_at, expires_at, cookie_digest, csrf_token, \
     opened_at, completed_at, connection_made";

fn list_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a string list always serializes")
}

impl TryFrom<Row> for ConnectSessionRow {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let list = |what: &str, text: &str| {
            serde_json::from_str::<Vec<String>>(text)
                .map_err(|e| StoreError::Corrupt(format!("connect session {}: {what}: {e}", r.id)))
        };
        Ok(ConnectSessionRow {
            team_id: TeamId::parse(&r.team_id)
                .map_err(|e| StoreError::Corrupt(format!("connect session {}: team: {e}", r.id)))?,
            allowed_providers: list("allowed_providers", &r.allowed_providers)?,
            modules: list("modules", &r.modules)?,
            scopes: list("scopes", &r.scopes)?,
            allowed_origins: list("allowed_origins", &r.allowed_origins)?,
            created_at: from_ms(r.created_at)?,
            expires_at: from_ms(r.expires_at)?,
            opened_at: from_ms_opt(r.opened_at)?,
            completed_at: from_ms_opt(r.completed_at)?,
            end_user: EndUser { id: r.end_user_id, display_name: r.end_user_name },
            id: r.id,
            token_digest: r.token_digest,
            connection_id: r.connection_id,
            return_url: r.return_url,
            created_by: r.created_by,
            cookie_digest: r.cookie_digest,
            csrf_token: r.csrf_token,
            connection_made: r.connection_made,
        })
    }
}

impl Store {
    /// Stores a new connect session.
    pub async fn insert_connect_session(&self, s: &ConnectSessionRow) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO connect_sessions ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)")))
            .bind(&s.id)
            .bind(s.team_id.as_str())
            .bind(&s.token_digest)
            .bind(&s.end_user.id)
            .bind(&s.end_user.display_name)
            .bind(list_json(&s.allowed_providers))
            .bind(list_json(&s.modules))
            .bind(list_json(&s.scopes))
            .bind(&s.connection_id)
            .bind(&s.return_url)
            .bind(list_json(&s.allowed_origins))
            .bind(&s.created_by)
            .bind(to_ms(s.created_at))
            .bind(to_ms(s.expires_at))
            .bind(&s.cookie_digest)
            .bind(&s.csrf_token)
            .bind(s.opened_at.map(to_ms))
            .bind(s.completed_at.map(to_ms))
            .bind(&s.connection_made)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The session whose token has this digest (any team: the token is the credential).
    pub async fn connect_session_by_digest(&self, digest: &[u8]) -> Result<Option<ConnectSessionRow>, StoreError> {
        let row: Option<Row> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connect_sessions WHERE token_digest = $1")))
            .bind(digest)
            .fetch_optional(p)
            .await)?;
        row.map(ConnectSessionRow::try_from).transpose()
    }

    /// The session whose page cookie has this digest.
    pub async fn connect_session_by_cookie(&self, digest: &[u8]) -> Result<Option<ConnectSessionRow>, StoreError> {
        let row: Option<Row> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connect_sessions WHERE cookie_digest = $1")))
            .bind(digest)
            .fetch_optional(p)
            .await)?;
        row.map(ConnectSessionRow::try_from).transpose()
    }

    /// Exchanges the token for the page's cookie: once, before the session expires and while it
    /// is not completed. `Ok(false)`: it was opened already, expired or completed.
    pub async fn open_connect_session(
        &self,
        id: &str,
        cookie_digest: &[u8],
        csrf_token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connect_sessions SET cookie_digest = $2, csrf_token = $3, opened_at = $4 \
             WHERE id = $1 AND opened_at IS NULL AND completed_at IS NULL AND expires_at > $4")
            .bind(id).bind(cookie_digest).bind(csrf_token).bind(to_ms(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records the session's one connection at its first save. `Ok(false)`: the session already
    /// has another connection, or is completed.
    pub async fn claim_connect_connection(&self, id: &str, connection: &str) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connect_sessions SET connection_made = $2 WHERE id = $1 AND completed_at IS NULL \
             AND (connection_made IS NULL OR connection_made = $2)")
            .bind(id).bind(connection)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks the session completed with its connection. `Ok(false)`: completed already, or
    /// `connection` is not the session's.
    pub async fn complete_connect_session(
        &self,
        id: &str,
        connection: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connect_sessions SET completed_at = $3 WHERE id = $1 AND connection_made = $2 AND completed_at IS NULL")
            .bind(id).bind(connection).bind(to_ms(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The id of the team's not yet completed session whose connection is `connection` (the
    /// newest, should there be several).
    pub async fn connect_session_in_progress(
        &self,
        team: &TeamId,
        connection: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id FROM connect_sessions WHERE team_id = $1 AND connection_made = $2 AND completed_at IS NULL \
             ORDER BY created_at DESC, id LIMIT 1")
            .bind(team.as_str()).bind(connection).fetch_optional(p).await)?;
        Ok(row.map(|(id,)| id))
    }

    /// Sessions that ran out before `now` without a connection granted, whose expiry is not
    /// recorded yet and whose connection has no consent flow still running (a consent begun in
    /// time may still land), oldest first.
    pub async fn unrecorded_connect_session_expiries(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<ExpiredConnectSession>, StoreError> {
        let rows: Vec<(String, String, String, Option<i64>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT s.id, s.team_id, s.end_user_id, s.opened_at FROM connect_sessions s \
             WHERE s.completed_at IS NULL AND s.expired_at IS NULL AND s.expires_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM oauth_flows f WHERE f.connection_id = s.connection_made AND f.expires_at > $1) \
             ORDER BY s.expires_at, s.id LIMIT $2")
            .bind(to_ms(now)).bind(limit).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, team, end_user_id, opened_at)| {
                let team_id =
                    TeamId::parse(&team).map_err(|e| StoreError::Corrupt(format!("connect session {id}: {e}")))?;
                Ok(ExpiredConnectSession { id, team_id, end_user_id, opened: opened_at.is_some() })
            })
            .collect()
    }

    /// Records that the session expired unused. `Ok(false)`: another node recorded it first, or
    /// it was completed meanwhile.
    pub async fn record_connect_session_expiry(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE connect_sessions SET expired_at = $2 WHERE id = $1 AND expired_at IS NULL AND completed_at IS NULL")
            .bind(id).bind(to_ms(at))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Takes a recorded expiry back (its audit record could not be written), so that the next
    /// sweep records it again rather than leaving an expiry without a record.
    pub async fn unrecord_connect_session_expiry(&self, id: &str) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("UPDATE connect_sessions SET expired_at = NULL WHERE id = $1")
            .bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// One session of the team; `None` when missing or another team's.
    pub async fn get_connect_session(&self, team: &TeamId, id: &str) -> Result<Option<ConnectSessionRow>, StoreError> {
        let row: Option<Row> = with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connect_sessions WHERE team_id = $1 AND id = $2")))
            .bind(team.as_str())
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(ConnectSessionRow::try_from).transpose()
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::random;

    use crate::tests::{connect_session, stores, team};

    #[tokio::test]
    async fn a_session_is_found_by_its_digest_or_by_id_in_its_team_only() {
        for (store, _dir) in stores().await {
            let (mine, other) = (team(&store, "cs-mine").await, team(&store, "cs-other").await);
            let row = connect_session(&mine);
            store.insert_connect_session(&row).await.unwrap();
            assert_eq!(store.connect_session_by_digest(&row.token_digest).await.unwrap().as_ref(), Some(&row));
            assert_eq!(store.connect_session_by_digest(&random::sha256(b"other")).await.unwrap(), None);
            assert_eq!(store.get_connect_session(&mine, &row.id).await.unwrap().as_ref(), Some(&row));
            assert_eq!(store.get_connect_session(&other, &row.id).await.unwrap(), None, "another team's");

            // The token opens the page once; the session holds one connection, completed once.
            let cookie = patchbay_domain::random::sha256(row.id.as_bytes());
            let later = row.created_at + time::Duration::minutes(1);
            assert!(store.open_connect_session(&row.id, &cookie, "csrf", later).await.unwrap());
            assert!(!store.open_connect_session(&row.id, &cookie, "csrf", later).await.unwrap(), "opened once");
            let opened = store.connect_session_by_cookie(&cookie).await.unwrap().expect("found by its cookie");
            assert_eq!((opened.csrf_token.as_deref(), opened.opened_at), (Some("csrf"), Some(later)));
            assert!(store.claim_connect_connection(&row.id, "con_a").await.unwrap());
            assert!(store.claim_connect_connection(&row.id, "con_a").await.unwrap(), "the same one again");
            assert!(!store.claim_connect_connection(&row.id, "con_b").await.unwrap(), "one connection per session");
            assert!(!store.complete_connect_session(&row.id, "con_b", later).await.unwrap());
            assert!(store.complete_connect_session(&row.id, "con_a", later).await.unwrap());
            assert!(!store.complete_connect_session(&row.id, "con_a", later).await.unwrap(), "completed once");
            assert!(!store.claim_connect_connection(&row.id, "con_a").await.unwrap(), "a completed session is used");

            let late = connect_session(&mine);
            let expired = late.expires_at;
            store.insert_connect_session(&late).await.unwrap();
            assert!(!store.open_connect_session(&late.id, b"x", "c", expired).await.unwrap(), "expired");
        }
    }

    #[tokio::test]
    async fn each_unused_expiry_is_found_until_recorded_and_recorded_once() {
        for (store, _dir) in stores().await {
            let t = team(&store, "cs-expiry").await;
            let (unused, completed) = (connect_session(&t), connect_session(&t));
            for s in [&unused, &completed] {
                store.insert_connect_session(s).await.unwrap();
            }
            store.claim_connect_connection(&completed.id, "con_a").await.unwrap();
            store.complete_connect_session(&completed.id, "con_a", completed.created_at).await.unwrap();
            // Other tests (and earlier runs) share the PostgreSQL database: look at this team's only.
            let expiries = |now| {
                let (store, t) = (&store, &t);
                async move {
                    let all = store.unrecorded_connect_session_expiries(now, 100_000).await.unwrap();
                    all.into_iter().filter(|e| e.team_id == *t).collect::<Vec<_>>()
                }
            };
            let after = unused.expires_at + time::Duration::seconds(1);
            assert!(expiries(unused.expires_at - time::Duration::seconds(1)).await.is_empty(), "nothing has run out");
            let found = expiries(after).await;
            let ids: Vec<&str> = found.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, [unused.id.as_str()], "the unused one only");
            assert_eq!((found[0].end_user_id.as_str(), found[0].opened), ("user-42", false));

            assert!(store.record_connect_session_expiry(&unused.id, after).await.unwrap());
            assert!(!store.record_connect_session_expiry(&unused.id, after).await.unwrap(), "recorded once");
            assert!(!store.record_connect_session_expiry(&completed.id, after).await.unwrap(), "a completed one never");
            assert!(expiries(after).await.is_empty(), "a recorded expiry is not found again");
            store.unrecord_connect_session_expiry(&unused.id).await.unwrap();
            assert_eq!(expiries(after).await.len(), 1, "taken back: found again");
        }
    }
}
