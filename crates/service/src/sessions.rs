//! Web UI sessions: sign in with a password, resolve the session cookie to a principal, sign out.
//!
//! The session token is 256 random bits (`pbs_` + base64url) held by the browser in a cookie;
//! only its SHA-256 digest is stored (like API tokens: a high-entropy token needs no slow hash).
//! The same digest, in hex, is the session *binding* that ties an OAuth flow started from the UI
//! to the browser that started it (docs/security.md O-01, "Browser binding"): the callback
//! recomputes it from the cookie with `oauth::session_binding`.
//!
//! Expiry slides: a session lives [`SESSION_IDLE`] after its last use, and never longer than
//! [`SESSION_MAX`] after sign-in. The expiry is written at most every [`TOUCH_EVERY`] so that
//! reading a page does not cost a database write.

use patchbay_domain::SecretString;
use patchbay_domain::principal::{Actor, Principal};
use patchbay_domain::random;
use patchbay_store::WebSessionRow;
use secrecy::ExposeSecret;
use time::{Duration, OffsetDateTime};

use crate::audit::{AuditOutcome, action};
use crate::oauth::session_binding;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Prefix of session tokens, so a leaked one is recognisable in a scan.
const SESSION_PREFIX: &str = "pbs_";
/// A session ends this long after its last use.
pub const SESSION_IDLE: Duration = Duration::hours(12);
/// A session ends this long after sign-in, however active.
pub const SESSION_MAX: Duration = Duration::days(7);
/// The sliding expiry is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(5);

/// A live web session, as the UI needs it. Holds no secret: the token stays with the caller.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// Who is signed in (always an [`Actor::User`]).
    pub principal: Principal,
    /// The user's login.
    pub login: String,
    /// The anti-CSRF token to put in every form and compare on every POST.
    pub csrf_token: String,
    /// SHA-256 of the session token in lowercase hex: binds OAuth flows to this browser.
    pub binding: String,
    /// When the session ends unless used again.
    pub expires_at: OffsetDateTime,
}

/// The stored form of a session token: its SHA-256.
fn digest(token: &str) -> Vec<u8> {
    random::sha256(token.as_bytes())
}

/// 256 random bits, base64url without padding.
fn random_256() -> String {
    random::token(32)
}

/// Compares two strings in time that depends only on their lengths (for CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token for a double-submit anti-CSRF cookie (the sign-in form, which has no
/// session yet).
pub fn new_csrf_token() -> String {
    random_256()
}

fn expired() -> ServiceError {
    ServiceError::Unauthenticated("your session has ended: sign in again".into())
}

impl Patchbay {
    /// Checks a user's password and opens a web session. Returns the token for the cookie (shown
    /// to nobody else, stored only as a digest) and the session.
    pub async fn sign_in(&self, login: &str, password: &SecretString) -> ServiceResult<(SecretString, WebSession)> {
        // Refusals are not audited here: a write only for existing logins would make them
        // distinguishable by timing, which authenticate_user takes care to prevent.
        let principal = self.authenticate_user(login, password).await?;
        let Actor::User { id, login } = &principal.actor else {
            return Err(ServiceError::Internal("authenticate_user returned a non-user principal".into()));
        };
        let now = self.clock.now();
        let token = SecretString::from(format!("{SESSION_PREFIX}{}", random_256()));
        let row = WebSessionRow {
            team_id: principal.team_id.clone(),
            user_id: id.clone(),
            login: login.clone(),
            role: principal.role,
            csrf_token: random_256(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_IDLE,
        };
        self.store.create_web_session(&digest(token.expose_secret()), &row).await?;
        self.audit(&principal, action::SESSION_SIGN_IN, None, AuditOutcome::Ok, None).await?;
        // Sign-in is rare: a good moment to drop sessions nobody will use again.
        if let Err(e) = self.store.delete_expired_web_sessions(now).await {
            tracing::warn!(error = %e, "could not sweep expired web sessions");
        }
        let session = WebSession {
            login: login.clone(),
            csrf_token: row.csrf_token,
            binding: session_binding(token.expose_secret()),
            expires_at: row.expires_at,
            principal,
        };
        Ok((token, session))
    }

    /// Resolves a session token from a cookie; extends its expiry when due. Unknown, malformed
    /// and expired tokens get the same answer.
    pub async fn web_session(&self, token: &SecretString) -> ServiceResult<WebSession> {
        let text = token.expose_secret();
        if !text.starts_with(SESSION_PREFIX) || text.len() > 200 {
            return Err(expired());
        }
        let now = self.clock.now();
        let d = digest(text);
        let row = self.store.find_web_session(&d, now).await?.ok_or_else(expired)?;
        let mut expires_at = row.expires_at;
        if now - row.last_seen_at >= TOUCH_EVERY {
            expires_at = (now + SESSION_IDLE).min(row.created_at + SESSION_MAX);
            if !self.store.touch_web_session(&d, now, expires_at).await? {
                return Err(expired());
            }
        }
        Ok(WebSession {
            principal: Principal {
                team_id: row.team_id,
                role: row.role,
                actor: Actor::User { id: row.user_id, login: row.login.clone() },
                binding: None,
            },
            login: row.login,
            csrf_token: row.csrf_token,
            binding: random::hex(&d),
            expires_at,
        })
    }

    /// Ends a session. Ending an unknown or expired one is not an error (the browser forgets the
    /// cookie either way).
    pub async fn sign_out(&self, token: &SecretString) -> ServiceResult<()> {
        let session = self.web_session(token).await.ok();
        self.store.delete_web_session(&digest(token.expose_secret())).await?;
        if let Some(s) = session {
            self.audit(&s.principal, action::SESSION_SIGN_OUT, None, AuditOutcome::Ok, None).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_is_what_the_callback_recomputes() {
        // The lookup path derives the binding from the stored digest; the callback from the
        // cookie. They must agree or every UI-started consent flow would be refused.
        let token = "pbs_example";
        assert_eq!(random::hex(&digest(token)), session_binding(token));
        assert_eq!(random::hex(&digest("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }

    #[test]
    fn random_tokens_carry_256_bits() {
        let t = random_256();
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_256());
    }
}
