//! OAuth 2.0 connections (DESIGN §3.5, SECURITY O-01…O-20): starting a consent flow on create or
//! reauthorize, completing it at the callback, and client-credentials tokens.
//!
//! A flow is a database row keyed by the SHA-256 of its state (≥256 random bits), so it survives
//! a restart and completes on any node; the callback consumes it with one `DELETE … RETURNING`,
//! so a replayed or concurrent callback finds nothing and no second code exchange happens. The
//! row names the provider, team, connection and requested scopes: the code is only ever
//! exchanged at that provider's token endpoint. Every failure at the callback leaves the stored
//! credential untouched and sends the user back with an outcome they can act on.

use std::collections::BTreeMap;

use base64::Engine as _;
use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::VerifyOutcome;
use patchbay_providers::oauth::{self as client, AuthorizeParams, OAuthClient, TokenError, TokenSet};
use patchbay_store::{CredentialUpdate, FlowRow};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::audit::action;
use crate::connections::{Created, SplitSettings, not_found, requested_scopes, require, validate_return_to};
use crate::views::ConnectionView;
use crate::{Patchbay, ServiceError, ServiceResult};

/// How long a consent flow may take before its state expires.
pub const FLOW_TTL: Duration = Duration::minutes(10);

/// Body of `POST /v1/connections/{id}/reauthorize`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthorizeRequest {
    /// Modules whose scopes to add.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Scopes to add.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Accept a grant for a different account than the stored one.
    #[serde(default)]
    pub allow_account_change: bool,
    /// Same-origin path to land on afterwards.
    #[serde(default)]
    pub return_to: Option<String>,
}

/// A started consent flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeStart {
    /// Where to send the user.
    pub authorize_url: String,
    /// The connection it is for.
    pub connection: ConnectionView,
    /// Scopes requested.
    pub requested_scopes: Vec<String>,
}

/// Query of `GET /oauth/callback` (extra parameters from providers are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The state we sent.
    pub state: Option<String>,
    /// An OAuth error (`access_denied`, …).
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
    /// RFC 9207 issuer.
    pub iss: Option<String>,
}

