//! What the hosted page of a connect session does, for a browser without a Patchbay account:
//! exchange the session token for the page's cookie (once), show the session, save the one
//! connection (an API key or password verified first, or an OAuth consent started through the
//! usual flow, bound to the page's cookie) for the session's team with its `end_user` set, or
//! reconnect the session's connection (same id), and mark the session completed when the
//! connection is granted.
//!
//! The page acts as its own principal: the session's team, role `member`, actor
//! `connect:{end user} (cs_…)`. Everything it may do is limited here first: only the session's
//! providers, only the session's one connection, nothing after completion or expiry; the
//! use-cases below then apply their own rules. Nothing here lists or reads other connections.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_domain::end_user::EndUser;
use patchbay_domain::ids::ConnectSessionId;
use patchbay_domain::principal::{Actor, Principal, Role};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::{SecretString, random};
use patchbay_store::ConnectSessionRow;
use time::OffsetDateTime;

use crate::access::team_provider_definition;
use crate::audit::{AuditOutcome, action};
use crate::connections::{CreateConnection, UpdateCredential};
use crate::events::kind;
use crate::oauth::{CallbackOutcome, ReauthorizeRequest, session_binding};
use crate::sessions::constant_time_eq;
use crate::views::ProviderView;
use crate::{Patchbay, ServiceError, ServiceResult};

/// The path the consent flows of a session's page land on.
pub const LANDING_PATH: &str = "/connect/done";

/// What a presented session token found.
#[derive(Debug)]
pub enum Opening {
    /// Exchanged: the page's cookie secret (set it, then drop the token from the URL).
    Opened(SecretString),
    /// No session has this token.
    Unknown,
    /// The session expired.
    Expired,
    /// The session already made its connection.
    Used,
    /// The token was exchanged before (in this or another browser).
    AlreadyOpened,
}

/// Where a visit of the page stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitState {
    /// The end user may save the connection.
    Open,
    /// The session's connection was granted.
    Completed,
    /// The session expired before it was completed.
    Expired,
}

/// The hosted page's view of its session (no token, no digest).
#[derive(Debug, Clone)]
pub struct ConnectVisit {
    /// Session id.
    pub id: String,
    /// The platform's name (its team's).
    pub platform: String,
    /// Whom the connection is for.
    pub end_user: EndUser,
    /// The providers the page offers, by display name.
    pub providers: Vec<ProviderView>,
    /// A reconnect session: the connection's id and name.
    pub reconnect: Option<(String, String)>,
    /// The session's connection once saved.
    pub connection: Option<String>,
    /// The page's anti-CSRF token.
    pub csrf: String,
    /// Where it stands.
    pub state: VisitState,
    /// Where the page sends the browser at the end.
    pub return_url: Option<String>,
    /// Origins the result may be posted to.
    pub allowed_origins: Vec<String>,
    /// When it expires.
    pub expires_at: OffsetDateTime,
}

/// A save of the page's form.
#[derive(Debug, Default)]
pub struct ConnectSave {
    /// The connection's name (blank: the default name).
    pub name: Option<String>,
    /// Advanced settings.
    pub settings: BTreeMap<String, SecretString>,
    /// The API key or username and password.
    pub credentials: BTreeMap<String, SecretString>,
}

/// What a save did.
#[derive(Debug)]
pub enum Saved {
    /// The connection is granted (API key, basic): the session is completed.
    Done {
        /// The connection.
        connection: String,
    },
    /// Send the browser to the provider's consent page.
    Consent {
        /// The provider's authorize URL.
        authorize_url: String,
    },
}

impl ConnectVisit {
    /// The platform's `return_url` with the outcome appended (`connection_id` when the session
    /// has a connection, `outcome` = `connected` or the word of why not), if it gave one.
    pub fn return_link(&self, outcome: &str) -> Option<String> {
        let mut url = url::Url::parse(self.return_url.as_deref()?).ok()?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(c) = &self.connection {
                q.append_pair("connection_id", c);
            }
            q.append_pair("outcome", outcome);
        }
        Some(url.to_string())
    }
}

fn cookie_digest(cookie: &str) -> Vec<u8> {
    random::sha256(cookie.as_bytes())
}

fn principal_of(s: &ConnectSessionRow) -> ServiceResult<Principal> {
    let id = ConnectSessionId::parse(&s.id).map_err(|e| ServiceError::Internal(format!("connect session id: {e}")))?;
    Ok(Principal {
        team_id: s.team_id.clone(),
        role: Role::Member,
        actor: Actor::ConnectSession { id, end_user: s.end_user.id.clone() },
        binding: None,
    })
}

/// The session's modules of one provider (a session may name modules of several).
fn modules_of(s: &ConnectSessionRow, provider: &str) -> Vec<String> {
    let prefix = format!("{provider}.");
    s.modules.iter().filter(|m| m.starts_with(&prefix)).cloned().collect()
}

fn expired_error() -> ServiceError {
    ServiceError::Invalid("this connect link expired: go back to the app you came from and start again".into())
}

fn used_error() -> ServiceError {
    ServiceError::Conflict(
        "this connect link was already used to add a connection: go back to the app you came from".into(),
    )
}

