//! Connection use-cases for API-key and basic-auth providers: create (verify first), list, get,
//! rename, verify, delete.
//!
//! Invariants: a bad request changes nothing stored; a connection and its secrets are written in
//! one transaction; a failing verify keeps the connection and says why; the team always comes from
//! the principal.

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{
    Connection, ConnectionStatus, VerifyResult, default_connection_name, validate_connection_name,
};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::ConnectionId;
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::VerifyOutcome;
use patchbay_store::{NewConnection, StoreError};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::audit::action;
use crate::views::{ConnectionView, secret_setting_names};
use crate::{Patchbay, ServiceError, ServiceResult};

/// Body of `POST /v1/connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// Provider id.
    pub provider: String,
    /// Name; defaults to "My {provider} connection" (then "… 2", "… 3").
    #[serde(default)]
    pub name: Option<String>,
    /// Modules (`provider.module`) the connection is for.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Extra scopes to request.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Advanced settings (secret ones are encrypted, never returned).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: BTreeMap<String, SecretString>,
    /// `{"api_key": …}` or `{"username": …, "password": …}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub credentials: BTreeMap<String, SecretString>,
    /// Verify the credential before saving (default true).
    #[serde(default = "default_true")]
    pub verify: bool,
    /// Same-origin path to land on after the consent flow (default: the connection's page).
    #[serde(default)]
    pub return_to: Option<String>,
    /// Binds the consent flow to a browser session (set by the web UI, never from JSON).
    #[serde(skip)]
    #[schema(ignore)]
    pub binding: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Result of creating a connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The new connection.
    pub connection: ConnectionView,
    /// Where to send the user for consent (OAuth providers).
    pub authorize_url: Option<String>,
}

/// Result of `POST /v1/connections/{id}/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    /// Whether the provider accepted the credential.
    pub ok: bool,
    /// Account the provider reported.
    pub account: Option<String>,
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub checked_at: OffsetDateTime,
    /// Why it failed.
    pub error: Option<String>,
    /// The connection's status afterwards.
    pub status: String,
}

/// What happened to one credential at the provider on delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationItem {
    /// Which credential (`api_key`, `refresh_token`, …).
    pub credential: String,
    /// `revoked`, `pending` (retried in the background), `not_supported`, `failed`.
    pub outcome: String,
    /// What the user should know or do.
    pub detail: String,
}

/// The receipt of `DELETE /v1/connections/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteReceipt {
    /// Deleted connection id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its provider.
    pub provider: String,
    /// Whether the local secret was destroyed (always true on success).
    pub secret_destroyed: bool,
    /// Per-credential revocation outcome at the provider.
    pub revocation: Vec<RevocationItem>,
    /// Scenario steps that used the connection and now have none (forced delete).
    pub unbound_steps: Vec<crate::views::UsageView>,
}

/// Filters for listing connections.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilter {
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Case-insensitive match on name or account.
    pub q: Option<String>,
}

pub(crate) fn require(who: &Principal, action: Action) -> ServiceResult<()> {
    if who.may(action) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!("the `{}` role may not do this", who.role)))
    }
}

pub(crate) fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no connection `{id}` in your team"))
}

/// Parses a connection id from a path; a malformed id is answered like a missing one (404) so ids
/// cannot be probed, but with a message that says what shape was expected.
pub fn parse_connection_id(id: &str) -> ServiceResult<ConnectionId> {
    ConnectionId::parse(id)
        .map_err(|e| ServiceError::NotFound(format!("no connection `{}` in your team ({e})", e.value)))
}

/// Checks a `return_to` path: same origin only (an absolute path, not `//host`), no control
/// characters, bounded length.
pub fn validate_return_to(path: &str) -> ServiceResult<String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(path.to_owned())
    } else {
        Err(ServiceError::Invalid("`return_to` must be a path on this server, e.g. /connections".into()))
    }
}

/// OAuth providers take no credentials in the form: the grant supplies them.
fn no_credentials(provider: &Provider, given: &BTreeMap<String, SecretString>) -> ServiceResult<()> {
    if given.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "{} uses OAuth 2.0: send no `credentials`; its own client id and secret, if any, go in `settings`",
            provider.display_name
        )))
    }
}

