//! Delete receipts kept for the web UI's receipt page (migration 0009): the Delete form answers
//! with a redirect, and the page it leads to reads the receipt here. A receipt is found only
//! with the session binding and the team that kept it, and only until it expires; expired ones
//! are swept when a new one is kept.

use patchbay_domain::ids::TeamId;
use time::OffsetDateTime;

use crate::time_col::to_ms;
use crate::{Store, StoreError, with_pool};

/// A receipt to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReceipt<'a> {
    /// The session that deleted (`WebSession::binding`).
    pub session_binding: &'a str,
    /// The team of that session.
    pub team_id: &'a TeamId,
    /// The deleted connection's id.
    pub connection_id: &'a str,
    /// The receipt as JSON (metadata only).
    pub body: &'a str,
    /// When the page stops showing it.
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Keeps a receipt (replacing one kept for the same session and connection) and sweeps the
    /// expired ones.
    pub async fn keep_receipt(&self, r: &KeptReceipt<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO kept_receipts (session_binding, connection_id, team_id, body, expires_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (session_binding, connection_id) DO UPDATE SET team_id = excluded.team_id, \
             body = excluded.body, expires_at = excluded.expires_at")
            .bind(r.session_binding)
            .bind(r.connection_id)
            .bind(r.team_id.as_str())
            .bind(r.body)
            .bind(to_ms(r.expires_at))
            .execute(p)
            .await.map(|_| ()))?;
        with_pool!(self, p => sqlx::query("DELETE FROM kept_receipts WHERE expires_at <= $1")
            .bind(to_ms(now))
            .execute(p)
            .await.map(|_| ()))?;
        Ok(())
    }

    /// The body of the receipt this session of this team kept for the connection, while it has
    /// not expired at `now`.
    pub async fn kept_receipt(
        &self,
        session_binding: &str,
        team_id: &TeamId,
        connection_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT body FROM kept_receipts \
             WHERE session_binding = $1 AND team_id = $2 AND connection_id = $3 AND expires_at > $4")
            .bind(session_binding)
            .bind(team_id.as_str())
            .bind(connection_id)
            .bind(to_ms(now))
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(body,)| body))
    }
}

#[cfg(test)]
mod tests {
    use patchbay_domain::ids::TeamId;
    use time::Duration;

    use crate::tests::{now, stores};
    use crate::{KeptReceipt, Store, TeamRow};

    async fn team(store: &Store) -> TeamId {
        let id = TeamId::generate();
        let row = TeamRow { id: id.clone(), name: format!("receipts-{}", &id.as_str()[5..17]), created_at: now() };
        store.create_team(&row).await.unwrap();
        id
    }

    #[tokio::test]
    async fn a_receipt_is_read_only_by_its_session_and_team_until_it_expires() {
        for (store, _dir) in stores().await {
            let (mine, other) = (team(&store).await, team(&store).await);
            // Unique per run so a shared PostgreSQL database can be reused.
            let binding = format!("session-{}", TeamId::generate());
            let connection = format!("con-{}", TeamId::generate());
            let kept = KeptReceipt {
                session_binding: &binding,
                team_id: &mine,
                connection_id: &connection,
                body: r#"{"id": "con"}"#,
                expires_at: now() + Duration::minutes(15),
            };
            store.keep_receipt(&kept, now()).await.unwrap();
            let read = |b: &str, t: &TeamId, at| {
                let (store, b, t, c) = (store.clone(), b.to_owned(), t.clone(), connection.clone());
                async move { store.kept_receipt(&b, &t, &c, at).await.unwrap() }
            };
            assert_eq!(read(&binding, &mine, now()).await.as_deref(), Some(r#"{"id": "con"}"#));
            assert_eq!(read(&binding, &mine, now()).await.as_deref(), Some(r#"{"id": "con"}"#), "a reload reads it");
            assert_eq!(read("another-session", &mine, now()).await, None, "another browser of the team");
            assert_eq!(read(&binding, &other, now()).await, None, "another team");
            assert_eq!(read(&binding, &mine, now() + Duration::minutes(15)).await, None, "expired");

            // Keeping another one later sweeps the expired one.
            let later = now() + Duration::hours(1);
            let second = format!("con-{}", TeamId::generate());
            let fresh = KeptReceipt { connection_id: &second, expires_at: later + Duration::minutes(15), ..kept };
            store.keep_receipt(&fresh, later).await.unwrap();
            assert_eq!(read(&binding, &mine, now()).await, None, "swept");
            assert!(store.kept_receipt(&binding, &mine, &second, later).await.unwrap().is_some());
        }
    }
}
