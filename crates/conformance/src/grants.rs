//! The token bookkeeping every emulator shares: single-use authorization codes bound to their
//! redirect URI and PKCE challenge, access tokens, refresh tokens (rotating or not), and
//! revocation of one token or of its whole grant. Profiles decide the documented shapes and
//! errors; this module only answers "is this code/token good, and for what".

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use aws_lc_rs::digest;
use base64::Engine;

/// What a consent granted: carried from the authorize call to every token of the grant.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// The client the code was issued to.
    pub client_id: String,
    /// The redirect URI of the authorize call (the token call must repeat it).
    pub redirect_uri: String,
    /// Granted scopes, as requested.
    pub scopes: Vec<String>,
    /// Whether a refresh token is to be issued (`access_type=offline`, `offline_access`, …).
    pub offline: bool,
    /// The PKCE S256 challenge, when one was sent.
    pub code_challenge: Option<String>,
    /// Profile-specific facts of the consent (Slack `user_scope`, QuickBooks `realmId`).
    pub extra: BTreeMap<String, String>,
}

/// Why a code or token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, used, expired or revoked.
    Invalid,
    /// Issued to another client.
    OtherClient,
    /// The redirect URI differs from the authorize call's.
    RedirectMismatch,
    /// The PKCE verifier is missing or does not match.
    Pkce,
}

#[derive(Debug, Default)]
struct State {
    next: u64,
    codes: HashMap<String, (Grant, u64)>,
    access: HashMap<String, u64>,
    refresh: HashMap<String, u64>,
    families: HashMap<u64, Grant>,
    last_access: Option<String>,
}

/// The codes and tokens of one emulator.
#[derive(Debug, Default)]
pub struct Grants(Mutex<State>);

impl Grants {
    fn mint(state: &mut State, prefix: &str) -> String {
        state.next += 1;
        format!("{prefix}{:06}-{}", state.next, random_hex())
    }

    /// A single-use code for a new grant.
    pub fn issue_code(&self, grant: Grant) -> String {
        let mut s = self.0.lock().unwrap();
        s.next += 1;
        let family = s.next;
        let code = Self::mint(&mut s, "code-");
        s.codes.insert(code.clone(), (grant, family));
        code
    }

    /// Redeems a code (once), checking client, redirect URI and PKCE.
    pub fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<(Grant, u64), Refusal> {
        let mut s = self.0.lock().unwrap();
        // RFC 6749 §4.1.2: a code is used once; a second use is refused (whatever follows).
        let (grant, family) = s.codes.remove(code).ok_or(Refusal::Invalid)?;
        if grant.client_id != client_id {
            return Err(Refusal::OtherClient);
        }
        if redirect_uri.is_some_and(|r| r != grant.redirect_uri) {
            return Err(Refusal::RedirectMismatch);
        }
        if let Some(challenge) = &grant.code_challenge {
            let ok = verifier.is_some_and(|v| &s256(v) == challenge);
            if !ok {
                return Err(Refusal::Pkce);
            }
        }
        s.families.insert(family, grant.clone());
        Ok((grant, family))
    }

    /// A new access token of grant `family`.
    pub fn access_token(&self, family: u64, prefix: &str) -> String {
        let mut s = self.0.lock().unwrap();
        let token = Self::mint(&mut s, prefix);
        s.access.insert(token.clone(), family);
        s.last_access = Some(token.clone());
        token
    }

    /// A new refresh token of grant `family`.
    pub fn refresh_token(&self, family: u64, prefix: &str) -> String {
        let mut s = self.0.lock().unwrap();
        let token = Self::mint(&mut s, prefix);
        s.refresh.insert(token.clone(), family);
        token
    }

    /// The grant a refresh token belongs to. `single_use`: the token is spent by this use
    /// (Slack's rotation); otherwise it stays good (Google, Dropbox, Microsoft's rotation, which
    /// hands out a new one without revoking the old).
    pub fn use_refresh(&self, token: &str, client_id: &str, single_use: bool) -> Result<(Grant, u64), Refusal> {
        let mut s = self.0.lock().unwrap();
        let family = *s.refresh.get(token).ok_or(Refusal::Invalid)?;
        let grant = s.families.get(&family).cloned().ok_or(Refusal::Invalid)?;
        if grant.client_id != client_id {
            return Err(Refusal::OtherClient);
        }
        if single_use {
            s.refresh.remove(token);
        }
        Ok((grant, family))
    }

    /// The grant of a live access token.
    pub fn check_access(&self, token: &str) -> Option<Grant> {
        let s = self.0.lock().unwrap();
        let family = s.access.get(token)?;
        s.families.get(family).cloned()
    }

    /// Revokes one access or refresh token; `whole_grant` ends every token of its grant (what
    /// Google, Slack and Dropbox document). Whether it was known.
    pub fn revoke(&self, token: &str, whole_grant: bool) -> bool {
        let mut s = self.0.lock().unwrap();
        let family = s.access.remove(token).or_else(|| s.refresh.remove(token));
        let Some(family) = family else { return false };
        if whole_grant {
            s.access.retain(|_, f| *f != family);
            s.refresh.retain(|_, f| *f != family);
            s.families.remove(&family);
        }
        true
    }

    /// Whether `token` is a live refresh token (Salesforce revokes a refresh token's whole
    /// grant, an access token alone).
    pub fn is_refresh_token(&self, token: &str) -> bool {
        self.0.lock().unwrap().refresh.contains_key(token)
    }

    /// The access token minted last (the harness checks the proxy uses a refreshed one).
    pub fn last_access_token(&self) -> Option<String> {
        self.0.lock().unwrap().last_access.clone()
    }

    /// How many live refresh tokens there are.
    pub fn live_refresh_tokens(&self) -> usize {
        self.0.lock().unwrap().refresh.len()
    }

    /// How many grants hold at least one live token.
    pub fn live_grants(&self) -> usize {
        let s = self.0.lock().unwrap();
        let mut live: Vec<u64> = s.access.values().chain(s.refresh.values()).copied().collect();
        live.sort_unstable();
        live.dedup();
        live.len()
    }
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.6.
pub fn s256(verifier: &str) -> String {
    let hash = digest::digest(&digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.as_ref())
}

fn random_hex() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
