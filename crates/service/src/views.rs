//! What the API, CLI and UI show: metadata views of connections and providers.
//!
//! These are the only shapes that leave the service for list/get, and they are built from metadata
//! alone — no field here is ever filled from a decrypted credential (docs/security.md S-06). A
//! credential is shown as its kind, "set", and a short keyed fingerprint.

use std::collections::BTreeMap;

use patchbay_domain::connection::{AuthorizationOutcome, Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::credential::field;
use patchbay_domain::end_user::EndUser;
use patchbay_domain::provider::{AuthMode, Category, Provider};
use patchbay_domain::scope::ScopeSet;
use patchbay_store::Usage;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

pub use crate::provider_endpoints::{ClientView, EndpointsView};
use crate::words::word_enum;

/// A granted or requested scope with the provider's description.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScopeView {
    /// Scope name.
    pub scope: String,
    /// Human description from the provider file.
    pub description: Option<String>,
}

word_enum! {
    /// A connection's auth mode as shown: its provider's, or `unknown` when the provider's file
    /// left the catalog.
    pub enum AuthModeView {
        /// OAuth 2.0 authorization code grant.
        Oauth2 = "oauth2",
        /// OAuth 2.0 client credentials grant.
        Oauth2ClientCredentials = "oauth2_client_credentials",
        /// A static API key.
        ApiKey = "api_key",
        /// HTTP basic authentication.
        Basic = "basic",
        /// The provider is no longer in the catalog.
        Unknown = "unknown",
    }
}

impl From<AuthMode> for AuthModeView {
    fn from(mode: AuthMode) -> Self {
        match mode {
            AuthMode::Oauth2 => AuthModeView::Oauth2,
            AuthMode::Oauth2ClientCredentials => AuthModeView::Oauth2ClientCredentials,
            AuthMode::ApiKey => AuthModeView::ApiKey,
            AuthMode::Basic => AuthModeView::Basic,
        }
    }
}

word_enum! {
    /// What kind of credential a connection holds.
    pub enum CredentialKind {
        /// An API key.
        ApiKey = "api_key",
        /// A username and password.
        Basic = "basic",
        /// OAuth 2.0 tokens (either grant).
        Oauth2 = "oauth2",
        /// The provider is no longer in the catalog.
        Unknown = "unknown",
    }
}

word_enum! {
    /// Whether a connection's secret is stored.
    pub enum CredentialState {
        /// A secret is stored (encrypted).
        Set = "set",
        /// Nothing stored yet (an OAuth connection before consent).
        NotSet = "not_set",
    }
}

/// How the stored credential looks from outside: never its value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialView {
    /// `api_key`, `basic` or `oauth2`.
    pub kind: CredentialKind,
    /// `set` when a secret is stored.
    pub state: CredentialState,
    /// Short keyed fingerprint to tell credentials apart.
    pub fingerprint: Option<String>,
}

/// One scenario step that uses a connection.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageView {
    /// Scenario id.
    pub scenario: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Step index.
    pub step: usize,
    /// Module (`provider.module`).
    pub module: String,
}

impl From<&Usage> for UsageView {
    fn from(u: &Usage) -> Self {
        UsageView {
            scenario: u.scenario_id.to_string(),
            scenario_name: u.scenario_name.clone(),
            step: u.position,
            module: u.module.to_string(),
        }
    }
}

