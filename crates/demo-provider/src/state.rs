//! The server's memory: pending consents, codes, token families, items, knobs and the ledger,
//! and the grant logic that works on them (no HTTP here).
//!
//! Tokens descend from one consent in a *family*: the code's exchange creates it, every refresh
//! adds to it, and revoking it (code replay, refresh token reuse, revoking a refresh token) kills
//! every access and refresh token in it at once. Client-credentials tokens have no family.
//!
//! One `std::sync::Mutex` guards everything; it is never held across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde::Serialize;

use crate::crypto::{is_pkce_value, random_token, s256_challenge, secrets_equal};
use crate::knobs::{Decision, Fault, IssParam};
use crate::ledger::{Ledger, ReuseDetection, ReuseKind};
use crate::options::{DemoOptions, RotationMode, TokenEndpointAuth};
use crate::scopes::{DEFAULT_ACCOUNT, DEFAULT_SCOPE, join_scopes, parse_scope, unknown_scopes};
use crate::{ACCESS_TOKEN_PREFIX, CODE_PREFIX, REFRESH_TOKEN_PREFIX};

/// A client created by `POST /register`.
#[derive(Clone)]
pub struct RegisteredClient {
    /// The issued id (`dyn_…`).
    pub client_id: String,
    /// The issued secret.
    pub client_secret: String,
    /// `client_name` as sent.
    pub client_name: Option<String>,
    /// Its exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// `grant_types` as registered.
    pub grant_types: Vec<String>,
    /// How it authenticates (`Basic` or `Post`, never `Either`).
    pub auth: TokenEndpointAuth,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("client_name", &self.client_name)
            .field("redirect_uris", &self.redirect_uris)
            .field("grant_types", &self.grant_types)
            .field("auth", &self.auth)
            .finish()
    }
}

/// How long an authorization code and a pending consent page stay usable.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(600);

/// State shared by the HTTP handlers and the [`DemoProvider`](crate::DemoProvider) handles.
pub(crate) struct Shared {
    /// Start-up options.
    pub options: DemoOptions,
    /// `http://127.0.0.1:PORT`: base URL and RFC 9207 issuer.
    pub issuer: String,
    inner: Mutex<Inner>,
    /// Clients created by `POST /register`, by id. Its own lock, never held while taking
    /// `inner`.
    clients: Mutex<HashMap<String, RegisteredClient>>,
}

impl Shared {
    pub(crate) fn new(options: DemoOptions, issuer: String) -> Shared {
        let inner = Inner::new(&options);
        Shared { options, issuer, inner: Mutex::new(inner), clients: Mutex::new(HashMap::new()) }
    }

    /// The registered clients.
    pub(crate) fn clients(&self) -> MutexGuard<'_, HashMap<String, RegisteredClient>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the state. A panicking test thread must not poison the server for everyone else.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub(crate) fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into() }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub(crate) fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }
}

/// Tokens a grant produced.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub expires_in: u64,
}

/// A consent page that is waiting for Allow or Deny.
#[derive(Debug, Clone)]
pub(crate) struct PendingConsent {
    pub nonce: String,
    pub request: AuthorizeRequest,
    pub created: Instant,
}

/// A validated authorize request.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub scopes: Vec<String>,
}

struct CodeGrant {
    request: AuthorizeRequest,
    account: String,
    issued_at: Instant,
    used: bool,
    family: Option<u64>,
}

pub(crate) struct Family {
    pub account: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub access_tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshStatus {
    Live,
    Superseded,
    Revoked,
}

pub(crate) struct RefreshToken {
    pub family: u64,
    pub status: RefreshStatus,
    pub seq: u64,
}

pub(crate) struct AccessToken {
    pub client_id: String,
    pub account: String,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
    pub revoked: bool,
    pub family: Option<u64>,
}

/// The account and scopes behind a valid bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Bearer {
    pub account: String,
    pub scopes: Vec<String>,
    /// Whether it came from a client-credentials grant (no user behind it).
    pub service: bool,
}

