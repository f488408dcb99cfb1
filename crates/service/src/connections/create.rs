//! Creating a connection, one path per auth mode: API-key and basic credentials are verified
//! first (nothing is stored when the provider rejects them); an OAuth connection is stored
//! `pending` and its consent flow started; a client-credentials token is obtained first.
//! Whatever the path, the connection and its sealed secrets are written in one transaction,
//! under a default name when none was given, and a live connection starts its lifecycle.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{
    Connection, ConnectionStatus, VerifyResult, default_connection_name, validate_connection_name,
};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::end_user::EndUser;
use patchbay_domain::ids::ConnectionId;
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::VerifyOutcome;
use patchbay_providers::oauth::{self as client, TokenError};
use patchbay_store::{NewConnection, StoreError};
use time::{Duration, OffsetDateTime};

use super::dto::{CreateConnection, Created};
use super::input::{
    SplitSettings, credential_from_request, no_credentials, requested_scopes, split_settings, validate_return_to,
};
use super::pending::DiscardReason;
use crate::access::require;
use crate::audit::{AuditOutcome, action};
use crate::events::kind;
use crate::lifecycle::granted_or_requested;
use crate::oauth::{FlowKind, FlowStart};
use crate::{Patchbay, ServiceError, ServiceResult};

/// A validated create request: what every auth mode's path starts from.
struct NewConnectionPlan {
    provider: Arc<Provider>,
    /// The platform's end user it is for, checked.
    end_user: Option<EndUser>,
    /// The connect session making it, for its created event.
    connect_session: Option<String>,
    /// The requested name (`None`: the next free default name).
    name: Option<String>,
    settings: SplitSettings,
    scopes: ScopeSet,
}

fn token_error_for_create(provider: &Provider, e: TokenError) -> ServiceError {
    match e {
        TokenError::OAuth { .. } => {
            ServiceError::CredentialRejected(format!("{e}. Check the client id and secret; nothing was saved"))
        }
        TokenError::Transient { .. } | TokenError::Protocol { .. } => ServiceError::ProviderUnavailable(format!(
            "could not obtain a token from {}: {e}. Nothing was saved; retry later",
            provider.display_name
        )),
    }
}