/// A connection as returned by list/get.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionView {
    /// Id (`con_…`).
    pub id: String,
    /// Name, unique in the team.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Provider display name.
    pub provider_name: String,
    /// Provider auth mode (`unknown` when the provider left the catalog).
    pub auth_mode: AuthModeView,
    /// `pending`, `active`, `degraded`, `needs_reauth`, `revoked`.
    pub status: ConnectionStatus,
    /// `true` for an API-key or basic connection saved with `verify: false` and not checked
    /// since: its status is `active`, but the provider has not confirmed the credential yet.
    pub unverified: bool,
    /// Why the status is what it is.
    pub status_reason: Option<String>,
    /// "Connected as".
    pub account: Option<String>,
    /// Granted scopes with descriptions.
    pub granted_scopes: Vec<ScopeView>,
    /// Scopes the connection needs: the provider's defaults, the scopes of the modules of the
    /// scenario steps using it, and `requested_scopes`.
    pub required_scopes: Vec<String>,
    /// Scopes asked for (at creation, or extending a connection that has no grant yet) that no
    /// grant has covered yet: kept across a denied or abandoned consent, asked for again by the
    /// next reauthorize, and cleared by a grant that covers them.
    pub requested_scopes: Vec<String>,
    /// Required but not granted.
    pub missing_scopes: Vec<String>,
    /// Granted but not required by any step (candidates to drop on the next reauthorize).
    pub unused_scopes: Vec<String>,
    /// The provider cannot limit access: the connection holds every scope.
    pub full_access: bool,
    /// Access token expiry.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// When the grant itself expires.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reauthorize_by: Option<OffsetDateTime>,
    /// Time of the last successful verify.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_verified_at: Option<OffsetDateTime>,
    /// Last verify outcome.
    #[schema(value_type = Option<Object>)]
    pub last_verify: Option<VerifyResult>,
    /// Outcome of the last consent callback: `{outcome, reason, at}`; `reason` says why a
    /// reauthorize did not replace the credential and how to retry.
    #[schema(value_type = Option<Object>)]
    pub last_authorization: Option<AuthorizationOutcome>,
    /// Scenario steps using it.
    pub used_by: Vec<UsageView>,
    /// Non-secret advanced settings.
    pub settings: BTreeMap<String, String>,
    /// Secret advanced settings that are set (names only).
    pub secret_settings: Vec<String>,
    /// What the provider said about the grant (Salesforce `instance_url`, QuickBooks
    /// `realm_id`, Slack's team): non-secret, from the token reply, the callback or the
    /// provider's follow-up call; usable as `{key}` like a setting.
    pub metadata: BTreeMap<String, String>,
    /// The credential, described.
    pub credential: CredentialView,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// The platform's end user it was made for (a connect session), if any.
    pub end_user: Option<EndUser>,
}

impl ConnectionView {
    /// Builds the view of a connection; `provider` is `None` when its file was removed from the
    /// catalog (the connection is still listed, so it can be deleted).
    pub fn new(c: &Connection, provider: Option<&Provider>, secret_settings: Vec<String>) -> Self {
        let describe = |scope: &str| provider.and_then(|p| p.scopes.get(scope).cloned());
        let auth_mode = provider.map(|p| p.auth_mode);
        ConnectionView {
            id: c.id.to_string(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            provider_name: provider.map_or_else(|| c.provider.clone(), |p| p.display_name.clone()),
            auth_mode: auth_mode.map_or(AuthModeView::Unknown, AuthModeView::from),
            status: c.status,
            unverified: matches!(auth_mode, Some(AuthMode::ApiKey | AuthMode::Basic))
                && c.status == ConnectionStatus::Active
                && c.last_verify.is_none(),
            status_reason: c.status_reason.clone(),
            account: c.account.clone(),
            granted_scopes: c
                .granted_scopes
                .iter()
                .map(|s| ScopeView { scope: s.to_owned(), description: describe(s) })
                .collect(),
            required_scopes: Vec::new(),
            requested_scopes: Vec::new(),
            missing_scopes: Vec::new(),
            unused_scopes: Vec::new(),
            full_access: provider.is_some_and(|p| !p.granular_scopes && p.auth_mode.is_oauth()),
            expires_at: c.expires_at,
            reauthorize_by: c.reauthorize_by,
            last_verified_at: c.last_verify.as_ref().filter(|v| v.ok).map(|v| v.checked_at),
            last_verify: c.last_verify.clone(),
            last_authorization: c.last_authorization.clone(),
            used_by: Vec::new(),
            settings: c.settings.clone(),
            secret_settings,
            metadata: c.metadata.clone(),
            credential: CredentialView {
                kind: match auth_mode {
                    Some(AuthMode::ApiKey) => CredentialKind::ApiKey,
                    Some(AuthMode::Basic) => CredentialKind::Basic,
                    Some(AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials) => CredentialKind::Oauth2,
                    None => CredentialKind::Unknown,
                },
                state: if c.credential_fingerprint.is_some() { CredentialState::Set } else { CredentialState::NotSet },
                fingerprint: c.credential_fingerprint.clone(),
            },
            created_at: c.created_at,
            updated_at: c.updated_at,
            end_user: c.end_user.clone(),
        }
    }
}

impl ConnectionView {
    /// Fills `required_scopes`, `requested_scopes`, `missing_scopes`, `unused_scopes` and
    /// `used_by` from the scenario steps bound to this connection. Required = the provider's
    /// default scopes, the scopes of every module those steps run, and the scopes it was asked
    /// for that no grant covered yet; API-key and basic connections have no scopes to miss.
    pub fn with_usages(mut self, provider: Option<&Provider>, c: &Connection, usages: &[Usage]) -> Self {
        self.used_by = usages.iter().filter(|u| u.connection_id == c.id).map(UsageView::from).collect();
        let Some(p) = provider.filter(|p| p.auth_mode.is_oauth()) else { return self };
        let required = required_scopes(p, self.used_by.iter().map(|u| u.module.as_str())).union(&c.requested_scopes);
        self.requested_scopes = c.requested_scopes.iter().map(str::to_owned).collect();
        self.missing_scopes = required.difference(&c.granted_scopes).iter().map(str::to_owned).collect();
        self.unused_scopes = c.granted_scopes.difference(&required).iter().map(str::to_owned).collect();
        self.required_scopes = required.iter().map(str::to_owned).collect();
        self
    }
}

/// The scopes a connection of `provider` needs to run `modules` (`provider.module` strings):
/// the default scopes plus each module's. Unknown modules add nothing.
pub fn required_scopes<'a>(provider: &Provider, modules: impl IntoIterator<Item = &'a str>) -> ScopeSet {
    let mut set: ScopeSet = provider.default_scopes.iter().map(String::as_str).collect();
    for m in modules {
        if let Some(module) = m.strip_prefix(&format!("{}.", provider.id)).and_then(|id| provider.modules.get(id)) {
            set = set.union(&module.scopes.iter().map(String::as_str).collect());
        }
    }
    set
}

