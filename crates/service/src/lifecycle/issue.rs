//! Handing a usable credential to the runtime (`POST /v1/connections/{id}/token`, and the
//! checks the proxy shares): the role, the module's scopes, the connection's status, and a
//! refresh or client-credentials renewal first when due. Audited before the secret is decrypted
//! (S-09); never hands out an expired token.

use std::sync::Arc;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::credential::Credential;
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scenario::ModuleRef;
use patchbay_domain::scope::ScopeSet;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, Serializer};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use patchbay_store::Lifecycle;

use super::refresh::{RefreshFailed, RefreshState};
use super::renew::client_credentials_due;
use super::schedule::refresh_due_at;
use crate::access::{not_found, require};
use crate::audit::action;
use crate::error::not_connected;
use crate::runtime_cache::{ConnectionEntry, RuntimeCaller};
use crate::secrets::HandOver;
use crate::views::required_scopes;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Body of `POST /v1/connections/{id}/token` (all optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The module about to run (`provider.module`): refused with the missing scopes when the
    /// connection lacks them.
    #[serde(default)]
    pub module: Option<String>,
    /// Or the scenario…
    #[serde(default)]
    pub scenario: Option<String>,
    /// …and step whose module is about to run.
    #[serde(default)]
    pub step: Option<usize>,
}

fn expose<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.expose_secret())
}

/// The answer of the token endpoint: the only response that carries a secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The access token (or API key).
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub access_token: SecretString,
    /// `Bearer`, or `api_key`.
    pub token_type: String,
    /// Expiry, when known.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// The scopes a connection lacks to run `module` (empty when it has them all, or the provider
/// has no scopes).
fn missing_for_module(c: &Connection, provider: &Provider, module: &str) -> ServiceResult<ScopeSet> {
    let m = ModuleRef::parse(module).map_err(ServiceError::Invalid)?;
    if m.provider != provider.id || !provider.modules.contains_key(&m.module) {
        return Err(ServiceError::Invalid(format!(
            "`{module}` is not a module of {}: connection `{}` cannot run it",
            provider.display_name, c.name
        )));
    }
    if !provider.auth_mode.is_oauth() {
        return Ok(ScopeSet::new());
    }
    Ok(required_scopes(provider, [module]).difference(&c.granted_scopes))
}

/// A connection checked and ready to use (token endpoint, proxy).
pub(crate) struct Prepared {
    /// The connection as it will be used (refreshed first when that was due).
    pub(crate) connection: Connection,
    /// Its provider.
    pub(crate) provider: Arc<Provider>,
    /// The module the call is for, when named.
    pub(crate) module: Option<String>,
    /// The cached entry when its sealed fields are still the connection's (`None` after a
    /// renewal: the new ciphertexts are read at the hand-over).
    pub(crate) entry: Option<Arc<ConnectionEntry>>,
}

impl Prepared {
    /// The sealed fields to open at the hand-over, when already read.
    pub(crate) fn sealed(&self) -> Option<&[(String, Vec<u8>)]> {
        self.entry.as_ref().map(|e| e.sealed.as_slice())
    }
}

impl Patchbay {
    /// Issues a usable access token for the runtime, refreshing first when it is expired or
    /// within the refresh margin. Audited before the token is returned (S-09).
    pub async fn issue_token(&self, caller: &RuntimeCaller, id: &str, req: TokenRequest) -> ServiceResult<IssuedToken> {
        let who = &caller.principal;
        let ready = self.prepare_use(caller, id, &req).await?;
        // One audit record per hand-over, written before the secret is decrypted (S-09): the
        // purpose names the module, so a separate "issued" record would only double the writes.
        let purpose = ready.module.as_deref().map_or_else(|| "token".to_owned(), |m| format!("token module={m}"));
        let how = HandOver { action: action::SECRET_READ, detail: &purpose, sealed: ready.sealed() };
        let (c, provider) = (&ready.connection, &ready.provider);
        let credential = self.hand_over(who, c, provider, how).await?;
        let (access_token, token_type) = match credential {
            Credential::OAuth2 { access_token, .. } => (access_token, "Bearer"),
            Credential::ApiKey { key } => (key, "api_key"),
            Credential::Basic { .. } => {
                return Err(ServiceError::Invalid(format!(
                    "{} uses basic authentication, which has no token to hand out: send the calls through Patchbay's proxy for this connection instead",
                    provider.display_name
                )));
            }
        };
        Ok(IssuedToken {
            access_token,
            token_type: token_type.to_owned(),
            expires_at: c.expires_at,
            scopes: c.granted_scopes.iter().map(str::to_owned).collect(),
        })
    }

    /// The checks before any use of a credential (token endpoint, proxy), on every call: the
    /// role, the team (the connection is looked up in the caller's team only), the module's
    /// scopes, the status, and a refresh when due. The connection comes from the runtime cache
    /// when unchanged since the caller's generation.
    pub(crate) async fn prepare_use(
        &self,
        caller: &RuntimeCaller,
        id: &str,
        req: &TokenRequest,
    ) -> ServiceResult<Prepared> {
        let who = &caller.principal;
        require(who, Action::UseCredential)?;
        let entry = self.runtime_entry(caller, id).await?;
        let c = entry.connection.clone();
        let provider = self.provider(&c.team_id, &c.provider).await?;
        let module = self.module_for_request(who, &c, req).await?;
        self.check_binding(who, &c, module.as_deref()).await?;
        if let Some(module) = &module {
            let missing = missing_for_module(&c, &provider, module)?;
            if !missing.is_empty() {
                return Err(ServiceError::MissingScopes {
                    message: format!(
                        "connection `{}` lacks {} for `{module}`: reauthorize it with that module to add them",
                        c.name,
                        missing.join(", ")
                    ),
                    missing: missing.iter().map(str::to_owned).collect(),
                    connection: c.id.to_string(),
                    module: module.clone(),
                });
            }
        }
        self.keys.require_unsealed()?;
        let (connection, renewal_due) = self.usable_connection(who, c, entry.lifecycle.as_ref(), &provider).await?;
        // A renewal was due: whoever did it, the credential may have changed since the entry
        // was read, so its ciphertexts are read again at the hand-over.
        let entry = (!renewal_due).then_some(entry);
        Ok(Prepared { connection, provider, module, entry })
    }

