//! Principals: API tokens and web users, and the bootstrap commands that create them.
//!
//! API tokens are 256 random bits (`pbt_` + base64url). Only their SHA-256 digest is stored and
//! looked up — a high-entropy token needs no slow hash, so `argon2` is used for human passwords
//! only. User passwords are hashed with Argon2id (parameters in docs/security.md, "API tokens and
//! passwords").

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use patchbay_domain::SecretString;
use patchbay_domain::ids::{ConnectionId, ScenarioId, TeamId, TokenId, UserId};
use patchbay_domain::principal::{Actor, Binding, Principal, Role};
use patchbay_domain::random;
use patchbay_store::{TeamRow, TokenRow, UserRow};
use secrecy::ExposeSecret;

use crate::audit::{AuditOutcome, SYSTEM_ACTOR, action};
use crate::runtime_cache::RuntimeCaller;
use crate::{Patchbay, ServiceError, ServiceResult};

const TOKEN_PREFIX: &str = "pbt_";

/// Longest `expires_in` of an API token: 400 days.
const MAX_TOKEN_LIFETIME_SECS: i64 = 400 * 86_400;

/// An API token to create, with its optional limits.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Its role.
    pub role: Role,
    /// A name to recognise it by.
    pub name: String,
    /// Scenario ids a bound runtime token may run.
    pub scenarios: Option<Vec<String>>,
    /// Connection ids a bound runtime token may use.
    pub connections: Option<Vec<String>>,
    /// Seconds until it stops authenticating (60 s to 400 days); `None`: never.
    pub expires_in: Option<i64>,
}

/// Checks an `expires_in` and turns it into a duration.
fn check_expires_in(secs: i64) -> ServiceResult<time::Duration> {
    if !(60..=MAX_TOKEN_LIFETIME_SECS).contains(&secs) {
        return Err(ServiceError::Invalid(format!(
            "expires_in is {secs} seconds: give 60 to {MAX_TOKEN_LIFETIME_SECS} (400 days), or omit it for a token that does not expire"
        )));
    }
    Ok(time::Duration::seconds(secs))
}

/// The limits of a token for the audit detail.
fn limits_text(row: &TokenRow) -> String {
    let mut parts = Vec::new();
    match &row.binding {
        None => parts.push("team_wide".to_owned()),
        Some(b) => {
            let list = |v: Vec<&str>| v.join(",");
            parts.push(format!("scenarios={}", list(b.scenarios.iter().map(|s| s.as_str()).collect())));
            parts.push(format!("connections={}", list(b.connections.iter().map(|c| c.as_str()).collect())));
        }
    }
    if let Some(at) = row.expires_at {
        parts.push(format!("expires_at={}", at.unix_timestamp()));
    }
    parts.join(" ")
}

fn digest(token: &str) -> Vec<u8> {
    random::sha256(token.as_bytes())
}

fn unknown_token() -> ServiceError {
    ServiceError::Unauthenticated("the API token is not valid: create one with `patchbay admin create-token`".into())
}

fn principal_of(row: TokenRow) -> Principal {
    Principal {
        team_id: row.team_id,
        role: row.role,
        actor: Actor::Token { id: row.id, name: row.name },
        binding: row.binding,
    }
}

fn new_token_secret() -> SecretString {
    SecretString::from(format!("{TOKEN_PREFIX}{}", random::token(32)))
}

fn validate_team_name(name: &str) -> ServiceResult<String> {
    let name = patchbay_domain::name::clean_name(name, "the team name", 100).map_err(ServiceError::Invalid)?;
    if TeamId::parse(&name).is_ok() {
        return Err(ServiceError::Invalid("a team name cannot look like a team id".into()));
    }
    Ok(name)
}

/// Validates a login and password and hashes the password with Argon2id.
fn hash_new_password(login: &str, password: &SecretString) -> ServiceResult<String> {
    if login.is_empty() || login.len() > 200 || login.chars().any(char::is_whitespace) {
        return Err(ServiceError::Invalid(
            "a login must be 1-200 characters without spaces, e.g. an email address".into(),
        ));
    }
    if password.expose_secret().chars().count() < 8 {
        return Err(ServiceError::Invalid("the password is shorter than 8 characters: choose a longer one".into()));
    }
    let hash: argon2::PasswordHash = Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
    Ok(hash.to_string())
}

