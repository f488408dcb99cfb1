//! Web UI sessions. A session is looked up by the SHA-256 digest of the cookie's token, never by
//! the token itself, so the table holds nothing that signs a browser in.
//!
//! Authority comes from the `users` row at every lookup (joined, not copied): a session of a
//! removed user stops working, and a changed role applies at the next request. The login and role
//! written at sign-in stay in the row for the record.

use patchbay_domain::ids::{TeamId, UserId};
use patchbay_domain::principal::Role;
use time::OffsetDateTime;

use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// A web session as stored (without its token, which is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSessionRow {
    /// The user's team.
    pub team_id: TeamId,
    /// The signed-in user.
    pub user_id: UserId,
    /// The user's login.
    pub login: String,
    /// The user's role (current, from the users table, on lookup).
    pub role: Role,
    /// The anti-CSRF token echoed in every form of this session.
    pub csrf_token: String,
    /// Sign-in time.
    pub created_at: OffsetDateTime,
    /// Last time the expiry was extended.
    pub last_seen_at: OffsetDateTime,
    /// When the session ends unless extended.
    pub expires_at: OffsetDateTime,
}

type SessionTuple = (String, String, String, String, String, i64, i64, i64);

fn from_tuple(t: SessionTuple) -> Result<WebSessionRow, StoreError> {
    let (team, user, login, role, csrf_token, created, seen, expires) = t;
    Ok(WebSessionRow {
        team_id: TeamId::parse(&team).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        user_id: UserId::parse(&user).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        login,
        role: role.parse().map_err(StoreError::Corrupt)?,
        csrf_token,
        created_at: from_ms(created)?,
        last_seen_at: from_ms(seen)?,
        expires_at: from_ms(expires)?,
    })
}

impl Store {
    /// Stores a new session under the digest of its token.
    pub async fn create_web_session(&self, digest: &[u8], session: &WebSessionRow) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO web_sessions (token_hash, team_id, user_id, login, role, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(digest)
            .bind(session.team_id.as_str())
            .bind(session.user_id.as_str())
            .bind(&session.login)
            .bind(session.role.as_str())
            .bind(&session.csrf_token)
            .bind(to_ms(session.created_at))
            .bind(to_ms(session.last_seen_at))
            .bind(to_ms(session.expires_at))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| crate::error::conflict_or(e, "a session with this digest"))?;
        Ok(())
    }

    /// The live session with this digest at `now`, with the user's current login, team and role;
    /// `None` when unknown, expired, or its user no longer exists.
    pub async fn find_web_session(
        &self,
        digest: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<WebSessionRow>, StoreError> {
        let row: Option<SessionTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT u.team_id, u.id, u.login, u.role, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
             FROM web_sessions s JOIN users u ON u.id = s.user_id AND u.team_id = s.team_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2")
            .bind(digest)
            .bind(to_ms(now))
            .fetch_optional(p)
            .await)?;
        row.map(from_tuple).transpose()
    }

    /// Moves a session's expiry (sliding expiry); `false` when it no longer exists.
    pub async fn touch_web_session(
        &self,
        digest: &[u8],
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
            .bind(digest)
            .bind(to_ms(now))
            .bind(to_ms(expires_at))
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Ends a session (sign out); `false` when it did not exist.
    pub async fn delete_web_session(&self, digest: &[u8]) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(digest)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_web_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let n = with_pool!(self, p => sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(to_ms(now))
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::ids::{TeamId, UserId};
    use patchbay_domain::principal::Role;
    use time::Duration;

    use crate::tests::{now, stores};
    use crate::{Store, TeamRow, UserRow, WebSessionRow};

    async fn user(store: &Store, role: Role) -> UserRow {
        let team = TeamId::generate();
        store
            .create_team(&TeamRow {
                id: team.clone(),
                name: format!("sessions-{}", &team.as_str()[5..17]),
                created_at: now(),
            })
            .await
            .unwrap();
        let id = UserId::generate();
        let row = UserRow {
            login: format!("{}@example.test", &id.as_str()[5..17]),
            id,
            team_id: team,
            password_hash: "$argon2id$unused".into(),
            role,
        };
        store.create_user(&row, now()).await.unwrap();
        row
    }

    fn digest(tag: &str) -> Vec<u8> {
        // Unique per run so a shared PostgreSQL database can be reused.
        format!("{tag}-{}", UserId::generate()).into_bytes()
    }

    #[tokio::test]
    async fn sessions_are_found_by_digest_until_they_expire() {
        for (store, _dir) in stores().await {
            let u = user(&store, Role::Member).await;
            let d = digest("live");
            let row = WebSessionRow {
                team_id: u.team_id.clone(),
                user_id: u.id.clone(),
                login: u.login.clone(),
                role: u.role,
                csrf_token: "csrf-1".into(),
                created_at: now(),
                last_seen_at: now(),
                expires_at: now() + Duration::hours(12),
            };
            store.create_web_session(&d, &row).await.unwrap();
            let found = store.find_web_session(&d, now()).await.unwrap().unwrap();
            assert_eq!(found, row);
            assert!(store.find_web_session(b"other", now()).await.unwrap().is_none());
            // Expired at exactly expires_at.
            let later = now() + Duration::hours(12);
            assert!(store.find_web_session(&d, later).await.unwrap().is_none());
            // Sliding: extended sessions live on.
            assert!(store.touch_web_session(&d, now() + Duration::hours(1), later + Duration::hours(1)).await.unwrap());
            let found = store.find_web_session(&d, later).await.unwrap().unwrap();
            assert_eq!(found.last_seen_at, now() + Duration::hours(1));
            assert!(store.delete_web_session(&d).await.unwrap());
            assert!(!store.delete_web_session(&d).await.unwrap());
            assert!(store.find_web_session(&d, now()).await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn expired_sessions_are_swept() {
        for (store, _dir) in stores().await {
            let u = user(&store, Role::Viewer).await;
            let old = digest("old");
            let fresh = digest("fresh");
            for (d, expires) in [(&old, now()), (&fresh, now() + Duration::hours(1))] {
                let row = WebSessionRow {
                    team_id: u.team_id.clone(),
                    user_id: u.id.clone(),
                    login: u.login.clone(),
                    role: u.role,
                    csrf_token: "c".into(),
                    created_at: now() - Duration::hours(12),
                    last_seen_at: now() - Duration::hours(12),
                    expires_at: expires,
                };
                store.create_web_session(d, &row).await.unwrap();
            }
            assert!(store.delete_expired_web_sessions(now()).await.unwrap() >= 1);
            assert!(store.find_web_session(&old, now() - Duration::hours(1)).await.unwrap().is_none());
            assert!(store.find_web_session(&fresh, now()).await.unwrap().is_some());
        }
    }
}