/// Builds the credential from the create request's `credentials` for the provider's auth mode.
fn credential_from_request(provider: &Provider, given: &BTreeMap<String, SecretString>) -> ServiceResult<Credential> {
    let allowed: &[&str] = match provider.auth_mode {
        AuthMode::ApiKey => &[field::API_KEY],
        AuthMode::Basic => &[field::USERNAME, field::PASSWORD],
        _ => &[],
    };
    if let Some(unknown) = given.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ServiceError::Invalid(format!(
            "unknown credential field `{unknown}` for {} ({}): send {}",
            provider.display_name,
            provider.auth_mode.as_str(),
            allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" and ")
        )));
    }
    let take = |name: &str, label: &str| -> ServiceResult<SecretString> {
        match given.get(name) {
            Some(v) if !v.expose_secret().trim().is_empty() => {
                if v.expose_secret().len() > 8192 {
                    return Err(ServiceError::Invalid(format!("`credentials.{name}` is longer than 8192 characters")));
                }
                Ok(SecretString::from(v.expose_secret().trim().to_owned()))
            }
            _ => Err(ServiceError::Invalid(format!("{} needs `credentials.{name}` ({label})", provider.display_name))),
        }
    };
    match provider.auth_mode {
        AuthMode::ApiKey => {
            let label = provider.api_key.as_ref().map_or("API key", |k| k.label.as_str());
            Ok(Credential::ApiKey { key: take(field::API_KEY, label)? })
        }
        AuthMode::Basic => {
            let form = provider.basic_form();
            let username = match &form.fixed_username {
                Some(fixed) => SecretString::from(fixed.clone()),
                None => take(field::USERNAME, &form.username_label)?,
            };
            Ok(Credential::Basic { username, password: take(field::PASSWORD, &form.password_label)? })
        }
        AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Err(ServiceError::Invalid(format!(
            "{} uses OAuth 2.0: its credential comes from the grant, not from `credentials`",
            provider.display_name
        ))),
    }
}

/// Advanced settings of a new connection, split by secrecy.
pub(crate) struct SplitSettings {
    /// Non-secret settings, stored in clear and shown.
    pub clear: BTreeMap<String, String>,
    /// Secret settings as (field name, value), sealed like credentials.
    pub secret: Vec<(String, SecretString)>,
}

impl SplitSettings {
    /// The own OAuth client secret among the secret settings, if given.
    pub fn secret_value(&self, key: &str) -> Option<&SecretString> {
        let field = format!("{}{key}", field::SETTING_PREFIX);
        self.secret.iter().find(|(f, _)| *f == field).map(|(_, v)| v)
    }
}

/// Splits and validates advanced settings: non-secret ones are returned in clear, secret ones as
/// fields to encrypt.
pub(crate) fn split_settings(
    provider: &Provider,
    given: &BTreeMap<String, SecretString>,
) -> ServiceResult<SplitSettings> {
    let mut clear = BTreeMap::new();
    let mut secret = Vec::new();
    for (key, value) in given {
        let Some(decl) = provider.setting(key) else {
            let known: Vec<_> = provider.settings.iter().map(|s| format!("`{}`", s.key)).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown setting `{key}` for {}: {}",
                provider.display_name,
                if known.is_empty() {
                    "it has no advanced settings".to_owned()
                } else {
                    format!("use {}", known.join(", "))
                }
            )));
        };
        let text = value.expose_secret().trim();
        if text.is_empty() {
            continue;
        }
        if text.len() > 2048 {
            return Err(ServiceError::Invalid(format!("setting `{key}` is longer than 2048 characters")));
        }
        if decl.secret {
            secret.push((format!("{}{key}", field::SETTING_PREFIX), SecretString::from(text.to_owned())));
        } else {
            clear.insert(key.clone(), text.to_owned());
        }
    }
    for decl in provider.settings.iter().filter(|s| s.required) {
        let present =
            clear.contains_key(&decl.key) || secret.iter().any(|(f, _)| f.ends_with(&format!(":{}", decl.key)));
        if !present {
            return Err(ServiceError::Invalid(format!(
                "{} needs the setting `{}` ({})",
                provider.display_name, decl.key, decl.label
            )));
        }
    }
    // Placeholders in the API URL must render safely with these values (single DNS label, N-02).
    if let Some(base) = &provider.api_base_url {
        patchbay_providers::render_url(base, &clear).map_err(|e| {
            ServiceError::Invalid(format!("the settings do not make a valid {} address: {e}", provider.display_name))
        })?;
    }
    Ok(SplitSettings { clear, secret })
}