impl Patchbay {
    /// Creates a connection. For API-key and basic providers the credential is verified first
    /// (unless `verify: false`) and nothing is stored when the provider rejects it. For OAuth
    /// providers the connection is stored `pending` and the answer carries the consent URL; for
    /// client-credentials providers the token is obtained first. `binding` ties an OAuth consent
    /// flow to the browser session that started it (the web UI's; `None` from the API).
    pub async fn create_connection(
        &self,
        who: &Principal,
        req: CreateConnection,
        binding: Option<String>,
    ) -> ServiceResult<Created> {
        require(who, Action::Manage)?;
        let provider = self.provider(&who.team_id, &req.provider).await?;
        let name = req.name.as_deref().map(validate_connection_name).transpose().map_err(ServiceError::Invalid)?;
        let settings = split_settings(&provider, &req.settings)?;
        let scopes = requested_scopes(&provider, &req.modules, &req.scopes)?;
        let return_to = req.return_to.as_deref().map(validate_return_to).transpose()?;
        let end_user = req
            .end_user
            .as_ref()
            .map(|u| EndUser::new(&u.id, u.display_name.as_deref()))
            .transpose()
            .map_err(ServiceError::Invalid)?;
        let plan = NewConnectionPlan {
            provider: provider.clone(),
            end_user,
            connect_session: req.connect_session.clone(),
            name,
            settings,
            scopes,
        };
        match provider.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic => {
                let credential = credential_from_request(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_static(who, plan, credential, req.verify).await
            }
            AuthMode::Oauth2 => {
                no_credentials(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_oauth(who, plan, binding, return_to).await
            }
            AuthMode::Oauth2ClientCredentials => {
                no_credentials(&provider, &req.credentials)?;
                self.keys.require_unsealed()?;
                self.create_client_credentials(who, plan).await
            }
        }
    }

    async fn create_static(
        &self,
        who: &Principal,
        plan: NewConnectionPlan,
        credential: Credential,
        verify: bool,
    ) -> ServiceResult<Created> {
        let provider = &plan.provider;
        let now = self.clock.now();
        let last_verify = if verify {
            match patchbay_providers::verify_credential(&self.http, provider, &plan.settings.clear, &credential).await {
                VerifyOutcome::Ok { account, account_id } => {
                    Some(VerifyResult { ok: true, account, account_id, checked_at: now, error: None })
                }
                VerifyOutcome::Rejected { status, message } => {
                    let detail = format!("provider={} http={status}", provider.id);
                    self.audit(who, action::CONNECTION_CREATE, None, AuditOutcome::Rejected, Some(&detail)).await?;
                    return Err(ServiceError::CredentialRejected(format!(
                        "{message}. Check it and try again; nothing was saved"
                    )));
                }
                VerifyOutcome::Failed { message } => {
                    return Err(ServiceError::VerifyUnavailable(format!(
                        "could not verify the credential: {message}. Nothing was saved: retry later, or save it without verifying"
                    )));
                }
            }
        } else {
            None
        };
        let connection =
            self.new_connection(who, provider, plan.settings.clear.clone(), ConnectionStatus::Active, None, now);
        let fingerprint =
            self.keys.fingerprint(&self.store, &who.team_id, &connection.id, credential.main_secret(), now).await?;
        let connection = Connection {
            account: last_verify.as_ref().and_then(|v| v.account.clone()),
            account_id: last_verify.as_ref().and_then(|v| v.account_id.clone()),
            credential_fingerprint: Some(fingerprint),
            last_verify,
            ..connection
        };
        let fields = credential.fields().into_iter().map(|(f, v)| (f.to_owned(), v.clone())).collect();
        let connection = self.insert_new_connection(who, &plan, connection, fields).await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: None })
    }

    /// Creates a `pending` OAuth connection and starts its consent flow.
    async fn create_oauth(
        &self,
        who: &Principal,
        plan: NewConnectionPlan,
        binding: Option<String>,
        return_to: Option<String>,
    ) -> ServiceResult<Created> {
        let provider = &plan.provider;
        let own_secret = plan.settings.secret_value("client_secret").cloned();
        let client = self.oauth_client(provider, &plan.settings.clear, own_secret)?;
        let now = self.clock.now();
        let reason = format!("waiting for consent at {}", provider.display_name);
        let clear = plan.settings.clear.clone();
        let connection = self.new_connection(who, provider, clear, ConnectionStatus::Pending, Some(reason), now);
        // Remembered until a grant covers it: a denied or abandoned consent does not lose it.
        let connection = Connection { requested_scopes: plan.scopes.clone(), ..connection };
        let holder = match &plan.name {
            Some(name) => self.pending_holder(who, name).await?.filter(|h| h.provider == provider.id),
            None => None,
        };
        let connection = match holder {
            // The same name and app as a never-granted connection: continue that one.
            Some(held) => self.continue_pending(who, &plan, Connection { id: held.id, ..connection }).await?,
            None => self.insert_new_connection(who, &plan, connection, Vec::new()).await?,
        };
        let start = FlowStart {
            kind: FlowKind::Create,
            client_id: &client.client_id,
            scopes: &plan.scopes,
            binding,
            allow_account_change: false,
            return_to,
        };
        let url = self.start_flow(&who.actor.label(), &connection, provider, start).await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: Some(url) })
    }

    /// Creates a client-credentials connection: the token is obtained first, nothing is stored
    /// when the provider refuses.
    async fn create_client_credentials(&self, who: &Principal, plan: NewConnectionPlan) -> ServiceResult<Created> {
        let (provider, settings, scopes) = (&plan.provider, &plan.settings, &plan.scopes);
        let oauth = self.oauth_client(provider, &settings.clear, settings.secret_value("client_secret").cloned())?;
        let tokens = client::client_credentials(&self.http, provider, &settings.clear, &oauth, scopes)
            .await
            .map_err(|e| token_error_for_create(provider, e))?;
        let now = self.clock.now();
        let credential = Credential::OAuth2 { access_token: tokens.access_token.clone(), refresh_token: None };
        let last_verify = self.verify_with(provider, &settings.clear, &credential, now).await;
        let connection =
            self.new_connection(who, provider, settings.clear.clone(), ConnectionStatus::Active, None, now);
        let fingerprint =
            self.keys.fingerprint(&self.store, &who.team_id, &connection.id, &tokens.access_token, now).await?;
        let connection = Connection {
            account: last_verify.as_ref().and_then(|v| v.account.clone()),
            account_id: last_verify.as_ref().and_then(|v| v.account_id.clone()),
            granted_scopes: granted_or_requested(&tokens, scopes),
            expires_at: tokens.expires_in.map(|s| now + Duration::seconds(s)),
            credential_fingerprint: Some(fingerprint),
            last_verify,
            ..connection
        };
        let fields = vec![(field::ACCESS_TOKEN.to_owned(), tokens.access_token.clone())];
        let connection = self.insert_new_connection(who, &plan, connection, fields).await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: None })
    }

    /// A connection value with fresh id and times, not yet stored.
    fn new_connection(
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
            account_id: None,
            granted_scopes: ScopeSet::new(),
            requested_scopes: ScopeSet::new(),
            settings,
            credential_fingerprint: None,
            expires_at: None,
            reauthorize_by: None,
            last_verify: None,
            last_authorization: None,
            created_at: now,
            updated_at: now,
            end_user: None,
            metadata: Default::default(),
        }
    }

    /// Seals the credential and secret settings and inserts the connection, choosing the default
    /// name when none was given. A default name can race with another create; the next free one
    /// is taken then.
    async fn insert_new_connection(
        &self,
        who: &Principal,
        plan: &NewConnectionPlan,
        mut connection: Connection,
        mut fields: Vec<(String, SecretString)>,
    ) -> ServiceResult<Connection> {
        let NewConnectionPlan { provider, name, settings, end_user, .. } = plan;
        connection.end_user.clone_from(end_user);
        fields.extend(settings.secret.iter().cloned());
        let refs: Vec<(String, &SecretString)> = fields.iter().map(|(f, v)| (f.clone(), v)).collect();
        let sealed =
            self.keys.seal_fields(&self.store, &who.team_id, &connection.id, &refs, connection.created_at).await?;
        for _attempt in 0..5 {
            connection.name = match name {
                Some(n) => n.clone(),
                None => {
                    let base = format!("My {} connection", provider.display_name);
                    let taken = self.store.connection_names_like(&who.team_id, &base).await?;
                    default_connection_name(&provider.display_name, taken.iter().map(String::as_str))
                }
            };
            match self.store.insert_connection(NewConnection { connection: &connection, secrets: &sealed }).await {
                Ok(()) => {
                    self.connection_inserted(who, plan, &connection).await?;
                    return Ok(connection);
                }
                Err(StoreError::Conflict(_)) if name.is_some() => {
                    // A never-granted connection does not keep its name from a new one.
                    if let Some(held) = self.pending_holder(who, &connection.name).await? {
                        self.discard(who, &held, DiscardReason::NameReused).await?;
                        continue;
                    }
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

    /// Starts a never-granted connection over under the same id and name: the new request's
    /// settings replace its own (sealed anew), and the caller starts a new consent flow.
    async fn continue_pending(
        &self,
        who: &Principal,
        plan: &NewConnectionPlan,
        connection: Connection,
    ) -> ServiceResult<Connection> {
        let refs: Vec<(String, &SecretString)> = plan.settings.secret.iter().map(|(f, v)| (f.clone(), v)).collect();
        let sealed =
            self.keys.seal_fields(&self.store, &who.team_id, &connection.id, &refs, connection.created_at).await?;
        if !self.store.restart_pending_connection(&connection, &sealed).await? {
            return Err(ServiceError::Conflict(format!(
                "connection `{}` was granted access meanwhile: open it, or choose another name",
                plan.name.as_deref().unwrap_or_default()
            )));
        }
        let stored = self.store.get_connection(&who.team_id, &connection.id).await?;
        let stored = stored.ok_or_else(|| crate::access::not_found(connection.id.as_str()))?;
        let detail = format!("provider={} name={} continued=true", stored.provider, stored.name);
        self.audit(who, action::CONNECTION_CREATE, Some(&stored.id), AuditOutcome::Ok, Some(&detail)).await?;
        Ok(stored)
    }

    /// After the insert: audit, and for a live connection (not one waiting for consent) start
    /// its lifecycle and announce it.
    async fn connection_inserted(
        &self,
        who: &Principal,
        plan: &NewConnectionPlan,
        connection: &Connection,
    ) -> ServiceResult<()> {
        let provider = &plan.provider;
        let detail = format!("provider={} name={}", provider.id, connection.name);
        self.audit(who, action::CONNECTION_CREATE, Some(&connection.id), AuditOutcome::Ok, Some(&detail)).await?;
        tracing::info!(connection_id = %connection.id, provider = %provider.id, "connection created");
        if connection.status != ConnectionStatus::Pending {
            self.start_lifecycle(connection, provider, connection.created_at).await?;
            let mut extra = serde_json::json!({"account": connection.account});
            if let Some(session) = &plan.connect_session {
                extra["session_id"] = serde_json::Value::from(session.as_str());
            }
            self.emit(connection, kind::CREATED, extra).await;
        }
        Ok(())
    }
}