impl Patchbay {
    /// Exchanges a session token for the page's cookie: once, before expiry, before completion.
    /// Audited (`connect_session.open`; an expired token: `connect_session.expire`).
    pub async fn open_connect_session(&self, token: &str) -> ServiceResult<Opening> {
        let Some(s) = self.store.connect_session_by_digest(&random::sha256(token.as_bytes())).await? else {
            return Ok(Opening::Unknown);
        };
        let now = self.clock.now();
        let who = principal_of(&s)?;
        if s.completed_at.is_some() {
            return Ok(Opening::Used);
        }
        if s.expires_at <= now {
            let detail = format!("session={} presented after expiry", s.id);
            self.audit(&who, action::CONNECT_SESSION_EXPIRE, None, AuditOutcome::Failed, Some(&detail)).await?;
            return Ok(Opening::Expired);
        }
        if s.opened_at.is_some() {
            return Ok(Opening::AlreadyOpened);
        }
        let cookie = format!("pbcc_{}", random::token(32));
        let csrf = random::token(16);
        let detail = format!("session={} end_user={}", s.id, s.end_user.id);
        self.audit(&who, action::CONNECT_SESSION_OPEN, None, AuditOutcome::Ok, Some(&detail)).await?;
        if !self.store.open_connect_session(&s.id, &cookie_digest(&cookie), &csrf, now).await? {
            return Ok(Opening::AlreadyOpened);
        }
        Ok(Opening::Opened(SecretString::from(cookie)))
    }

    /// The session of a page cookie; `None` when no session has it.
    pub async fn connect_visit(&self, cookie: &str) -> ServiceResult<Option<ConnectVisit>> {
        let Some(s) = self.store.connect_session_by_cookie(&cookie_digest(cookie)).await? else {
            return Ok(None);
        };
        Ok(Some(self.visit_of(&s).await?))
    }

    async fn visit_of(&self, s: &ConnectSessionRow) -> ServiceResult<ConnectVisit> {
        let platform = self.store.find_team(s.team_id.as_str()).await?.map(|t| t.name).unwrap_or_default();
        let reconnect = match &s.connection_id {
            Some(id) => {
                let c = self.load(&principal_of(s)?, id).await?;
                Some((c.id.to_string(), c.name))
            }
            None => None,
        };
        let state = if s.completed_at.is_some() {
            VisitState::Completed
        } else if s.expires_at <= self.clock.now() {
            VisitState::Expired
        } else {
            VisitState::Open
        };
        let mut providers: Vec<ProviderView> =
            self.offered(s).await?.into_iter().map(|p| ProviderView::new(&p)).collect();
        providers.sort_by_key(|p| p.display_name.to_lowercase());
        Ok(ConnectVisit {
            id: s.id.clone(),
            platform,
            end_user: s.end_user.clone(),
            providers,
            reconnect,
            connection: s.connection_made.clone(),
            csrf: s.csrf_token.clone().unwrap_or_default(),
            state,
            return_url: s.return_url.clone(),
            allowed_origins: s.allowed_origins.clone(),
            expires_at: s.expires_at,
        })
    }

    /// The providers a session offers: its list, or every interactive provider the session's
    /// team sees (the catalog and the servers it discovered). Only their definitions: the page
    /// needs names, modes and modules, and the use-cases it calls resolve the provider (and open
    /// a discovered server's client secret) themselves, so listing opens no secret.
    async fn offered(&self, s: &ConnectSessionRow) -> ServiceResult<Vec<Arc<Provider>>> {
        let mut all: Vec<Arc<Provider>> = self.catalog.list().cloned().collect();
        for row in self.store.team_providers(&s.team_id).await? {
            all.push(Arc::new(team_provider_definition(&row)?));
        }
        if s.allowed_providers.is_empty() {
            return Ok(all.into_iter().filter(|p| p.auth_mode != AuthMode::Oauth2ClientCredentials).collect());
        }
        Ok(s.allowed_providers.iter().filter_map(|id| all.iter().find(|p| &p.id == id).cloned()).collect())
    }

    /// The open session of a page cookie whose form carried its anti-CSRF token.
    async fn open_session(&self, cookie: &str, csrf: &str) -> ServiceResult<ConnectSessionRow> {
        let s = self.store.connect_session_by_cookie(&cookie_digest(cookie)).await?.ok_or_else(|| {
            ServiceError::Unauthenticated("this page has no connect session: open the link from the app again".into())
        })?;
        let expected = s.csrf_token.as_deref().unwrap_or_default();
        if expected.is_empty() || !constant_time_eq(expected, csrf) {
            return Err(ServiceError::Forbidden("the form is stale: reload the page and try again".into()));
        }
        if s.completed_at.is_some() {
            return Err(used_error());
        }
        if s.expires_at <= self.clock.now() {
            return Err(expired_error());
        }
        Ok(s)
    }

