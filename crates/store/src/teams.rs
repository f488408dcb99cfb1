//! Teams, users and API tokens. Tokens are stored only as a SHA-256 digest of the secret; the
//! lookup is by digest, so a token is checked in microseconds without storing it.

use patchbay_domain::ids::{TeamId, TokenId, UserId};
use patchbay_domain::principal::Role;
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::{from_ms, to_ms};
use crate::{Store, StoreError, with_pool};

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow {
    /// Id.
    pub id: TeamId,
    /// Unique name.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// An API token's stored record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Id.
    pub id: TokenId,
    /// Team.
    pub team_id: TeamId,
    /// Human name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// A web UI user.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: UserId,
    /// Team.
    pub team_id: TeamId,
    /// Login (email).
    pub login: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
}

fn parse_team(id: String) -> Result<TeamId, StoreError> {
    TeamId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_role(role: &str) -> Result<Role, StoreError> {
    role.parse().map_err(StoreError::Corrupt)
}

impl Store {
    /// Creates a team; its name must be unique.
    pub async fn create_team(&self, team: &TeamRow) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(team.id.as_str())
            .bind(&team.name)
            .bind(to_ms(team.created_at))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a team with this name"))?;
        Ok(())
    }

    /// Finds a team by id or by name.
    pub async fn find_team(&self, id_or_name: &str) -> Result<Option<TeamRow>, StoreError> {
        let row: Option<(String, String, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, name, created_at FROM teams WHERE id = $1 OR name = $1")
            .bind(id_or_name)
            .fetch_optional(p)
            .await)?;
        row.map(|(id, name, at)| Ok(TeamRow { id: parse_team(id)?, name, created_at: from_ms(at)? })).transpose()
    }

    /// Every team (for the CLI and key rotation).
    pub async fn list_teams(&self) -> Result<Vec<TeamRow>, StoreError> {
        let rows: Vec<(String, String, i64)> = with_pool!(self, p => sqlx::query_as("SELECT id, name, created_at FROM teams ORDER BY name").fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, name, at)| Ok(TeamRow { id: parse_team(id)?, name, created_at: from_ms(at)? }))
            .collect()
    }

    /// Stores an API token record under the digest of its secret.
    pub async fn create_token(&self, token: &TokenRow, digest: &[u8], now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO api_tokens (id, team_id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token.id.as_str())
            .bind(token.team_id.as_str())
            .bind(&token.name)
            .bind(token.role.as_str())
            .bind(digest)
            .bind(to_ms(now))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a token with this digest"))?;
        Ok(())
    }

    /// Looks a token up by the digest of the presented secret.
    pub async fn find_token(&self, digest: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<(String, String, String, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, team_id, name, role FROM api_tokens WHERE token_hash = $1")
            .bind(digest)
            .fetch_optional(p)
            .await)?;
        row.map(|(id, team, name, role)| {
            Ok(TokenRow {
                id: TokenId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                team_id: parse_team(team)?,
                name,
                role: parse_role(&role)?,
            })
        })
        .transpose()
    }

    /// [`find_token`](Self::find_token) with its team's change generation, read in the same
    /// statement (one snapshot): the runtime cache tags the principal with it.
    pub async fn find_token_with_generation(&self, digest: &[u8]) -> Result<Option<(TokenRow, i64)>, StoreError> {
        let row: Option<(String, String, String, String, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT t.id, t.team_id, t.name, t.role, m.change_generation FROM api_tokens t \
             JOIN teams m ON m.id = t.team_id WHERE t.token_hash = $1")
            .bind(digest)
            .fetch_optional(p)
            .await)?;
        row.map(|(id, team, name, role, generation)| {
            let token = TokenRow {
                id: TokenId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                team_id: parse_team(team)?,
                name,
                role: parse_role(&role)?,
            };
            Ok((token, generation))
        })
        .transpose()
    }

    /// The team's change generation: bumped by the database itself (triggers of migration 0006)
    /// on every write to its API tokens, connections (not the scheduler's bookkeeping) and
    /// secret fields. `None` for an unknown team.
    pub async fn team_generation(&self, team: &TeamId) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT change_generation FROM teams WHERE id = $1")
            .bind(team.as_str())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(g,)| g))
    }

    /// The team's API tokens (records only), oldest first.
    pub async fn list_tokens(&self, team: &TeamId) -> Result<Vec<(TokenRow, OffsetDateTime)>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, team_id, name, role, created_at FROM api_tokens WHERE team_id = $1 ORDER BY created_at, id")
            .bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(id, team, name, role, created)| {
                let row = TokenRow {
                    id: TokenId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    team_id: parse_team(team)?,
                    name,
                    role: parse_role(&role)?,
                };
                Ok((row, from_ms(created)?))
            })
            .collect()
    }

    /// Deletes an API token of the team; it stops working at once. `Ok(false)`: no such token.
    pub async fn delete_token(&self, team: &TeamId, id: &TokenId) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query("DELETE FROM api_tokens WHERE team_id = $1 AND id = $2")
            .bind(team.as_str()).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Creates a web UI user; the login must be unique.
    pub async fn create_user(&self, user: &UserRow, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO users (id, team_id, login, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user.id.as_str())
            .bind(user.team_id.as_str())
            .bind(&user.login)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(to_ms(now))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a user with this login"))?;
        Ok(())
    }

    /// Sets the password hash and role of an existing user of the team. `Ok(false)`: no such user.
    pub async fn update_user_password(
        &self,
        team: &TeamId,
        login: &str,
        hash: &str,
        role: Role,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, p => sqlx::query(
            "UPDATE users SET password_hash = $1, role = $2 WHERE team_id = $3 AND login = $4")
            .bind(hash).bind(role.as_str()).bind(team.as_str()).bind(login)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Finds a user by login.
    pub async fn find_user(&self, login: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<(String, String, String, String, String)> = with_pool!(self, p => sqlx::query_as(
            "SELECT id, team_id, login, password_hash, role FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(p)
            .await)?;
        row.map(|(id, team, login, password_hash, role)| {
            Ok(UserRow {
                id: UserId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                team_id: parse_team(team)?,
                login,
                password_hash,
                role: parse_role(&role)?,
            })
        })
        .transpose()
    }
}