/// Validates requested modules and scopes against the provider. A provider that cannot limit
/// access (`granular_scopes: false`) always gets every scope it declares.
pub(crate) fn requested_scopes(provider: &Provider, modules: &[String], scopes: &[String]) -> ServiceResult<ScopeSet> {
    let mut set: ScopeSet = provider.default_scopes.iter().map(String::as_str).collect();
    for m in modules {
        let module =
            m.strip_prefix(&format!("{}.", provider.id)).and_then(|id| provider.modules.get(id)).ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "unknown module `{m}` for {}: modules are written `{}.<module>`; see GET /v1/providers/{}",
                    provider.display_name, provider.id, provider.id
                ))
            })?;
        set = set.union(&module.scopes.iter().map(String::as_str).collect());
    }
    for s in scopes {
        if !provider.scopes.contains_key(s) {
            return Err(ServiceError::Invalid(format!("{} has no scope `{s}`", provider.display_name)));
        }
    }
    if !provider.granular_scopes {
        return Ok(provider.scopes.keys().map(String::as_str).collect());
    }
    Ok(set.union(&scopes.iter().map(String::as_str).collect()))
}

/// How a verify outcome changes a connection.
fn verify_effect(outcome: &VerifyOutcome, now: OffsetDateTime) -> (VerifyResult, ConnectionStatus, Option<String>) {
    match outcome {
        VerifyOutcome::Ok { account } => (
            VerifyResult { ok: true, account: account.clone(), checked_at: now, error: None },
            ConnectionStatus::Active,
            None,
        ),
        VerifyOutcome::Rejected { message, .. } => {
            let reason = message.clone();
            (
                VerifyResult { ok: false, account: None, checked_at: now, error: Some(reason.clone()) },
                ConnectionStatus::NeedsReauth,
                Some(reason),
            )
        }
        VerifyOutcome::Failed { message } => {
            let reason = format!("verify failed: {message}");
            (
                VerifyResult { ok: false, account: None, checked_at: now, error: Some(reason.clone()) },
                ConnectionStatus::Degraded,
                Some(reason),
            )
        }
    }
}

impl Patchbay {
    pub(crate) fn provider(&self, id: &str) -> ServiceResult<std::sync::Arc<Provider>> {
        self.catalog.get(id).cloned().ok_or_else(|| {
            ServiceError::Invalid(format!("unknown provider `{id}`: see GET /v1/providers for the catalog"))
        })
    }

    pub(crate) async fn load(&self, who: &Principal, id: &str) -> ServiceResult<Connection> {
        let id = parse_connection_id(id)?;
        self.store.get_connection(&who.team_id, &id).await?.ok_or_else(|| not_found(id.as_str()))
    }

    pub(crate) async fn view(&self, c: &Connection) -> ServiceResult<ConnectionView> {
        let usages = self.store.connection_usages(&c.team_id, &c.id).await?;
        let fields = self.store.secret_field_names(&c.team_id, Some(&c.id)).await?;
        Ok(self.view_with(c, &usages, &fields))
    }

    /// The view of a connection given the team's step usages and secret field names (each read
    /// once for a whole list).
    fn view_with(
        &self,
        c: &Connection,
        usages: &[patchbay_store::Usage],
        fields: &[(String, String)],
    ) -> ConnectionView {
        let provider = self.catalog.get(&c.provider).cloned();
        let own: Vec<String> =
            fields.iter().filter(|(id, _)| id.as_str() == c.id.as_str()).map(|(_, f)| f.clone()).collect();
        ConnectionView::new(c, provider.as_deref(), secret_setting_names(&own)).with_usages(
            provider.as_deref(),
            c,
            usages,
        )
    }