impl Patchbay {
    /// Resolves a bearer token to its principal. Unknown and malformed tokens get the same answer.
    pub async fn authenticate_token(&self, presented: &SecretString) -> ServiceResult<Principal> {
        let token = presented.expose_secret();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(unknown_token());
        }
        let row = self.store.find_token(&digest(token)).await?.ok_or_else(unknown_token)?;
        let row = self.admit_token(row).await?;
        Ok(principal_of(row))
    }

    /// [`authenticate_token`](Self::authenticate_token) for the runtime endpoints, through the
    /// runtime cache: one read of the team's change generation when the token is cached and
    /// unchanged, else one read of the token with it. The generation seen is kept in the
    /// caller, and the request's cached connection reads are checked against it.
    pub async fn authenticate_runtime(&self, presented: &SecretString) -> ServiceResult<RuntimeCaller> {
        let token = presented.expose_secret();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(unknown_token());
        }
        let digest = digest(token);
        let cached = match self.cache.principal(&digest) {
            Some((row, tagged)) if self.store.team_generation(&row.team_id).await? == Some(tagged) => {
                Some((row, tagged))
            }
            _ => None,
        };
        let from_cache = cached.is_some();
        let (row, generation) = match cached {
            Some(hit) => hit,
            None => self.store.find_token_with_generation(&digest).await?.ok_or_else(unknown_token)?,
        };
        let admitted = self.admit_token(row.clone()).await?;
        if !from_cache || admitted.last_used_at != row.last_used_at {
            // The last use is not part of the generation: the cached row keeps it current.
            self.cache.put_principal(digest, admitted.clone(), generation);
        }
        Ok(RuntimeCaller { principal: principal_of(admitted), generation })
    }

    /// Refuses an expired token and records its use (at most one write a minute per token: last
    /// use is for housekeeping, not an audit trail).
    async fn admit_token(&self, mut row: TokenRow) -> ServiceResult<TokenRow> {
        let now = self.clock.now();
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::Unauthenticated(
                "the API token has expired: ask an admin for a new one (POST /v1/tokens)".into(),
            ));
        }
        if row.last_used_at.is_none_or(|at| now - at >= time::Duration::minutes(1)) {
            self.store.touch_token(&row.id, now).await?;
            row.last_used_at = Some(now);
        }
        Ok(row)
    }

    /// Checks a user's password; the same answer for an unknown login and a wrong password.
    pub async fn authenticate_user(&self, login: &str, password: &SecretString) -> ServiceResult<Principal> {
        let denied = || ServiceError::Unauthenticated("wrong login or password".into());
        let Some(user) = self.store.find_user(login.trim()).await? else {
            // Spend the same time as a real check so logins cannot be probed by timing.
            let _: Result<argon2::PasswordHash, _> = Argon2::default().hash_password(b"timing-equaliser");
            return Err(denied());
        };
        Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), user.password_hash.as_str())
            .map_err(|_| denied())?;
        Ok(Principal {
            team_id: user.team_id,
            role: user.role,
            actor: Actor::User { id: user.id, login: user.login },
            binding: None,
        })
    }

    /// Creates a team and returns it.
    pub async fn create_team(&self, name: &str) -> ServiceResult<TeamRow> {
        let row = TeamRow { id: TeamId::generate(), name: validate_team_name(name)?, created_at: self.clock.now() };
        self.store.create_team(&row).await.map_err(|e| match e {
            patchbay_store::StoreError::Conflict(_) => {
                ServiceError::Conflict(format!("a team named `{}` already exists", row.name))
            }
            e => e.into(),
        })?;
        Ok(row)
    }

    /// Every team, for the CLI's listing.
    pub async fn list_teams(&self) -> ServiceResult<Vec<TeamRow>> {
        Ok(self.store.list_teams().await?)
    }

    /// Finds a team by id or name (NFC-normalised, like names are stored).
    pub async fn find_team(&self, id_or_name: &str) -> ServiceResult<TeamRow> {
        use unicode_normalization::UnicodeNormalization;
        let key: String = id_or_name.trim().nfc().collect();
        self.store.find_team(&key).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("no team `{id_or_name}`: create it with `patchbay admin create-team`"))
        })
    }

    /// Creates an unbound API token that never expires (see [`Patchbay::create_token_with`]).
    pub async fn create_token(&self, team: &str, role: Role, name: &str) -> ServiceResult<(TokenRow, SecretString)> {
        let new = NewToken { role, name: name.to_owned(), scenarios: None, connections: None, expires_in: None };
        self.create_token_with(team, new, SYSTEM_ACTOR).await
    }

    /// Creates an API token with its limits; the secret is returned once and only its digest is
    /// stored. `actor` is the audit label of who created it.
    pub async fn create_token_with(
        &self,
        team: &str,
        new: NewToken,
        actor: &str,
    ) -> ServiceResult<(TokenRow, SecretString)> {
        let team = self.find_team(team).await?;
        let name =
            patchbay_domain::name::clean_name(&new.name, "the token name", 100).map_err(ServiceError::Invalid)?;
        let name = name.as_str();
        let binding = self.token_binding(&team.id, new.role, new.scenarios, new.connections).await?;
        let now = self.clock.now();
        let expires_at = new.expires_in.map(|secs| check_expires_in(secs).map(|d| now + d)).transpose()?;
        let secret = new_token_secret();
        let row = TokenRow {
            id: TokenId::generate(),
            team_id: team.id.clone(),
            name: name.to_owned(),
            role: new.role,
            binding,
            expires_at,
            last_used_at: None,
        };
        self.store.create_token(&row, &digest(secret.expose_secret()), now).await?;
        let detail = format!("id={} name={name} role={} {}", row.id, row.role, limits_text(&row));
        self.audit_as(&team.id, actor, action::TOKEN_CREATE, None, AuditOutcome::Ok, Some(detail.trim_end())).await?;
        Ok((row, secret))
    }

    /// Checks a token's limits against the team: only runtime tokens are bound, and every
    /// scenario and connection must exist in the team.
    async fn token_binding(
        &self,
        team: &TeamId,
        role: Role,
        scenarios: Option<Vec<String>>,
        connections: Option<Vec<String>>,
    ) -> ServiceResult<Option<Binding>> {
        if scenarios.is_none() && connections.is_none() {
            return Ok(None);
        }
        if role != Role::Runtime {
            return Err(ServiceError::Invalid(format!(
                "only runtime tokens can be bound to scenarios or connections; a `{role}` token acts for the whole team"
            )));
        }
        let mut binding = Binding::default();
        for id in scenarios.unwrap_or_default() {
            let sid = ScenarioId::parse(&id).map_err(|e| ServiceError::Invalid(e.to_string()))?;
            if self.store.get_scenario(team, &sid).await?.is_none() {
                return Err(ServiceError::Invalid(format!(
                    "no scenario `{id}` in your team: list them with GET /v1/scenarios"
                )));
            }
            binding.scenarios.push(sid);
        }
        for id in connections.unwrap_or_default() {
            let cid = ConnectionId::parse(&id).map_err(|e| ServiceError::Invalid(e.to_string()))?;
            if self.store.get_connection(team, &cid).await?.is_none() {
                return Err(ServiceError::Invalid(format!(
                    "no connection `{id}` in your team: list them with GET /v1/connections"
                )));
            }
            binding.connections.push(cid);
        }
        if binding.scenarios.is_empty() && binding.connections.is_empty() {
            return Err(ServiceError::Invalid(
                "a bound token needs at least one scenario or connection; omit both for a team-wide token".into(),
            ));
        }
        Ok(Some(binding))
    }

    /// The team's API tokens (ids, names, roles, creation times — never a secret).
    pub async fn list_tokens(&self, team: &str) -> ServiceResult<Vec<(TokenRow, time::OffsetDateTime)>> {
        let team = self.find_team(team).await?;
        Ok(self.store.list_tokens(&team.id).await?)
    }

    /// Revokes an API token: it stops authenticating at once.
    pub async fn revoke_token(&self, team: &str, token_id: &str) -> ServiceResult<()> {
        self.revoke_token_as(team, token_id, SYSTEM_ACTOR).await
    }

    /// [`Patchbay::revoke_token`] audited as `actor`.
    pub(crate) async fn revoke_token_as(&self, team: &str, token_id: &str, actor: &str) -> ServiceResult<()> {
        let team = self.find_team(team).await?;
        let missing = || ServiceError::NotFound(format!("no token `{token_id}` in your team"));
        let id = TokenId::parse(token_id).map_err(|_| missing())?;
        if !self.store.delete_token(&team.id, &id).await? {
            return Err(missing());
        }
        self.audit_as(&team.id, actor, action::TOKEN_REVOKE, None, AuditOutcome::Ok, Some(id.as_str())).await
    }

    /// Creates a web UI user with an Argon2id password hash.
    pub async fn create_user(
        &self,
        team: &str,
        login: &str,
        password: &SecretString,
        role: Role,
    ) -> ServiceResult<UserRow> {
        let team = self.find_team(team).await?;
        let login = login.trim();
        let hash = hash_new_password(login, password)?;
        let row =
            UserRow { id: UserId::generate(), team_id: team.id, login: login.to_owned(), password_hash: hash, role };
        self.store.create_user(&row, self.clock.now()).await.map_err(|e| match e {
            patchbay_store::StoreError::Conflict(_) => {
                ServiceError::Conflict(format!("a user with login `{login}` already exists"))
            }
            e => e.into(),
        })?;
        Ok(row)
    }

    /// Creates the user, or resets the password and role of an existing one in the same team
    /// (the demo's fixed user).
    pub async fn set_user(&self, team: &str, login: &str, password: &SecretString, role: Role) -> ServiceResult<()> {
        let team_row = self.find_team(team).await?;
        let hash = hash_new_password(login.trim(), password)?;
        if self.store.update_user_password(&team_row.id, login.trim(), &hash, role).await? {
            return Ok(());
        }
        self.create_user(team, login, password, role).await.map(|_| ())
    }
}
