//! Key material as opaque bytes: master-key check values and wrapped per-team data keys. The
//! store never sees a plaintext key; wrapping and checking are the vault's job.

use patchbay_domain::ids::TeamId;
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::to_ms;
use crate::{Store, StoreError, with_pool};

/// A wrapped data key of a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamKeyRow {
    /// Team.
    pub team_id: TeamId,
    /// Data key id within the team.
    pub key_id: u32,
    /// Master-key version that wraps it.
    pub master_version: u32,
    /// The wrapped key.
    pub wrapped: Vec<u8>,
}

type KeyTuple = (String, i64, i64, Vec<u8>);

fn key_row((team, key_id, master_version, wrapped): KeyTuple) -> Result<TeamKeyRow, StoreError> {
    Ok(TeamKeyRow {
        team_id: TeamId::parse(&team).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        key_id: u32::try_from(key_id).map_err(|_| StoreError::Corrupt(format!("key id {key_id}")))?,
        master_version: u32::try_from(master_version)
            .map_err(|_| StoreError::Corrupt(format!("master version {master_version}")))?,
        wrapped,
    })
}

impl Store {
    /// All stored master-key check values, by version.
    pub async fn key_checks(&self) -> Result<Vec<(u32, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = with_pool!(self, p => sqlx::query_as(
            "SELECT version, check_blob FROM master_key_checks ORDER BY version").fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(v, b)| (v as u32, b)).collect())
    }

    /// Records the check value of a master-key version (first start, rotation).
    pub async fn insert_key_check(&self, version: u32, blob: &[u8], now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO master_key_checks (version, check_blob, created_at) VALUES ($1, $2, $3)")
            .bind(i64::from(version))
            .bind(blob)
            .bind(to_ms(now))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a check value for this master-key version"))?;
        Ok(())
    }

    /// Forgets the check value of a retired master-key version.
    pub async fn delete_key_check(&self, version: u32) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("DELETE FROM master_key_checks WHERE version = $1")
            .bind(i64::from(version)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest data key of a team, if it has one.
    pub async fn current_team_key(&self, team: &TeamId) -> Result<Option<TeamKeyRow>, StoreError> {
        let row: Option<KeyTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, key_id, master_version, wrapped FROM team_keys WHERE team_id = $1 ORDER BY key_id DESC LIMIT 1")
            .bind(team.as_str()).fetch_optional(p).await)?;
        row.map(key_row).transpose()
    }

    /// A specific data key of a team.
    pub async fn team_key(&self, team: &TeamId, key_id: u32) -> Result<Option<TeamKeyRow>, StoreError> {
        let row: Option<KeyTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, key_id, master_version, wrapped FROM team_keys WHERE team_id = $1 AND key_id = $2")
            .bind(team.as_str()).bind(i64::from(key_id)).fetch_optional(p).await)?;
        row.map(key_row).transpose()
    }

    /// The data keys of one team, oldest first (for the rotation of its data key).
    pub async fn team_keys(&self, team: &TeamId) -> Result<Vec<TeamKeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, key_id, master_version, wrapped FROM team_keys WHERE team_id = $1 ORDER BY key_id")
            .bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter().map(key_row).collect()
    }

    /// Every wrapped data key (for rotation and status).
    pub async fn all_team_keys(&self) -> Result<Vec<TeamKeyRow>, StoreError> {
        let rows: Vec<KeyTuple> = with_pool!(self, p => sqlx::query_as(
            "SELECT team_id, key_id, master_version, wrapped FROM team_keys ORDER BY team_id, key_id").fetch_all(p).await)?;
        rows.into_iter().map(key_row).collect()
    }

    /// Stores a new data key. Fails with a conflict when another node created it first; the
    /// caller then reads the winner's key.
    pub async fn insert_team_key(&self, row: &TeamKeyRow, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO team_keys (team_id, key_id, master_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(row.team_id.as_str())
            .bind(i64::from(row.key_id))
            .bind(i64::from(row.master_version))
            .bind(&row.wrapped)
            .bind(to_ms(now))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a data key with this id"))?;
        Ok(())
    }

    /// Replaces the wrapping of a data key (rotation); the data key itself is unchanged, so
    /// no ciphertext needs rewriting. Fenced on the old master version so two rotations cannot
    /// clobber each other.
    pub async fn rewrap_team_key(&self, row: &TeamKeyRow, old_master_version: u32) -> Result<bool, StoreError> {
        let done = with_pool!(self, p => sqlx::query(
            "UPDATE team_keys SET master_version = $1, wrapped = $2 WHERE team_id = $3 AND key_id = $4 AND master_version = $5")
            .bind(i64::from(row.master_version))
            .bind(&row.wrapped)
            .bind(row.team_id.as_str())
            .bind(i64::from(row.key_id))
            .bind(i64::from(old_master_version))
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