/// One item of the demo API.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct Item {
    pub id: String,
    pub title: String,
    pub done: bool,
    pub created_at: String,
}

/// Everything mutable.
pub(crate) struct Inner {
    pub auto_decision: Option<Decision>,
    pub grant_only: Option<Vec<String>>,
    pub login_as: String,
    pub token_faults: VecDeque<Fault>,
    pub revoke_faults: VecDeque<u16>,
    pub identity_faults: VecDeque<Fault>,
    pub access_token_ttl: Duration,
    pub iss_param: IssParam,
    pub time_offset: Duration,
    pub pending: HashMap<String, PendingConsent>,
    pub items: HashMap<String, Vec<Item>>,
    pub next_item: u64,
    pub ledger: Ledger,
    /// `Some(message)`: `POST /register` refuses every request with it.
    pub registration_refusal: Option<String>,
    rotation: RotationMode,
    codes: HashMap<String, CodeGrant>,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) families: HashMap<u64, Family>,
    pub(crate) next_family: u64,
    pub(crate) next_seq: u64,
}

impl Inner {
    fn new(options: &DemoOptions) -> Inner {
        Inner {
            auto_decision: None,
            grant_only: None,
            login_as: DEFAULT_ACCOUNT.to_owned(),
            token_faults: VecDeque::new(),
            revoke_faults: VecDeque::new(),
            identity_faults: VecDeque::new(),
            access_token_ttl: options.access_token_ttl,
            iss_param: if options.issue_iss { IssParam::Issuer } else { IssParam::Omit },
            time_offset: Duration::ZERO,
            pending: HashMap::new(),
            items: HashMap::new(),
            next_item: 1,
            ledger: Ledger::default(),
            registration_refusal: None,
            rotation: options.refresh_rotation,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            families: HashMap::new(),
            next_family: 1,
            next_seq: 1,
        }
    }