    /// Creates a connection. For API-key and basic providers the credential is verified first
    /// (unless `verify: false`) and nothing is stored when the provider rejects it. For OAuth
    /// providers the connection is stored `pending` and the answer carries the consent URL; for
    /// client-credentials providers the token is obtained first.
    pub async fn create_connection(&self, who: &Principal, req: CreateConnection) -> ServiceResult<Created> {
        require(who, Action::Manage)?;
        let provider = self.provider(&req.provider)?;
        let name = req.name.as_deref().map(validate_connection_name).transpose().map_err(ServiceError::Invalid)?;
        let settings = split_settings(&provider, &req.settings)?;
        let scopes = requested_scopes(&provider, &req.modules, &req.scopes)?;
        let return_to = req.return_to.as_deref().map(validate_return_to).transpose()?;
        match provider.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic => {
                let credential = credential_from_request(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_static(who, &provider, name, settings, credential, req.verify).await
            }
            AuthMode::Oauth2 => {
                no_credentials(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_oauth(who, &provider, name, settings, scopes, req.binding, return_to).await
            }
            AuthMode::Oauth2ClientCredentials => {
                no_credentials(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_client_credentials(who, &provider, name, settings, scopes).await
            }
        }
    }

    async fn create_static(
        &self,
        who: &Principal,
        provider: &Provider,
        name: Option<String>,
        settings: SplitSettings,
        credential: Credential,
        verify: bool,
    ) -> ServiceResult<Created> {
        let now = self.clock.now();
        let last_verify = if verify {
            match patchbay_providers::verify_credential(&self.http, provider, &settings.clear, &credential).await {
                VerifyOutcome::Ok { account } => Some(VerifyResult { ok: true, account, checked_at: now, error: None }),
                VerifyOutcome::Rejected { status, message } => {
                    let detail = format!("provider={} http={status}", provider.id);
                    self.audit(who, action::CONNECTION_CREATE, None, "rejected", Some(&detail)).await?;
                    return Err(ServiceError::CredentialRejected(format!(
                        "{message}. Check it and try again; nothing was saved"
                    )));
                }
                VerifyOutcome::Failed { message } => {
                    return Err(ServiceError::ProviderUnavailable(format!(
                        "could not verify the credential: {message}. Nothing was saved; retry, or send \"verify\": false to save it unverified"
                    )));
                }
            }
        } else {
            None
        };
        let connection =
            self.new_connection(who, provider, settings.clear.clone(), ConnectionStatus::Active, None, now);
        let fingerprint =
            self.keys.fingerprint(&self.store, &who.team_id, &connection.id, credential.main_secret(), now).await?;
        let connection = Connection {
            account: last_verify.as_ref().and_then(|v| v.account.clone()),
            credential_fingerprint: Some(fingerprint),
            last_verify,
            ..connection
        };
        let fields = credential.fields().into_iter().map(|(f, v)| (f.to_owned(), v.clone())).collect();
        let connection = self.insert_new_connection(who, provider, name, connection, fields, &settings).await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: None })
    }

