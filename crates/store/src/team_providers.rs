//! Team providers (`team_providers`): OAuth servers a team connected by URL. Every query is
//! scoped by team; a row holds the provider definition as JSON (no secret) and the sealed client
//! secret of its registration.

use patchbay_domain::ids::TeamId;
use time::OffsetDateTime;

use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// One team provider.
#[derive(Clone, PartialEq, Eq)]
pub struct TeamProviderRow {
    /// Provider id, unique within the team (and not a catalog id: the service checks).
    pub id: String,
    /// The provider model as JSON, without a secret.
    pub definition: String,
    /// The URL it was discovered from.
    pub source_url: String,
    /// Whether Patchbay registered its client (RFC 7591) rather than the user giving one.
    pub registered: bool,
    /// The sealed client secret, if any.
    pub client_secret: Option<Vec<u8>>,
    /// When it was (last) discovered.
    pub discovered_at: OffsetDateTime,
}

impl std::fmt::Debug for TeamProviderRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamProviderRow")
            .field("id", &self.id)
            .field("source_url", &self.source_url)
            .field("registered", &self.registered)
            .field("discovered_at", &self.discovered_at)
            .finish_non_exhaustive()
    }
}

type Tuple = (String, String, String, i64, Option<Vec<u8>>, i64);

fn row((id, definition, source_url, registered, client_secret, at): Tuple) -> Result<TeamProviderRow, StoreError> {
    Ok(TeamProviderRow {
        id,
        definition,
        source_url,
        registered: registered != 0,
        client_secret,
        discovered_at: from_ms(at)?,
    })
}

impl Store {
    /// Adds a team provider; `false` when the team already has one with this id.
    pub async fn insert_team_provider(&self, team: &TeamId, r: &TeamProviderRow) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "INSERT INTO team_providers (team_id, id, definition, source_url, registered, client_secret, discovered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (team_id, id) DO NOTHING")
            .bind(team.as_str()).bind(&r.id).bind(&r.definition).bind(&r.source_url)
            .bind(i64::from(r.registered)).bind(r.client_secret.as_deref()).bind(to_ms(r.discovered_at))
            .execute(p).await.map(|x| x.rows_affected()))?;
        Ok(done == 1)
    }

    /// Replaces a team provider's definition and discovery time (rediscovery); the client stays.
    pub async fn update_team_provider(
        &self,
        team: &TeamId,
        id: &str,
        definition: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE team_providers SET definition = $1, discovered_at = $2 WHERE team_id = $3 AND id = $4")
            .bind(definition).bind(to_ms(at)).bind(team.as_str()).bind(id)
            .execute(p).await.map(|x| x.rows_affected()))?;
        Ok(done == 1)
    }

    /// The team's providers, by id.
    pub async fn team_providers(&self, team: &TeamId) -> Result<Vec<TeamProviderRow>, StoreError> {
        let rows: Vec<Tuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, definition, source_url, registered, client_secret, discovered_at FROM team_providers \
             WHERE team_id = $1 ORDER BY id")
            .bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter().map(row).collect()
    }

    /// One of the team's providers.
    pub async fn team_provider(&self, team: &TeamId, id: &str) -> Result<Option<TeamProviderRow>, StoreError> {
        let found: Option<Tuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, definition, source_url, registered, client_secret, discovered_at FROM team_providers \
             WHERE team_id = $1 AND id = $2")
            .bind(team.as_str()).bind(id).fetch_optional(p).await)?;
        found.map(row).transpose()
    }

    /// Deletes a team provider unless a connection of the team uses it, in one statement (so a
    /// connection created meanwhile keeps it). `Ok(None)`: no such provider; `Ok(Some(false))`:
    /// in use.
    pub async fn delete_team_provider(&self, team: &TeamId, id: &str) -> Result<Option<bool>, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "DELETE FROM team_providers WHERE team_id = $1 AND id = $2 \
             AND NOT EXISTS (SELECT 1 FROM connections WHERE team_id = $1 AND provider = $2)")
            .bind(team.as_str()).bind(id).execute(p).await.map(|x| x.rows_affected()))?;
        if done == 1 {
            return Ok(Some(true));
        }
        Ok(self.team_provider(team, id).await?.map(|_| false))
    }
}