    /// The server's clock: real time plus whatever [`advance_time`] added.
    ///
    /// [`advance_time`]: crate::DemoProvider::advance_time
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.time_offset
    }

    /// The scopes the user grants out of `requested`, after the `grant_only` knob.
    pub(crate) fn narrow(&self, requested: &[String]) -> Vec<String> {
        match &self.grant_only {
            Some(only) => requested.iter().filter(|s| only.contains(s)).cloned().collect(),
            None => requested.to_vec(),
        }
    }

    /// Stores a new pending consent and returns its id.
    pub(crate) fn add_pending(&mut self, request: AuthorizeRequest) -> (String, String) {
        let now = self.now();
        self.pending.retain(|_, p| now.duration_since(p.created) < CODE_TTL);
        let id = random_token("req_");
        let nonce = random_token("");
        self.pending.insert(id.clone(), PendingConsent { nonce: nonce.clone(), request, created: now });
        (id, nonce)
    }

    /// Removes and returns the pending consent `id` when `nonce` matches and it has not expired.
    pub(crate) fn take_pending(&mut self, id: &str, nonce: &str) -> Option<AuthorizeRequest> {
        let now = self.now();
        let pending = self.pending.get(id)?;
        if !secrets_equal(&pending.nonce, nonce) {
            return None;
        }
        let pending = self.pending.remove(id)?;
        (now.duration_since(pending.created) < CODE_TTL).then_some(pending.request)
    }

    /// Issues an authorization code for `request` with the `granted` scopes.
    pub(crate) fn issue_code(
        &mut self,
        mut request: AuthorizeRequest,
        account: String,
        granted: Vec<String>,
    ) -> String {
        let code = random_token(CODE_PREFIX);
        request.scopes = granted;
        let issued_at = self.now();
        self.codes.insert(code.clone(), CodeGrant { request, account, issued_at, used: false, family: None });
        code
    }

    /// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6).
    pub(crate) fn exchange_code(
        &mut self,
        client_id: &str,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Issued, OAuthError> {
        let code = code.ok_or_else(|| OAuthError::invalid_request("`code` is required"))?;
        let now = self.now();
        let Some(grant) = self.codes.get_mut(code) else {
            return Err(OAuthError::invalid_grant("unknown authorization code"));
        };
        if grant.used {
            // RFC 6749 §4.1.2: a replayed code revokes what it issued.
            let family = grant.family;
            let account = grant.account.clone();
            let revoked = family.map(|f| self.revoke_family(f)).unwrap_or_default();
            tracing::info!(revoked = revoked.len(), "demo provider: authorization code replayed, token family revoked");
            self.ledger.reuse_detections.push(ReuseDetection {
                kind: ReuseKind::AuthorizationCode,
                presented: code.to_owned(),
                account: Some(account),
                revoked_tokens: revoked,
            });
            return Err(OAuthError::invalid_grant("authorization code was already used"));
        }
        // Single use: the first presentation consumes the code, whatever its outcome.
        grant.used = true;
        if grant.request.client_id != client_id {
            return Err(OAuthError::invalid_grant("authorization code was issued to another client"));
        }
        if now.duration_since(grant.issued_at) >= CODE_TTL {
            return Err(OAuthError::invalid_grant("authorization code expired"));
        }
        if redirect_uri != Some(grant.request.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
        match (&grant.request.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) => {
                if !is_pkce_value(verifier) || s256_challenge(verifier) != *challenge {
                    return Err(OAuthError::invalid_grant(
                        "PKCE verification failed: code_verifier does not match code_challenge",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_grant("code_verifier is required"));
            }
            // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier sent but the authorization request had no code_challenge",
                ));
            }
            (None, None) => {}
        }
        let account = grant.account.clone();
        let scopes = grant.request.scopes.clone();
        let family = self.new_family(account, client_id.to_owned(), scopes.clone());
        if let Some(grant) = self.codes.get_mut(code) {
            grant.family = Some(family);
        }
        let access_token = self.issue_access(client_id, Some(family), scopes.clone());
        let refresh_token = self.issue_refresh(family);
        Ok(Issued {
            access_token,
            refresh_token: Some(refresh_token),
            scopes,
            expires_in: self.access_token_ttl.as_secs(),
        })
    }

    /// `grant_type=refresh_token` (RFC 6749 §6) under the configured [`RotationMode`].
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        presented: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Issued, OAuthError> {
        let presented = presented.ok_or_else(|| OAuthError::invalid_request("`refresh_token` is required"))?;
        let Some(token) = self.refresh.get(presented) else {
            return Err(OAuthError::invalid_grant("unknown refresh token"));
        };
        let (family_id, status) = (token.family, token.status);
        let family = &self.families[&family_id];
        if family.client_id != client_id {
            return Err(OAuthError::invalid_grant("refresh token was issued to another client"));
        }
        if family.revoked || status == RefreshStatus::Revoked {
            return Err(OAuthError::invalid_grant("refresh token was revoked"));
        }
        if status == RefreshStatus::Superseded {
            if self.rotation == RotationMode::RotateWithReuseDetection {
                let account = family.account.clone();
                let revoked = self.revoke_family(family_id);
                tracing::info!(
                    revoked = revoked.len(),
                    "demo provider: superseded refresh token reused, token family revoked"
                );
                self.ledger.reuse_detections.push(ReuseDetection {
                    kind: ReuseKind::RefreshToken,
                    presented: presented.to_owned(),
                    account: Some(account),
                    revoked_tokens: revoked,
                });
                return Err(OAuthError::invalid_grant("refresh token was already used; the grant is revoked"));
            }
            return Err(OAuthError::invalid_grant("refresh token was already used (rotated)"));
        }
        let scopes = match scope.map(parse_scope).filter(|s| !s.is_empty()) {
            None => family.scopes.clone(),
            Some(asked) => {
                let beyond: Vec<String> = asked.iter().filter(|s| !family.scopes.contains(s)).cloned().collect();
                if !beyond.is_empty() {
                    return Err(OAuthError::invalid_scope(format!(
                        "scope exceeds the original grant: {}",
                        beyond.join(" ")
                    )));
                }
                asked
            }
        };
        let access_token = self.issue_access(client_id, Some(family_id), scopes.clone());
        let refresh_token = match self.rotation {
            RotationMode::None => Some(presented.to_owned()),
            RotationMode::OmitOnRefresh => None,
            RotationMode::Rotate | RotationMode::RotateWithReuseDetection => {
                if let Some(old) = self.refresh.get_mut(presented) {
                    old.status = RefreshStatus::Superseded;
                }
                Some(self.issue_refresh(family_id))
            }
        };
        Ok(Issued { access_token, refresh_token, scopes, expires_in: self.access_token_ttl.as_secs() })
    }

    /// `grant_type=client_credentials` (RFC 6749 §4.4): an access token, no refresh token.
    pub(crate) fn client_credentials(&mut self, client_id: &str, scope: Option<&str>) -> Result<Issued, OAuthError> {
        let mut asked = scope.map(parse_scope).unwrap_or_default();
        if asked.is_empty() {
            asked.push(DEFAULT_SCOPE.to_owned());
        }
        let unknown = unknown_scopes(&asked);
        if !unknown.is_empty() {
            return Err(OAuthError::invalid_scope(format!("unknown scope: {}", unknown.join(" "))));
        }
        let scopes = self.narrow(&asked);
        let access_token = self.issue_access(client_id, None, scopes.clone());
        Ok(Issued { access_token, refresh_token: None, scopes, expires_in: self.access_token_ttl.as_secs() })
    }

    fn new_family(&mut self, account: String, client_id: String, scopes: Vec<String>) -> u64 {
        let id = self.next_family;
        self.next_family += 1;
        self.families.insert(
            id,
            Family {
                account,
                client_id,
                scopes,
                revoked: false,
                access_tokens: Vec::new(),
                refresh_tokens: Vec::new(),
            },
        );
        id
    }

    fn issue_access(&mut self, client_id: &str, family: Option<u64>, scopes: Vec<String>) -> String {
        let token = random_token(ACCESS_TOKEN_PREFIX);
        let account = match family {
            Some(f) => self.families[&f].account.clone(),
            None => service_account(client_id),
        };
        if let Some(f) = family.and_then(|f| self.families.get_mut(&f)) {
            f.access_tokens.push(token.clone());
        }
        let expires_at = self.now() + self.access_token_ttl;
        self.access.insert(
            token.clone(),
            AccessToken { client_id: client_id.to_owned(), account, scopes, expires_at, revoked: false, family },
        );
        token
    }

    fn issue_refresh(&mut self, family: u64) -> String {
        let token = random_token(REFRESH_TOKEN_PREFIX);
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(f) = self.families.get_mut(&family) {
            f.refresh_tokens.push(token.clone());
        }
        self.refresh.insert(token.clone(), RefreshToken { family, status: RefreshStatus::Live, seq });
        token
    }

    /// Revokes every token of the family; returns those that were still live.
    fn revoke_family(&mut self, family: u64) -> Vec<String> {
        let now = self.now();
        let Some(f) = self.families.get_mut(&family) else {
            return Vec::new();
        };
        f.revoked = true;
        let mut revoked = Vec::new();
        for token in &f.access_tokens {
            if let Some(at) = self.access.get_mut(token)
                && !at.revoked
            {
                at.revoked = true;
                if now < at.expires_at {
                    revoked.push(token.clone());
                }
            }
        }
        for token in &f.refresh_tokens {
            if let Some(rt) = self.refresh.get_mut(token)
                && rt.status != RefreshStatus::Revoked
            {
                if rt.status == RefreshStatus::Live {
                    revoked.push(token.clone());
                }
                rt.status = RefreshStatus::Revoked;
            }
        }
        revoked
    }

    /// RFC 7009 for `client_id`: a refresh token takes its whole family with it, an access token
    /// only itself. Unknown tokens and other clients' tokens are ignored (the answer is 200).
    pub(crate) fn revoke_token(&mut self, client_id: &str, token: &str) {
        if let Some(family) = self.refresh.get(token).map(|rt| rt.family) {
            if self.families[&family].client_id == client_id {
                self.revoke_family(family);
            }
        } else if let Some(at) = self.access.get_mut(token)
            && at.client_id == client_id
        {
            at.revoked = true;
        }
    }

    /// Revokes every token the server ever issued.
    pub(crate) fn revoke_all(&mut self) {
        let families: Vec<u64> = self.families.keys().copied().collect();
        for family in families {
            self.revoke_family(family);
        }
        for at in self.access.values_mut() {
            at.revoked = true;
        }
    }

    /// Makes every access token issued so far expired.
    pub(crate) fn expire_access_tokens(&mut self) {
        let now = self.now();
        for at in self.access.values_mut() {
            at.expires_at = at.expires_at.min(now);
        }
    }

    /// The account and scopes of a live access token.
    pub(crate) fn bearer(&self, token: &str) -> Option<Bearer> {
        let at = self.access.get(token)?;
        let family_ok = at.family.is_none_or(|f| self.families.get(&f).is_some_and(|f| !f.revoked));
        (family_ok && !at.revoked && self.now() < at.expires_at).then(|| Bearer {
            account: at.account.clone(),
            scopes: at.scopes.clone(),
            service: at.family.is_none(),
        })
    }

    /// The newest live refresh token of each live family of `account`, oldest family first.
    pub(crate) fn live_refresh_tokens(&self, account: &str) -> Vec<String> {
        let mut families: Vec<(&u64, &Family)> =
            self.families.iter().filter(|(_, f)| f.account == account && !f.revoked).collect();
        families.sort_by_key(|(id, _)| **id);
        families
            .into_iter()
            .filter_map(|(_, f)| {
                f.refresh_tokens
                    .iter()
                    .filter_map(|t| self.refresh.get(t).map(|rt| (t, rt)))
                    .filter(|(_, rt)| rt.status == RefreshStatus::Live)
                    .max_by_key(|(_, rt)| rt.seq)
                    .map(|(t, _)| t.clone())
            })
            .collect()
    }

    /// Whether a refresh token would be accepted: live and its family not revoked.
    pub(crate) fn is_refresh_live(&self, token: &str) -> bool {
        self.refresh.get(token).is_some_and(|rt| {
            rt.status == RefreshStatus::Live && self.families.get(&rt.family).is_some_and(|f| !f.revoked)
        })
    }

    /// The items of `account`, seeded with a few examples on first use.
    pub(crate) fn items_of(&mut self, account: &str) -> &mut Vec<Item> {
        if !self.items.contains_key(account) {
            let seeds = ["Welcome to Demo Cloud", "Connect Demo Cloud to Patchbay", "Water the plants"];
            let items = seeds
                .iter()
                .map(|title| {
                    let id = format!("itm_{}", self.next_item);
                    self.next_item += 1;
                    Item { id, title: (*title).to_owned(), done: false, created_at: now_rfc3339() }
                })
                .collect();
            self.items.insert(account.to_owned(), items);
        }
        self.items.entry(account.to_owned()).or_default()
    }
}

/// The pseudo-account behind a client-credentials token.
pub(crate) fn service_account(client_id: &str) -> String {
    format!("{client_id}@clients.democloud.test")
}

/// The current UTC time as RFC 3339.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Keeps the scope text of an issued grant in one place.
pub(crate) fn scope_text(issued: &Issued) -> String {
    join_scopes(&issued.scopes)
}