    /// Saves the session's connection with `provider` (one of the session's): creates it (or,
    /// after a denied consent, retries the same one), or reconnects the session's connection.
    pub async fn connect_save(
        &self,
        cookie: &str,
        csrf: &str,
        provider: &str,
        save: ConnectSave,
    ) -> ServiceResult<Saved> {
        let s = self.open_session(cookie, csrf).await?;
        let p = self.offered(&s).await?.into_iter().find(|p| p.id == provider).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "`{provider}` is not offered by this connect session: pick one of the apps listed"
            ))
        })?;
        let who = principal_of(&s)?;
        let binding = Some(session_binding(cookie));
        // A reconnect, or a retry of the session's connection after a denied consent: same id.
        if let Some(id) = s.connection_id.clone().or_else(|| s.connection_made.clone()) {
            return self.save_again(&s, &who, &p, &id, save, binding).await;
        }
        let req = CreateConnection {
            provider: p.id.clone(),
            name: save.name.filter(|n| !n.trim().is_empty()),
            modules: modules_of(&s, &p.id),
            scopes: s.scopes.clone(),
            settings: save.settings,
            credentials: save.credentials,
            verify: true,
            return_to: Some(LANDING_PATH.to_owned()),
            end_user: Some(s.end_user.clone()),
            connect_session: Some(s.id.clone()),
        };
        let created = self.create_connection(&who, req, binding).await?;
        let id = created.connection.id.clone();
        if !self.store.claim_connect_connection(&s.id, &id).await? {
            // Another save of this session won the race: this connection is not the session's.
            let cid = crate::access::parse_connection_id(&id)?;
            self.store.delete_connection(&s.team_id, &cid).await?;
            return Err(used_error());
        }
        match created.authorize_url {
            Some(authorize_url) => Ok(Saved::Consent { authorize_url }),
            None => {
                self.complete_session(&s, &who, &id).await?;
                Ok(Saved::Done { connection: id })
            }
        }
    }

    /// A save for a connection the session already names: a new consent flow for it (OAuth), or
    /// its API key or password replaced in place.
    async fn save_again(
        &self,
        s: &ConnectSessionRow,
        who: &Principal,
        p: &Provider,
        id: &str,
        save: ConnectSave,
        binding: Option<String>,
    ) -> ServiceResult<Saved> {
        let c = self.load(who, id).await?;
        if c.provider != p.id {
            return Err(ServiceError::Invalid(format!(
                "this connect session is for your {} connection: pick that app",
                c.provider
            )));
        }
        if !self.store.claim_connect_connection(&s.id, id).await? {
            return Err(used_error());
        }
        if p.auth_mode == AuthMode::Oauth2 {
            let req = ReauthorizeRequest {
                modules: modules_of(s, &p.id),
                scopes: s.scopes.clone(),
                allow_account_change: false,
                return_to: Some(LANDING_PATH.to_owned()),
            };
            let start = self.reauthorize_connection(who, id, req, binding).await?;
            return Ok(Saved::Consent { authorize_url: start.authorize_url });
        }
        self.update_credential(who, id, UpdateCredential { credentials: save.credentials, verify: true }).await?;
        self.complete_session(s, who, id).await?;
        // The platform learns of a reconnect as it does after a consent: `reauthorized`, naming
        // the session (and, through the connection, its end user).
        if let Some(stored) = self.store.get_connection(&c.team_id, &c.id).await? {
            let extra = serde_json::json!({"account": stored.account, "session_id": s.id});
            self.emit(&stored, kind::REAUTHORIZED, extra).await;
        }
        Ok(Saved::Done { connection: id.to_owned() })
    }

    /// After a consent flow of the page landed: completes the session when the landing is for
    /// its connection and the consent connected. Returns the page's view afterwards.
    pub async fn connect_landed(
        &self,
        cookie: &str,
        connection: &str,
        outcome: CallbackOutcome,
    ) -> ServiceResult<Option<ConnectVisit>> {
        let Some(s) = self.store.connect_session_by_cookie(&cookie_digest(cookie)).await? else {
            return Ok(None);
        };
        let connected = matches!(outcome, CallbackOutcome::Connected | CallbackOutcome::Partial);
        if connected && s.completed_at.is_none() && s.connection_made.as_deref() == Some(connection) {
            let who = principal_of(&s)?;
            let c = self.load(&who, connection).await?;
            if c.status != patchbay_domain::connection::ConnectionStatus::Pending {
                self.complete_session(&s, &who, connection).await?;
            }
        }
        let s = self.store.connect_session_by_cookie(&cookie_digest(cookie)).await?;
        match s {
            Some(s) => Ok(Some(self.visit_of(&s).await?)),
            None => Ok(None),
        }
    }

    /// Marks the session completed with its connection, audited.
    async fn complete_session(&self, s: &ConnectSessionRow, who: &Principal, connection: &str) -> ServiceResult<()> {
        let now = self.clock.now();
        if self.store.complete_connect_session(&s.id, connection, now).await? {
            let cid = crate::access::parse_connection_id(connection)?;
            let detail = format!("session={} end_user={}", s.id, s.end_user.id);
            self.audit(who, action::CONNECT_SESSION_COMPLETE, Some(&cid), AuditOutcome::Ok, Some(&detail)).await?;
        }
        Ok(())
    }
}
