//! Teams, users and API tokens. Tokens are stored only as a SHA-256 digest of the secret; the
//! lookup is by digest, so a token is checked in microseconds without storing it.

use patchbay_domain::ids::{ConnectionId, ScenarioId, TeamId, TokenId, UserId};
use patchbay_domain::principal::{Binding, Role};
use time::OffsetDateTime;

use crate::error::conflict_or;
use crate::time_col::{from_ms, from_ms_opt, to_ms};
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
    /// What a bound token may use; `None`: the whole team.
    pub binding: Option<Binding>,
    /// When it stops authenticating; `None`: never.
    pub expires_at: Option<OffsetDateTime>,
    /// When it last authenticated (updated at most once a minute).
    pub last_used_at: Option<OffsetDateTime>,
}

/// The columns of a token row, in the order [`token_row`] reads them.
const TOKEN_COLUMNS: &str = "id, team_id, name, role, scenarios, connections, expires_at, last_used_at, created_at";

type TokenTuple = (String, String, String, String, Option<String>, Option<String>, Option<i64>, Option<i64>, i64);

/// A [`TokenTuple`] and its team's change generation.
type TokenTupleWithGeneration =
    (String, String, String, String, Option<String>, Option<String>, Option<i64>, Option<i64>, i64, i64);

fn token_row(t: TokenTuple) -> Result<(TokenRow, OffsetDateTime), StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("api token {}: {e}", t.0));
    let ids = |text: &Option<String>| -> Vec<String> {
        text.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect()
    };
    let scenarios = ids(&t.4)
        .iter()
        .map(|s| ScenarioId::parse(s).map_err(|e| corrupt(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let connections = ids(&t.5)
        .iter()
        .map(|s| ConnectionId::parse(s).map_err(|e| corrupt(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let binding = (t.4.is_some() || t.5.is_some()).then_some(Binding { scenarios, connections });
    let row = TokenRow {
        id: TokenId::parse(&t.0).map_err(|e| corrupt(e.to_string()))?,
        team_id: parse_team(t.1)?,
        name: t.2,
        role: parse_role(&t.3)?,
        binding,
        expires_at: from_ms_opt(t.6)?,
        last_used_at: from_ms_opt(t.7)?,
    };
    Ok((row, from_ms(t.8)?))
}

/// A space-separated id list, `None` when the token is not bound.
fn id_list<T: ToString>(binding: Option<&Binding>, pick: impl Fn(&Binding) -> &[T]) -> Option<String> {
    binding.map(|b| pick(b).iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
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
        let binding = token.binding.as_ref();
        with_pool!(self, p => sqlx::query(
            "INSERT INTO api_tokens (id, team_id, name, role, token_hash, created_at, scenarios, connections, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(token.id.as_str())
            .bind(token.team_id.as_str())
            .bind(&token.name)
            .bind(token.role.as_str())
            .bind(digest)
            .bind(to_ms(now))
            .bind(id_list(binding, |b| &b.scenarios))
            .bind(id_list(binding, |b| &b.connections))
            .bind(token.expires_at.map(to_ms))
            .execute(p)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| conflict_or(e, "a token with this digest"))?;
        Ok(())
    }

    /// Looks a token up by the digest of the presented secret.
    pub async fn find_token(&self, digest: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row: Option<TokenTuple> =
            with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(digest).fetch_optional(p).await)?;
        row.map(|t| token_row(t).map(|(r, _)| r)).transpose()
    }

    /// [`find_token`](Self::find_token) with its team's change generation, read in the same
    /// statement (one snapshot): the runtime cache tags the principal with it.
    pub async fn find_token_with_generation(&self, digest: &[u8]) -> Result<Option<(TokenRow, i64)>, StoreError> {
        let columns = TOKEN_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns}, m.change_generation FROM api_tokens t JOIN teams m ON m.id = t.team_id \
             WHERE t.token_hash = $1"
        );
        let row: Option<TokenTupleWithGeneration> =
            with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(digest).fetch_optional(p).await)?;
        row.map(|(a, b, c, d, e, f, g, h, created, generation)| {
            token_row((a, b, c, d, e, f, g, h, created)).map(|(r, _)| (r, generation))
        })
        .transpose()
    }

    /// The team's change generation: bumped by the database itself (triggers of migration 0008)
    /// on every write to its API tokens (not their last use), connections (not the scheduler's
    /// bookkeeping) and secret fields. `None` for an unknown team.
    pub async fn team_generation(&self, team: &TeamId) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = with_pool!(self, p => sqlx::query_as(
            "SELECT change_generation FROM teams WHERE id = $1")
            .bind(team.as_str())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|(g,)| g))
    }

    /// The team's API tokens (records only) with their creation times, oldest first.
    pub async fn list_tokens(&self, team: &TeamId) -> Result<Vec<(TokenRow, OffsetDateTime)>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE team_id = $1 ORDER BY created_at, id");
        let rows: Vec<TokenTuple> =
            with_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(team.as_str()).fetch_all(p).await)?;
        rows.into_iter().map(token_row).collect()
    }

    /// Records that a token authenticated at `now`.
    pub async fn touch_token(&self, id: &TokenId, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(to_ms(now)).bind(id.as_str()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
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
