//! Principals: API tokens and web users, and the bootstrap commands that create them.
//!
//! API tokens are 256 random bits (`pbt_` + base64url). Only their SHA-256 digest is stored and
//! looked up — a high-entropy token needs no slow hash, so `argon2` is used for human passwords
//! only. User passwords are hashed with Argon2id (parameters in docs/security.md, "API tokens and
//! passwords").

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use patchbay_domain::SecretString;
use patchbay_domain::ids::{TeamId, TokenId, UserId};
use patchbay_domain::principal::{Actor, Principal, Role};
use patchbay_domain::random;
use patchbay_store::{TeamRow, TokenRow, UserRow};
use secrecy::ExposeSecret;

use crate::audit::{SYSTEM_ACTOR, action};
use crate::runtime_cache::RuntimeCaller;
use crate::{Patchbay, ServiceError, ServiceResult};

const TOKEN_PREFIX: &str = "pbt_";

fn digest(token: &str) -> Vec<u8> {
    random::sha256(token.as_bytes())
}

fn unknown_token() -> ServiceError {
    ServiceError::Unauthenticated("the API token is not valid: create one with `patchbay admin create-token`".into())
}

fn principal_of(row: TokenRow) -> Principal {
    Principal { team_id: row.team_id, role: row.role, actor: Actor::Token { id: row.id, name: row.name } }
}

fn new_token_secret() -> SecretString {
    SecretString::from(format!("{TOKEN_PREFIX}{}", random::token(32)))
}

fn validate_team_name(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid("a team name must be 1-100 printable characters".into()));
    }
    if TeamId::parse(name).is_ok() {
        return Err(ServiceError::Invalid("a team name cannot look like a team id".into()));
    }
    Ok(name.to_owned())
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
        if let Some((row, tagged)) = self.cache.principal(&digest)
            && self.store.team_generation(&row.team_id).await? == Some(tagged)
        {
            return Ok(RuntimeCaller { principal: principal_of(row), generation: tagged });
        }
        let (row, generation) = self.store.find_token_with_generation(&digest).await?.ok_or_else(unknown_token)?;
        self.cache.put_principal(digest, row.clone(), generation);
        Ok(RuntimeCaller { principal: principal_of(row), generation })
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
        Ok(Principal { team_id: user.team_id, role: user.role, actor: Actor::User { id: user.id, login: user.login } })
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

    /// Finds a team by id or name.
    pub async fn find_team(&self, id_or_name: &str) -> ServiceResult<TeamRow> {
        self.store.find_team(id_or_name).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("no team `{id_or_name}`: create it with `patchbay admin create-team`"))
        })
    }

    /// Creates an API token; the secret is returned once and only its digest is stored.
    pub async fn create_token(&self, team: &str, role: Role, name: &str) -> ServiceResult<(TokenRow, SecretString)> {
        let team = self.find_team(team).await?;
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(ServiceError::Invalid("a token name must be 1-100 characters".into()));
        }
        let secret = new_token_secret();
        let row = TokenRow { id: TokenId::generate(), team_id: team.id.clone(), name: name.to_owned(), role };
        self.store.create_token(&row, &digest(secret.expose_secret()), self.clock.now()).await?;
        let detail = format!("name={name} role={role}");
        self.audit_as(&team.id, SYSTEM_ACTOR, action::TOKEN_CREATE, None, "ok", Some(&detail)).await?;
        Ok((row, secret))
    }

    /// The team's API tokens (ids, names, roles, creation times — never a secret).
    pub async fn list_tokens(&self, team: &str) -> ServiceResult<Vec<(TokenRow, time::OffsetDateTime)>> {
        let team = self.find_team(team).await?;
        Ok(self.store.list_tokens(&team.id).await?)
    }

    /// Revokes an API token: it stops authenticating at once.
    pub async fn revoke_token(&self, team: &str, token_id: &str) -> ServiceResult<()> {
        let team = self.find_team(team).await?;
        let id = TokenId::parse(token_id).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        if !self.store.delete_token(&team.id, &id).await? {
            return Err(ServiceError::NotFound(format!("no token `{id}` in team `{}`", team.name)));
        }
        self.audit_as(&team.id, SYSTEM_ACTOR, action::TOKEN_REVOKE, None, "ok", Some(id.as_str())).await
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