/// Flow kinds, stored in the flow row.
mod kind {
    pub const CREATE: &str = "create";
    pub const REAUTHORIZE: &str = "reauthorize";
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn sha256_hex(text: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value that binds a consent flow to a browser session: SHA-256 (hex) of the session
/// token. The web UI passes it when starting a flow; the callback recomputes it from the cookie.
pub fn session_binding(session_token: &str) -> String {
    sha256_hex(session_token)
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The scopes a provider would grant when the reply does not say.
fn granted_or_requested(tokens: &TokenSet, requested: &ScopeSet) -> ScopeSet {
    tokens.scope.clone().unwrap_or_else(|| requested.clone())
}

impl Patchbay {
    /// The OAuth client for a connection: its own (advanced settings) or the platform's.
    pub(crate) fn oauth_client(
        &self,
        provider: &Provider,
        settings: &BTreeMap<String, String>,
        own_secret: Option<SecretString>,
    ) -> ServiceResult<OAuthClient> {
        let auth = provider.token_endpoint_auth;
        if let Some(id) = settings.get("client_id") {
            return Ok(OAuthClient { client_id: id.clone(), client_secret: own_secret, auth });
        }
        match &provider.client_id {
            Some(id) if !id.is_empty() => {
                Ok(OAuthClient { client_id: id.clone(), client_secret: provider.client_secret.clone(), auth })
            }
            _ => Err(ServiceError::Invalid(format!(
                "{} has no OAuth client configured: the operator sets its client id and secret in the provider file \
                 (usually ${{{}_CLIENT_ID}}), or you enter your own in the advanced settings",
                provider.display_name,
                provider.id.to_uppercase().replace('-', "_")
            ))),
        }
    }

    /// The connection's own client secret (advanced settings), decrypted.
    pub(crate) async fn own_client_secret(
        &self,
        team: &TeamId,
        connection: &ConnectionId,
    ) -> ServiceResult<Option<SecretString>> {
        let wanted = format!("{}client_secret", field::SETTING_PREFIX);
        let blobs: Vec<_> =
            self.store.connection_secrets(team, connection).await?.into_iter().filter(|(f, _)| *f == wanted).collect();
        if blobs.is_empty() {
            return Ok(None);
        }
        self.audit_as(team, "system", action::SECRET_READ, Some(connection), "ok", Some("own oauth client secret"))
            .await?;
        let mut opened = self.keys.open_fields(&self.store, team, connection, &blobs).await?;
        Ok(opened.remove(&wanted))
    }

    fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.config.public_url)
    }

    /// Records a flow and builds the provider's authorize URL.
    #[allow(clippy::too_many_arguments)]
    async fn start_flow(
        &self,
        actor: &str,
        connection: &Connection,
        provider: &Provider,
        client_id: &str,
        scopes: &ScopeSet,
        flow_kind: &str,
        binding: Option<String>,
        allow_account_change: bool,
        return_to: Option<String>,
    ) -> ServiceResult<String> {
        let now = self.clock.now();
        let state = random_text(32);
        let verifier = provider.pkce.then(|| SecretString::from(random_text(32)));
        let sealed_verifier = match &verifier {
            Some(v) => {
                let fields = [(field::PKCE_VERIFIER.to_owned(), v)];
                let mut sealed =
                    self.keys.seal_fields(&self.store, &connection.team_id, &connection.id, &fields, now).await?;
                sealed.pop().map(|(_, blob)| blob)
            }
            None => None,
        };
        let redirect_uri = self.redirect_uri();
        let url = client::authorize_url(
            provider,
            &connection.settings,
            &AuthorizeParams {
                client_id,
                redirect_uri: &redirect_uri,
                scopes,
                state: &state,
                pkce_verifier: verifier.as_ref().map(|v| v.expose_secret()),
                // Incremental providers (Google) keep earlier grants only when asked to.
                extra: if flow_kind == kind::REAUTHORIZE && provider.incremental_authorization {
                    &[("include_granted_scopes", "true")]
                } else {
                    &[]
                },
            },
        )
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let _ = self.store.purge_expired_flows(now).await;
        self.store
            .insert_flow(&FlowRow {
                state_hash: sha256_hex(&state),
                team_id: connection.team_id.clone(),
                connection_id: connection.id.clone(),
                provider: provider.id.clone(),
                kind: flow_kind.to_owned(),
                requested_scopes: scopes.clone(),
                redirect_uri,
                pkce_verifier: sealed_verifier,
                binding,
                allow_account_change,
                actor: actor.to_owned(),
                return_to,
                created_at: now,
                expires_at: now + FLOW_TTL,
            })
            .await?;
        Ok(url.to_string())
    }

    /// Creates a `pending` OAuth connection and starts its consent flow.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create_oauth(
        &self,
        who: &Principal,
        provider: &Provider,
        name: Option<String>,
        settings: SplitSettings,
        scopes: ScopeSet,
        binding: Option<String>,
        return_to: Option<String>,
    ) -> ServiceResult<Created> {
        let client = self.oauth_client(provider, &settings.clear, settings.secret_value("client_secret").cloned())?;
        let now = self.clock.now();
        let reason = format!("waiting for consent at {}", provider.display_name);
        let connection =
            self.new_connection(who, provider, settings.clear.clone(), ConnectionStatus::Pending, Some(reason), now);
        let connection = self.insert_new_connection(who, provider, name, connection, Vec::new(), &settings).await?;
        let url = self
            .start_flow(
                &who.actor.label(),
                &connection,
                provider,
                &client.client_id,
                &scopes,
                kind::CREATE,
                binding,
                false,
                return_to,
            )
            .await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: Some(url) })
    }

    /// Starts a new consent flow for an existing connection (same id, name, settings and
    /// scenario bindings), asking for at least the scopes already granted plus any asked for.
    pub async fn reauthorize_connection(
        &self,
        who: &Principal,
        id: &str,
        req: ReauthorizeRequest,
        binding: Option<String>,
    ) -> ServiceResult<AuthorizeStart> {
        require(who, Action::Manage)?;
        let connection = self.load(who, id).await?;
        let provider = self.provider(&connection.provider)?;
        if provider.auth_mode != AuthMode::Oauth2 {
            return Err(ServiceError::Invalid(format!(
                "{} uses {}: there is no consent flow to run; verify the connection, or delete it and create it again with a new credential",
                provider.display_name,
                provider.auth_mode.as_str()
            )));
        }
        let return_to = req.return_to.as_deref().map(validate_return_to).transpose()?;
        let asked = requested_scopes(&provider, &req.modules, &req.scopes)?;
        let scopes = connection.granted_scopes.union(&asked);
        self.keys.require_unsealed()?;
        let own_secret = self.own_client_secret(&connection.team_id, &connection.id).await?;
        let client = self.oauth_client(&provider, &connection.settings, own_secret)?;
        let url = self
            .start_flow(
                &who.actor.label(),
                &connection,
                &provider,
                &client.client_id,
                &scopes,
                kind::REAUTHORIZE,
                binding,
                req.allow_account_change,
                return_to,
            )
            .await?;
        let detail = format!("scopes={}", scopes.join(" "));
        self.audit(who, action::CONNECTION_REAUTHORIZE, Some(&connection.id), "started", Some(&detail)).await?;
        Ok(AuthorizeStart {
            authorize_url: url,
            connection: self.view(&connection).await?,
            requested_scopes: scopes.iter().map(str::to_owned).collect(),
        })
    }

    /// Completes a consent flow at `GET /oauth/callback`. Returns where to send the browser;
    /// an error means the request itself is invalid (unknown, expired or replayed state, wrong
    /// issuer, another browser) and nothing was sent to the provider.
    pub async fn complete_callback(&self, q: CallbackQuery, browser_binding: Option<String>) -> ServiceResult<String> {
        let state = q.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 512).ok_or_else(|| {
            ServiceError::Invalid("the callback has no valid `state`: start the connection again from Patchbay".into())
        })?;
        // Sealed: answer before consuming the flow, so the user can retry once the key is back.
        self.keys.require_unsealed()?;
        let flow = self.store.take_flow(&sha256_hex(state)).await?.ok_or_else(|| {
            ServiceError::Invalid(
                "this authorization is unknown, expired or was already used: start again from the connection's page"
                    .into(),
            )
        })?;
        let now = self.clock.now();
        if flow.expires_at < now {
            return Err(ServiceError::Invalid(
                "this authorization expired (it must complete within 10 minutes): start again from the connection's page".into(),
            ));
        }
        let provider = self.catalog.get(&flow.provider).cloned().ok_or_else(|| {
            ServiceError::Invalid(format!("provider `{}` is no longer in the catalog", flow.provider))
        })?;
        if let Some(issuer) = &provider.issuer
            && q.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(ServiceError::Invalid(format!(
                "the callback's issuer does not match {} (RFC 9207 mix-up protection): the authorization was refused; start again",
                provider.display_name
            )));
        }
        if flow.binding.is_some() && flow.binding != browser_binding {
            return Err(ServiceError::Invalid(
                "this authorization was started in another browser session: sign in to Patchbay in this browser and start again".into(),
            ));
        }
        let Some(connection) = self.store.get_connection(&flow.team_id, &flow.connection_id).await? else {
            return Err(ServiceError::Invalid(
                "the connection was deleted while its authorization was in progress".into(),
            ));
        };
        let audit_action =
            if flow.kind == kind::REAUTHORIZE { action::CONNECTION_REAUTHORIZE } else { action::CONNECTION_AUTHORIZE };
        if let Some(error) = q.error.as_deref() {
            let (reason, outcome) = if error == "access_denied" {
                (format!("access denied at {}", provider.display_name), "denied")
            } else {
                let desc = q.error_description.as_deref().map(|d| format!(": {}", short(d))).unwrap_or_default();
                (format!("{} answered `{}`{desc}", provider.display_name, short(error)), "error")
            };
            return self.flow_failed(&flow, &connection, audit_action, reason, outcome, now).await;
        }
        let Some(code) = q.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 4096) else {
            let reason = format!("{} sent no authorization code", provider.display_name);
            return self.flow_failed(&flow, &connection, audit_action, reason, "error", now).await;
        };

        let own_secret = self.own_client_secret(&flow.team_id, &connection.id).await?;
        let oauth_client = self.oauth_client(&provider, &connection.settings, own_secret)?;
        let verifier = match &flow.pkce_verifier {
            Some(blob) => {
                let detail = Some("pkce verifier");
                self.audit_as(&flow.team_id, &flow.actor, action::SECRET_READ, Some(&connection.id), "ok", detail)
                    .await?;
                let blobs = [(field::PKCE_VERIFIER.to_owned(), blob.clone())];
                self.keys
                    .open_fields(&self.store, &flow.team_id, &connection.id, &blobs)
                    .await?
                    .remove(field::PKCE_VERIFIER)
            }
            None => None,
        };
        let tokens = match client::exchange_code(
            &self.http,
            &provider,
            &connection.settings,
            &oauth_client,
            code,
            &flow.redirect_uri,
            verifier.as_ref(),
        )
        .await
        {
            Ok(t) => t,
            Err(e) => {
                let reason = format!("the token exchange failed: {e}");
                return self.flow_failed(&flow, &connection, audit_action, reason, "error", now).await;
            }
        };
        let granted = granted_or_requested(&tokens, &flow.requested_scopes);
        let credential = Credential::OAuth2 {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
        };
        let last_verify = self.verify_with(&provider, &connection.settings, &credential, now).await;
        let account = last_verify.as_ref().and_then(|v| v.account.clone());

        if flow.kind == kind::REAUTHORIZE
            && !flow.allow_account_change
            && let (Some(stored), Some(new)) = (&connection.account, &account)
            && stored != new
        {
            let reason = format!(
                "{} granted access for {new}, but this connection is for {stored}: nothing was changed. Reauthorize as {stored}, or allow the account change",
                provider.display_name
            );
            self.audit_as(
                &flow.team_id,
                &flow.actor,
                audit_action,
                Some(&connection.id),
                "account_mismatch",
                Some(&reason),
            )
            .await?;
            self.revoke_unused_grant(&provider, &connection.settings, &oauth_client, &tokens).await;
            return Ok(self.landing(&flow, &connection, "account_mismatch"));
        }

        self.store_grant(
            &flow.team_id,
            &connection,
            &provider,
            &tokens,
            &granted,
            account.as_deref(),
            last_verify.as_ref(),
            now,
        )
        .await?;
        self.audit_as(
            &flow.team_id,
            &flow.actor,
            audit_action,
            Some(&connection.id),
            "ok",
            Some(&format!("scopes={}", granted.join(" "))),
        )
        .await?;
        tracing::info!(connection_id = %connection.id, provider = %provider.id, "consent flow completed");
        if let Some(stored) = self.store.get_connection(&flow.team_id, &connection.id).await? {
            let event = if flow.kind == kind::REAUTHORIZE {
                crate::events::kind::REAUTHORIZED
            } else {
                crate::events::kind::CREATED
            };
            self.emit(&stored, event, serde_json::json!({"account": account, "scopes": granted.join(" ")})).await;
        }
        Ok(self.landing(&flow, &connection, "connected"))
    }

    /// Where the browser lands after a callback: the connection's page (or the flow's
    /// `return_to`) with an outcome word the page renders as a fixed banner.
    fn landing(&self, flow: &FlowRow, connection: &Connection, outcome: &str) -> String {
        let path = flow.return_to.clone().unwrap_or_else(|| format!("/connections/{}", connection.id));
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}outcome={outcome}", self.config.public_url)
    }

    /// Records a failed callback. Only a connection that never had a grant shows the failure
    /// as its status; a working connection keeps working and the outcome is reported on the
    /// landing page.
    async fn flow_failed(
        &self,
        flow: &FlowRow,
        connection: &Connection,
        audit_action: &str,
        reason: String,
        outcome: &str,
        now: OffsetDateTime,
    ) -> ServiceResult<String> {
        if connection.status == ConnectionStatus::Pending {
            self.store.set_status(&flow.team_id, &connection.id, ConnectionStatus::Pending, Some(&reason), now).await?;
        }
        self.audit_as(&flow.team_id, &flow.actor, audit_action, Some(&connection.id), outcome, Some(&reason)).await?;
        Ok(self.landing(flow, connection, outcome))
    }

    /// Seals a new token pair and replaces the connection's credential atomically.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn store_grant(
        &self,
        team: &TeamId,
        connection: &Connection,
        provider: &Provider,
        tokens: &TokenSet,
        granted: &ScopeSet,
        account: Option<&str>,
        last_verify: Option<&VerifyResult>,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        let mut fields = vec![(field::ACCESS_TOKEN.to_owned(), &tokens.access_token)];
        if let Some(r) = &tokens.refresh_token {
            fields.push((field::REFRESH_TOKEN.to_owned(), r));
        }
        let sealed = self.keys.seal_fields(&self.store, team, &connection.id, &fields, now).await?;
        let remove: &[&str] = if tokens.refresh_token.is_none() { &[field::REFRESH_TOKEN] } else { &[] };
        let fingerprint = self.keys.fingerprint(&self.store, team, &connection.id, &tokens.access_token, now).await?;
        let updated = self
            .store
            .replace_credential(
                team,
                &connection.id,
                &CredentialUpdate {
                    secrets: &sealed,
                    remove_fields: remove,
                    status: ConnectionStatus::Active,
                    status_reason: None,
                    account,
                    granted_scopes: granted,
                    expires_at: tokens.expires_in.map(|s| now + Duration::seconds(s)),
                    reauthorize_by: provider.grant_lifetime.map(|l| now + Duration::seconds(l.seconds)),
                    last_verify,
                    fingerprint: &fingerprint,
                    now,
                },
            )
            .await?;
        if !updated {
            return Err(not_found(connection.id.as_str()));
        }
        // A new grant: fence out refreshes of the old one and schedule the next action.
        let stored =
            self.store.get_connection(team, &connection.id).await?.ok_or_else(|| not_found(connection.id.as_str()))?;
        self.start_lifecycle(&stored, provider, now).await?;
        Ok(())
    }

    /// Calls the provider's verify endpoint with a fresh credential; `None` when it has none.
    pub(crate) async fn verify_with(
        &self,
        provider: &Provider,
        settings: &BTreeMap<String, String>,
        credential: &Credential,
        now: OffsetDateTime,
    ) -> Option<VerifyResult> {
        provider.verify.as_ref()?;
        Some(match patchbay_providers::verify_credential(&self.http, provider, settings, credential).await {
            VerifyOutcome::Ok { account } => VerifyResult { ok: true, account, checked_at: now, error: None },
            VerifyOutcome::Rejected { message, .. } | VerifyOutcome::Failed { message } => {
                VerifyResult { ok: false, account: None, checked_at: now, error: Some(message) }
            }
        })
    }

    /// Best-effort revocation of tokens we will not keep (an account mismatch on reauthorize).
    async fn revoke_unused_grant(
        &self,
        provider: &Provider,
        settings: &BTreeMap<String, String>,
        oauth: &OAuthClient,
        tokens: &TokenSet,
    ) {
        if provider.revocation_url.is_none() {
            return;
        }
        if let Some(r) = &tokens.refresh_token {
            let _ = client::revoke(&self.http, provider, settings, oauth, r, "refresh_token").await;
        }
        let _ = client::revoke(&self.http, provider, settings, oauth, &tokens.access_token, "access_token").await;
    }

    /// Creates a client-credentials connection: the token is obtained first, nothing is stored
    /// when the provider refuses.
    pub(crate) async fn create_client_credentials(
        &self,
        who: &Principal,
        provider: &Provider,
        name: Option<String>,
        settings: SplitSettings,
        scopes: ScopeSet,
    ) -> ServiceResult<Created> {
        let oauth = self.oauth_client(provider, &settings.clear, settings.secret_value("client_secret").cloned())?;
        let tokens = client::client_credentials(&self.http, provider, &settings.clear, &oauth, &scopes)
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
            granted_scopes: granted_or_requested(&tokens, &scopes),
            expires_at: tokens.expires_in.map(|s| now + Duration::seconds(s)),
            credential_fingerprint: Some(fingerprint),
            last_verify,
            ..connection
        };
        let fields = vec![(field::ACCESS_TOKEN.to_owned(), tokens.access_token.clone())];
        let connection = self.insert_new_connection(who, provider, name, connection, fields, &settings).await?;
        Ok(Created { connection: self.view(&connection).await?, authorize_url: None })
    }

    /// Re-obtains a client-credentials token when it has expired or is about to (within a
    /// minute). Returns the connection as stored afterwards.
    pub(crate) async fn renew_client_credentials_if_due(
        &self,
        who: &Principal,
        connection: Connection,
        provider: &Provider,
    ) -> ServiceResult<Connection> {
        let now = self.clock.now();
        let due = provider.auth_mode == AuthMode::Oauth2ClientCredentials
            && connection.expires_at.is_some_and(|t| t <= now + Duration::minutes(1));
        if !due {
            return Ok(connection);
        }
        let own_secret = self.own_client_secret(&connection.team_id, &connection.id).await?;
        let oauth = self.oauth_client(provider, &connection.settings, own_secret)?;
        match client::client_credentials(&self.http, provider, &connection.settings, &oauth, &connection.granted_scopes)
            .await
        {
            Ok(tokens) => {
                let granted = granted_or_requested(&tokens, &connection.granted_scopes);
                self.store_grant(&connection.team_id, &connection, provider, &tokens, &granted, None, None, now)
                    .await?;
                self.audit(who, action::CONNECTION_REFRESH, Some(&connection.id), "ok", Some("client_credentials"))
                    .await?;
            }
            Err(e) => {
                let (status, outcome) = if e.is_terminal() {
                    (ConnectionStatus::NeedsReauth, "failed")
                } else {
                    (ConnectionStatus::Degraded, "retry")
                };
                let reason = format!("could not obtain a new token: {e}");
                self.store.set_status(&connection.team_id, &connection.id, status, Some(&reason), now).await?;
                self.audit(who, action::CONNECTION_REFRESH, Some(&connection.id), outcome, Some(&reason)).await?;
            }
        }
        self.store
            .get_connection(&connection.team_id, &connection.id)
            .await?
            .ok_or_else(|| not_found(connection.id.as_str()))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_stable_digests() {
        assert_eq!(session_binding("abc"), session_binding("abc"));
        assert_ne!(session_binding("abc"), session_binding("abd"));
        assert_eq!(session_binding("abc").len(), 64);
    }
}