    /// The module a token request is for: `module`, or the module of `scenario` + `step`.
    async fn module_for_request(
        &self,
        who: &Principal,
        c: &Connection,
        req: &TokenRequest,
    ) -> ServiceResult<Option<String>> {
        match (&req.module, &req.scenario, req.step) {
            (Some(m), None, None) => Ok(Some(m.clone())),
            (None, None, None) => Ok(None),
            (None, Some(s), Some(step)) => {
                require(who, Action::Read)?;
                let scenario = self.load_scenario(who, s).await?;
                let st = scenario.steps.get(step).ok_or_else(|| {
                    ServiceError::Invalid(format!(
                        "scenario `{s}` has no step {step} (it has {})",
                        scenario.steps.len()
                    ))
                })?;
                if st.connection.as_ref().map(|id| id.as_str()) != Some(c.id.as_str()) {
                    return Err(ServiceError::Invalid(format!(
                        "step {step} of scenario `{s}` does not use connection `{}`",
                        c.id
                    )));
                }
                Ok(Some(st.module.to_string()))
            }
            _ => Err(ServiceError::Invalid("send either `module`, or `scenario` with `step`".into())),
        }
    }

    /// A bound token (SECURITY T-06) may use `c` only for a named module, and only through a
    /// connection it is bound to or a step of a bound scenario that runs that module on `c`.
    async fn check_binding(&self, who: &Principal, c: &Connection, module: Option<&str>) -> ServiceResult<()> {
        let Some(binding) = &who.binding else { return Ok(()) };
        let Some(module) = module else {
            return Err(ServiceError::Forbidden(
                "this token is bound to scenarios or connections, so every use must name the module about to run: \
                 send `module` (or `scenario` with `step`), or the proxy's Patchbay-Module header"
                    .into(),
            ));
        };
        if binding.connections.contains(&c.id) {
            return Ok(());
        }
        for sid in &binding.scenarios {
            let Some(scenario) = self.store.get_scenario(&who.team_id, sid).await? else { continue };
            if scenario.steps.iter().any(|st| st.connection.as_ref() == Some(&c.id) && st.module.to_string() == module)
            {
                return Ok(());
            }
        }
        Err(ServiceError::Forbidden(format!(
            "this token is not bound to connection `{}` for `{module}`: use a token bound to a scenario whose step runs it, or to the connection",
            c.name
        )))
    }

    /// A connection whose token is usable now: refreshed (or re-obtained) first when due. Never
    /// returns an expired token. `lifecycle`: its lifecycle columns (needed for OAuth). The flag
    /// says whether a renewal was due: the credential may then have changed, and its sealed
    /// fields must be read again.
    pub(crate) async fn usable_connection(
        &self,
        who: &Principal,
        c: Connection,
        lifecycle: Option<&Lifecycle>,
        provider: &Provider,
    ) -> ServiceResult<(Connection, bool)> {
        match c.status {
            ConnectionStatus::Pending => return Err(not_connected(&c)),
            ConnectionStatus::NeedsReauth | ConnectionStatus::Revoked => {
                return Err(ServiceError::NeedsReauth(format!(
                    "connection `{}` needs reauthorization: {}",
                    c.name,
                    c.status_reason.as_deref().unwrap_or("the provider rejected its credential")
                )));
            }
            _ => {}
        }
        let now = self.clock.now();
        match provider.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic => Ok((c, false)),
            AuthMode::Oauth2ClientCredentials => {
                let due = client_credentials_due(&c, provider, now);
                let c = self.renew_client_credentials_if_due(who, c, provider).await?;
                if c.expires_at.is_some_and(|t| t <= now) {
                    return Err(ServiceError::ProviderUnavailable(format!(
                        "the token of `{}` expired and a new one could not be obtained: {}",
                        c.name,
                        c.status_reason.as_deref().unwrap_or("unknown error")
                    )));
                }
                Ok((c, due))
            }
            AuthMode::Oauth2 => {
                let lc = lifecycle.ok_or_else(|| not_found(c.id.as_str()))?;
                let due =
                    refresh_due_at(&c, lc, provider).is_some_and(|at| at <= now) || RefreshState::of(lc).is_some();
                if !due {
                    return Ok((c, false));
                }
                match self.refresh_connection(&c.team_id, &c.id, false).await {
                    Ok(fresh) => Ok((fresh, true)),
                    // A transient failure while the current token is still valid: hand that one out.
                    Err(RefreshFailed::Transient(_) | RefreshFailed::DatabaseUnavailable(_))
                        if c.expires_at.is_some_and(|t| t > now + Duration::seconds(10)) =>
                    {
                        Ok((c, true))
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}