/// Names of secret settings stored for a connection, from its secret field names.
pub fn secret_setting_names(fields: &[String]) -> Vec<String> {
    fields.iter().filter_map(|f| f.strip_prefix(field::SETTING_PREFIX).map(str::to_owned)).collect()
}

/// A form field of the Add connection form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldView {
    /// Key to send in `credentials` or `settings`.
    pub key: String,
    /// Label.
    pub label: String,
    /// Whether it is secret (a password input; never echoed back).
    pub secret: bool,
    /// Whether it must be filled.
    pub required: bool,
    /// Help text.
    pub help: Option<String>,
    /// Placeholder example.
    pub placeholder: Option<String>,
    /// Value used when the connection gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The values it takes (only these, unless `free_text`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<ChoiceView>,
    /// Other values than `choices` are accepted too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub free_text: bool,
}

/// One value a setting may take.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChoiceView {
    /// The value to send.
    pub value: String,
    /// What it means.
    pub label: String,
}

/// A module with its scopes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModuleView {
    /// `provider.module`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes it needs.
    pub scopes: Vec<String>,
}

/// A provider as the catalog endpoints show it (no client secret, ever).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Auth mode.
    pub auth_mode: AuthMode,
    /// One-line description.
    pub description: Option<String>,
    /// What kind of service it is (the picker's groups); `other` when the file names none.
    pub category: Category,
    /// API docs.
    pub docs_url: Option<String>,
    /// Whether scopes can be limited.
    pub granular_scopes: bool,
    /// Scopes with descriptions.
    pub scopes: Vec<ScopeView>,
    /// Default scopes.
    pub default_scopes: Vec<String>,
    /// Modules.
    pub modules: Vec<ModuleView>,
    /// Credential form fields (API key or username/password).
    pub credential_fields: Vec<FieldView>,
    /// Advanced settings.
    pub settings: Vec<FieldView>,
    /// Grant lifetime, e.g. `60d`.
    pub grant_lifetime: Option<String>,
    /// Whether it has a revocation endpoint.
    pub supports_revocation: bool,
    /// Where Patchbay cannot limit what a credential may do (no granular scopes, or an API key
    /// or password): how to restrict it on the service's side, in the service's own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_advice: Option<AccessAdviceView>,
    /// The URLs its connections call (templates as written in the file).
    pub endpoints: EndpointsView,
    /// For OAuth providers: whether the platform's client is configured, and by which variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientView>,
    /// Set for a provider the team discovered from a URL (`POST /v1/providers/discover`); absent
    /// for the catalog's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered: Option<DiscoveredView>,
}