    /// A connection value with fresh id and times, not yet stored.
    pub(crate) fn new_connection(
        &self,
        who: &Principal,
        provider: &Provider,
        settings: BTreeMap<String, String>,
        status: ConnectionStatus,
        status_reason: Option<String>,
        now: OffsetDateTime,
    ) -> Connection {
        Connection {
            id: ConnectionId::generate(),
            team_id: who.team_id.clone(),
            provider: provider.id.clone(),
            name: String::new(),
            status,
            status_reason,
            account: None,
            granted_scopes: ScopeSet::new(),
            settings,
            credential_fingerprint: None,
            expires_at: None,
            reauthorize_by: None,
            last_verify: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Seals the credential and secret settings and inserts the connection, choosing the default
    /// name when none was given. A default name can race with another create; the next free one
    /// is taken then.
    pub(crate) async fn insert_new_connection(
        &self,
        who: &Principal,
        provider: &Provider,
        name: Option<String>,
        mut connection: Connection,
        mut fields: Vec<(String, SecretString)>,
        settings: &SplitSettings,
    ) -> ServiceResult<Connection> {
        fields.extend(settings.secret.iter().cloned());
        let refs: Vec<(String, &SecretString)> = fields.iter().map(|(f, v)| (f.clone(), v)).collect();
        let sealed =
            self.keys.seal_fields(&self.store, &who.team_id, &connection.id, &refs, connection.created_at).await?;
        for _attempt in 0..5 {
            connection.name = match &name {
                Some(n) => n.clone(),
                None => {
                    let base = format!("My {} connection", provider.display_name);
                    let taken = self.store.connection_names_like(&who.team_id, &base).await?;
                    default_connection_name(&provider.display_name, taken.iter().map(String::as_str))
                }
            };
            match self.store.insert_connection(NewConnection { connection: &connection, secrets: &sealed }).await {
                Ok(()) => {
                    let detail = format!("provider={} name={}", provider.id, connection.name);
                    self.audit(who, action::CONNECTION_CREATE, Some(&connection.id), "ok", Some(&detail)).await?;
                    tracing::info!(connection_id = %connection.id, provider = %provider.id, "connection created");
                    if connection.status != ConnectionStatus::Pending {
                        self.start_lifecycle(&connection, provider, connection.created_at).await?;
                        self.emit(
                            &connection,
                            crate::events::kind::CREATED,
                            serde_json::json!({"account": connection.account}),
                        )
                        .await;
                    }
                    return Ok(connection);
                }
                Err(StoreError::Conflict(_)) if name.is_some() => {
                    return Err(ServiceError::Conflict(format!(
                        "a connection named `{}` already exists in your team: choose another name",
                        connection.name
                    )));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict("could not find a free default name: give the connection a name".into()))
    }

    /// The team's connections, filtered.
    pub async fn list_connections(&self, who: &Principal, filter: &ListFilter) -> ServiceResult<Vec<ConnectionView>> {
        require(who, Action::Read)?;
        let status =
            filter.status.as_deref().map(str::parse::<ConnectionStatus>).transpose().map_err(ServiceError::Invalid)?;
        let q = filter.q.as_deref().map(str::to_lowercase);
        let usages = self.store.team_usages(&who.team_id).await?;
        let fields = self.store.secret_field_names(&who.team_id, None).await?;
        let mut out = Vec::new();
        for c in self.store.list_connections(&who.team_id).await? {
            let keep = filter.provider.as_deref().is_none_or(|p| p == c.provider)
                && status.is_none_or(|s| s == c.status)
                && q.as_deref().is_none_or(|q| {
                    c.name.to_lowercase().contains(q)
                        || c.account.as_deref().is_some_and(|a| a.to_lowercase().contains(q))
                });
            if keep {
                out.push(self.view_with(&c, &usages, &fields));
            }
        }
        Ok(out)
    }

    /// One connection of the team.
    pub async fn get_connection(&self, who: &Principal, id: &str) -> ServiceResult<ConnectionView> {
        require(who, Action::Read)?;
        let c = self.load(who, id).await?;
        self.view(&c).await
    }

    /// Renames a connection; the name must stay unique in the team.
    pub async fn rename_connection(&self, who: &Principal, id: &str, name: &str) -> ServiceResult<ConnectionView> {
        require(who, Action::Manage)?;
        let name = validate_connection_name(name).map_err(ServiceError::Invalid)?;
        let c = self.load(who, id).await?;
        let now = self.clock.now();
        match self.store.rename_connection(&who.team_id, &c.id, &name, now).await {
            Ok(true) => {}
            Ok(false) => return Err(not_found(c.id.as_str())),
            Err(StoreError::Conflict(_)) if name == c.name => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(format!(
                    "a connection named `{name}` already exists in your team: choose another name"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let detail = format!("from={} to={name}", c.name);
        self.audit(who, action::CONNECTION_RENAME, Some(&c.id), "ok", Some(&detail)).await?;
        let c = self.store.get_connection(&who.team_id, &c.id).await?.ok_or_else(|| not_found(c.id.as_str()))?;
        self.view(&c).await
    }

    /// Decrypts a connection's credential for a stated purpose, auditing the read first (S-09).
    pub(crate) async fn read_credential(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
        purpose: &str,
    ) -> ServiceResult<Credential> {
        self.keys.require_unsealed()?;
        self.audit(who, action::SECRET_READ, Some(&c.id), "ok", Some(purpose)).await?;
        let blobs = self.store.connection_secrets(&who.team_id, &c.id).await?;
        let mut fields = self.keys.open_fields(&self.store, &who.team_id, &c.id, &blobs).await?;
        let mut take = |f: &str| {
            fields.remove(f).ok_or_else(|| ServiceError::Internal(format!("connection {} has no stored `{f}`", c.id)))
        };
        Ok(match provider.auth_mode {
            AuthMode::ApiKey => Credential::ApiKey { key: take(field::API_KEY)? },
            AuthMode::Basic => Credential::Basic { username: take(field::USERNAME)?, password: take(field::PASSWORD)? },
            AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Credential::OAuth2 {
                access_token: take(field::ACCESS_TOKEN)?,
                refresh_token: fields.remove(field::REFRESH_TOKEN),
            },
        })
    }

    /// Calls the provider's verify endpoint with the stored credential and records the outcome.
    /// A rejected credential marks the connection `needs_reauth`, an unreachable provider marks it
    /// `degraded`; either way it is kept.
    pub async fn verify_connection(&self, who: &Principal, id: &str) -> ServiceResult<Verified> {
        require(who, Action::Manage)?;
        let c = self.load(who, id).await?;
        let provider = self.catalog.get(&c.provider).cloned().ok_or_else(|| {
            ServiceError::Invalid(format!(
                "provider `{}` is no longer in the catalog: restore its file or delete the connection",
                c.provider
            ))
        })?;
        let c = self.renew_client_credentials_if_due(who, c, &provider).await?;
        let credential = self.read_credential(who, &c, &provider, "verify").await?;
        let outcome = patchbay_providers::verify_credential(&self.http, &provider, &c.settings, &credential).await;
        drop(credential);
        let now = self.clock.now();
        let (result, status, reason) = verify_effect(&outcome, now);
        self.store.record_verify(&who.team_id, &c.id, status, reason.as_deref(), &result).await?;
        self.emit_verify(&c, status, &result).await;
        let outcome_label = if result.ok { "ok" } else { "failed" };
        self.audit(who, action::CONNECTION_VERIFY, Some(&c.id), outcome_label, result.error.as_deref()).await?;
        Ok(Verified {
            ok: result.ok,
            account: result.account.or(c.account),
            checked_at: now,
            error: result.error,
            status: status.to_string(),
        })
    }

    /// Deletes a connection that no scenario uses (see [`Patchbay::delete_connection_with`]).
    pub async fn delete_connection(&self, who: &Principal, id: &str) -> ServiceResult<DeleteReceipt> {
        self.delete_connection_with(who, id, false).await
    }

    /// Deletes a connection: revokes at the provider where possible, destroys the local secret,
    /// and returns a receipt. A connection that scenario steps use answers 409 listing them,
    /// unless `force`, which unbinds those steps (they then report `needs_connection`).
    pub async fn delete_connection_with(&self, who: &Principal, id: &str, force: bool) -> ServiceResult<DeleteReceipt> {
        require(who, Action::Manage)?;
        let c = self.load(who, id).await?;
        let used_by = self.usages_of(&c).await?;
        if !used_by.is_empty() && !force {
            let list: Vec<String> =
                used_by.iter().map(|u| format!("\"{}\" step {} ({})", u.scenario_name, u.step, u.module)).collect();
            return Err(ServiceError::Conflict(format!(
                "connection `{}` is used by {}: replace it there first, or delete with ?force=true to unbind those steps",
                c.name,
                list.join(", ")
            )));
        }
        let provider = self.catalog.get(&c.provider).cloned();
        let revocation = self.revoke_for_delete(who, &c, provider.as_deref()).await?;
        if !used_by.is_empty() {
            self.store.rebind_steps(&who.team_id, &c.id, None, self.clock.now()).await?;
        }
        if !self.store.delete_connection(&who.team_id, &c.id).await? {
            return Err(not_found(c.id.as_str()));
        }
        let detail = format!("provider={} name={}", c.provider, c.name);
        self.audit(who, action::CONNECTION_DELETE, Some(&c.id), "ok", Some(&detail)).await?;
        tracing::info!(connection_id = %c.id, provider = %c.provider, "connection deleted");
        self.emit(
            &c,
            crate::events::kind::DELETED,
            serde_json::json!({"revocation": revocation.iter().map(|r| &r.outcome).collect::<Vec<_>>()}),
        )
        .await;
        Ok(DeleteReceipt {
            id: c.id.to_string(),
            name: c.name,
            provider: c.provider,
            secret_destroyed: true,
            revocation,
            unbound_steps: used_by,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_stay_on_this_origin() {
        assert!(validate_return_to("/connections").is_ok());
        assert!(validate_return_to("/scenarios/1?x=y").is_ok());
        for bad in ["//evil.example", "https://evil.example/", "/\\evil", "connections", "/a\nb"] {
            assert!(validate_return_to(bad).is_err(), "{bad}");
        }
    }
}
