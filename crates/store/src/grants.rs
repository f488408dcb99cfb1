//! The grant history of connections (`connection_grants`): every consent grant Patchbay held for
//! a connection and what became of it at the provider. Records only, never a token; kept after
//! the connection is deleted. Rows are written by [`Store::replace_credential`] (a new grant and
//! the one it supersedes) and updated as revocations complete.

use patchbay_domain::ids::{ConnectionId, TeamId};
use time::OffsetDateTime;

use crate::time_col::{from_ms, from_ms_opt, to_ms};
use crate::{Store, StoreError, with_pool};

/// One grant a connection held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// Row id.
    pub id: i64,
    /// When it was obtained.
    pub obtained_at: OffsetDateTime,
    /// When a newer grant (or delete) replaced it.
    pub replaced_at: Option<OffsetDateTime>,
    /// `current`, `revoked`, `pending` or `live`.
    pub state: String,
    /// What happened, in words.
    pub detail: Option<String>,
}

/// `(id, obtained_at, replaced_at, state, detail)` as read.
type GrantTuple = (i64, i64, Option<i64>, String, Option<String>);

impl Store {
    /// Every grant of a connection, oldest first.
    pub async fn list_grants(&self, team: &TeamId, connection: &ConnectionId) -> Result<Vec<GrantRow>, StoreError> {
        let rows: Vec<GrantTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, obtained_at, replaced_at, state, detail FROM connection_grants \
             WHERE team_id = $1 AND connection_id = $2 ORDER BY id")
            .bind(team.as_str()).bind(connection.as_str()).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, obtained, replaced, state, detail)| {
                Ok(GrantRow { id, obtained_at: from_ms(obtained)?, replaced_at: from_ms_opt(replaced)?, state, detail })
            })
            .collect()
    }

    /// The connection's current grant, if one is recorded.
    pub async fn current_grant(&self, team: &TeamId, connection: &ConnectionId) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, p => sqlx::query_scalar(
            "SELECT id FROM connection_grants WHERE team_id = $1 AND connection_id = $2 AND state = 'current' \
             ORDER BY id DESC LIMIT 1")
            .bind(team.as_str()).bind(connection.as_str()).fetch_optional(p).await)?)
    }

    /// Sets a grant's state and detail (and `replaced_at` when still unset).
    pub async fn set_grant_state(
        &self,
        id: i64,
        state: &str,
        detail: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE connection_grants SET state = $1, detail = $2, replaced_at = COALESCE(replaced_at, $3) WHERE id = $4")
            .bind(state).bind(detail).bind(to_ms(now)).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// After one of a grant's queued revocations completed: a `pending` grant with no other
    /// revocation queued becomes `revoked`.
    pub async fn settle_grant(&self, id: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "UPDATE connection_grants SET state = 'revoked', detail = 'revoked at the provider', \
             replaced_at = COALESCE(replaced_at, $2) WHERE id = $1 AND state = 'pending' \
             AND NOT EXISTS (SELECT 1 FROM pending_revocations WHERE grant_id = $1)")
            .bind(id).bind(to_ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