/// Where and when a team provider was discovered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiscoveredView {
    /// The URL it was discovered from.
    pub source_url: String,
    /// When it was (last) discovered.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub discovered_at: OffsetDateTime,
    /// Whether Patchbay registered its OAuth client (RFC 7591) rather than the user giving one.
    pub registered_client: bool,
}

impl ProviderView {
    /// Builds the public view of a provider.
    pub fn new(p: &Provider) -> Self {
        let credential_fields = match p.auth_mode {
            AuthMode::ApiKey => {
                let placement = p.api_key.as_ref();
                vec![FieldView {
                    key: field::API_KEY.into(),
                    label: placement.map_or_else(|| "API key".to_owned(), |k| k.label.clone()),
                    secret: true,
                    required: true,
                    help: placement.and_then(|k| k.help.clone()),
                    placeholder: None,
                    default: None,
                    choices: Vec::new(),
                    free_text: false,
                }]
            }
            AuthMode::Basic => {
                let form = p.basic_form();
                let mut fields = Vec::new();
                if form.fixed_username.is_none() {
                    fields.push(FieldView {
                        key: field::USERNAME.into(),
                        label: form.username_label.clone(),
                        secret: false,
                        required: true,
                        help: None,
                        placeholder: None,
                        default: None,
                        choices: Vec::new(),
                        free_text: false,
                    });
                }
                fields.push(FieldView {
                    key: field::PASSWORD.into(),
                    label: form.password_label.clone(),
                    secret: true,
                    required: true,
                    help: form.help.clone(),
                    placeholder: None,
                    default: None,
                    choices: Vec::new(),
                    free_text: false,
                });
                fields
            }
            AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Vec::new(),
        };
        ProviderView {
            id: p.id.clone(),
            display_name: p.display_name.clone(),
            auth_mode: p.auth_mode,
            description: p.description.clone(),
            category: p.category.unwrap_or(Category::Other),
            docs_url: p.docs_url.clone(),
            granular_scopes: p.granular_scopes,
            scopes: p
                .scopes
                .iter()
                .map(|(s, d)| ScopeView { scope: s.clone(), description: Some(d.clone()) })
                .collect(),
            default_scopes: p.default_scopes.clone(),
            modules: p
                .modules
                .iter()
                .map(|(id, m)| ModuleView {
                    id: format!("{}.{id}", p.id),
                    name: m.name.clone(),
                    scopes: m.scopes.clone(),
                })
                .collect(),
            credential_fields,
            settings: p
                .settings
                .iter()
                .map(|s| FieldView {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    secret: s.secret,
                    required: s.required,
                    help: s.help.clone(),
                    placeholder: s.placeholder.clone(),
                    default: s.default.clone(),
                    choices: s
                        .choices
                        .iter()
                        .map(|c| ChoiceView { value: c.value.clone(), label: c.label.clone() })
                        .collect(),
                    free_text: s.free_text,
                })
                .collect(),
            grant_lifetime: p.grant_lifetime.map(String::from),
            supports_revocation: p.revokes(),
            access_advice: p
                .access_advice
                .as_ref()
                .map(|a| AccessAdviceView { text: a.text.clone(), url: a.url.clone() }),
            endpoints: EndpointsView::new(p),
            client: ClientView::new(p),
            discovered: None,
        }
    }

    /// Whether Patchbay cannot narrow what a connection may do: an OAuth provider without
    /// granular scopes, or a credential (API key, password) whose rights the service decides.
    pub fn full_access(&self) -> bool {
        match self.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic => true,
            AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => !self.granular_scopes,
        }
    }
}

/// A provider's advice on restricting access on its side.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessAdviceView {
    /// One or two plain sentences.
    pub text: String,
    /// The service's page that explains it.
    pub url: String,
}
