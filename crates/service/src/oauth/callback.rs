//! Completing a consent flow at `GET /oauth/callback`, in three named steps:
//! [`validate_callback`](Patchbay::complete_callback) (consume the flow, check issuer and browser)
//! → `exchange` (the provider's error or code, PKCE, the code exchange) → `apply_grant` (verify,
//! account pinning, store the grant and revoke the superseded one, audit, events). Every
//! failure after the flow is consumed leaves the stored credential untouched and sends the user
//! back with a [`CallbackOutcome`]: the answer is a [`Landing`], and the server turns it into the
//! page's address.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_domain::connection::{AuthorizationOutcome, Connection, ConnectionStatus};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::ConnectionId;
use patchbay_domain::provider::{Provider, RevocationScope};
use patchbay_domain::random;
use patchbay_providers::oauth::{self as client, OAuthClient, RevokeOutcome, TokenSet};
use patchbay_store::FlowRow;
use serde::Deserialize;
use time::OffsetDateTime;

use super::outcome::CallbackOutcome;
use super::pin::{self, PinRefusal};
use super::start::FlowKind;
use crate::audit::{AuditAction, AuditOutcome, action};
use crate::events::kind;
use crate::lifecycle::{Grant, granted_or_requested};
use crate::{Patchbay, ServiceError, ServiceResult};

/// Where a completed callback sends the browser: the connection and how its flow ended, and the
/// same-origin path the flow was started with (`None`: the connection's own page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landing {
    /// The connection the flow was for.
    pub connection: ConnectionId,
    /// How it ended.
    pub outcome: CallbackOutcome,
    /// The flow's validated `return_to`.
    pub return_to: Option<String>,
}

/// Query of `GET /oauth/callback`.
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
    /// Every other parameter: a provider's `callback_params` are read from here (QuickBooks
    /// `realmId`); the rest are ignored.
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

impl CallbackQuery {
    /// Every parameter of the callback, as a provider that signs its callback signed it.
    fn all_params(&self) -> BTreeMap<String, String> {
        let mut all = self.extra.clone();
        let named = [
            ("code", &self.code),
            ("state", &self.state),
            ("error", &self.error),
            ("error_description", &self.error_description),
            ("iss", &self.iss),
        ];
        for (name, value) in named {
            if let Some(v) = value {
                all.insert(name.to_owned(), v.clone());
            }
        }
        all
    }
}

/// A consumed flow that passed every check of the request itself.
struct OpenFlow {
    flow: FlowRow,
    kind: FlowKind,
    provider: Arc<Provider>,
    connection: Connection,
    /// `connection.authorize` or `connection.reauthorize`.
    audit_action: AuditAction,
    now: OffsetDateTime,
}

/// What the provider gave back: tokens, or a failure to report on the landing page.
enum Exchanged {
    Tokens { tokens: TokenSet, client: OAuthClient, metadata: BTreeMap<String, String> },
    Failed { reason: String, outcome: CallbackOutcome },
}

/// Where the browser lands after a callback: the flow's connection and `return_to`, and how it ended.
fn landing(flow: &FlowRow, connection: &Connection, outcome: CallbackOutcome) -> Landing {
    Landing { connection: connection.id.clone(), outcome, return_to: flow.return_to.clone() }
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

impl Patchbay {
    /// Completes a consent flow at `GET /oauth/callback`. Returns where to send the browser;
    /// an error means the request itself is invalid (unknown, expired or replayed state, wrong
    /// issuer, another browser) and nothing was sent to the provider. `browser_bindings`: the
    /// bindings of the browser's sessions (its web session, its connect page), any of which may
    /// have started the flow.
    pub async fn complete_callback(&self, q: CallbackQuery, browser_bindings: &[String]) -> ServiceResult<Landing> {
        let open = self.validate_callback(&q, browser_bindings).await?;
        match self.exchange(&q, &open).await? {
            Exchanged::Tokens { tokens, client, metadata } => self.apply_grant(&open, &client, tokens, metadata).await,
            Exchanged::Failed { reason, outcome } => self.flow_failed(&open, reason, outcome).await,
        }
    }

    /// Consumes the flow named by `state` (once: a replay finds nothing) and checks the request:
    /// not expired, the provider's issuer, the browser that started it, the connection still there.
    async fn validate_callback(&self, q: &CallbackQuery, browser_bindings: &[String]) -> ServiceResult<OpenFlow> {
        let state = q.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 512).ok_or_else(|| {
            ServiceError::Invalid("the callback has no valid `state`: start the connection again from Patchbay".into())
        })?;
        // Sealed: answer before consuming the flow, so the user can retry once the key is back.
        self.keys.require_unsealed()?;
        let flow = self.store.take_flow(&random::sha256_hex(state)).await?.ok_or_else(|| {
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
        let provider = self.find_provider(&flow.team_id, &flow.provider).await?.ok_or_else(|| {
            ServiceError::Invalid(format!("provider `{}` is no longer in the catalog", flow.provider))
        })?;
        if let Some(issuer) = self.required_issuer(&provider).await
            && q.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(ServiceError::Invalid(format!(
                "the callback's issuer does not match {} (RFC 9207 mix-up protection): the authorization was refused; start again",
                provider.display_name
            )));
        }
        if let Some(binding) = &flow.binding
            && !browser_bindings.contains(binding)
        {
            return Err(ServiceError::Invalid(
                "this authorization was started in another browser session: sign in to Patchbay in this browser and start again".into(),
            ));
        }
        let Some(connection) = self.store.get_connection(&flow.team_id, &flow.connection_id).await? else {
            return Err(ServiceError::Invalid(
                "the connection was deleted while its authorization was in progress".into(),
            ));
        };
        let kind = FlowKind::of(&flow);
        let audit_action =
            if kind == FlowKind::Reauthorize { action::CONNECTION_REAUTHORIZE } else { action::CONNECTION_AUTHORIZE };
        Ok(OpenFlow { flow, kind, provider, connection, audit_action, now })
    }

    /// The provider's answer: its error, or the code exchanged (with the PKCE verifier, whose
    /// decryption is audited) at the flow's provider's token endpoint.
    async fn exchange(&self, q: &CallbackQuery, open: &OpenFlow) -> ServiceResult<Exchanged> {
        let OpenFlow { flow, provider, connection, .. } = open;
        if let Some(error) = q.error.as_deref() {
            let (reason, outcome) = if error == "access_denied" {
                (format!("access denied at {}", provider.display_name), CallbackOutcome::Denied)
            } else {
                let desc = q.error_description.as_deref().map(|d| format!(": {}", short(d))).unwrap_or_default();
                (format!("{} answered `{}`{desc}", provider.display_name, short(error)), CallbackOutcome::Error)
            };
            return Ok(Exchanged::Failed { reason, outcome });
        }
        let Some(code) = q.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 4096) else {
            let reason = format!("{} sent no authorization code", provider.display_name);
            return Ok(Exchanged::Failed { reason, outcome: CallbackOutcome::Error });
        };
        // Context the callback carries (QuickBooks' company, Zoho's accounts server): checked
        // before the code is spent, and usable in the token URL.
        let mut metadata = match patchbay_providers::metadata::from_callback(provider, &q.extra) {
            Ok(m) => m,
            Err(reason) => return Ok(Exchanged::Failed { reason, outcome: CallbackOutcome::Error }),
        };
        let client = self.connection_client(connection, provider).await?;
        // A provider that signs its callback (Shopify): the shop it names is only trusted once
        // the signature under the app's secret holds.
        if let Some(param) = &provider.callback_hmac {
            let params = q.all_params();
            let secret = client.client_secret.as_ref();
            if let Err(reason) =
                patchbay_providers::callback_signature::check(&provider.display_name, param, &params, secret)
            {
                return Ok(Exchanged::Failed { reason, outcome: CallbackOutcome::Error });
            }
        }
        let verifier = match &flow.pkce_verifier {
            Some(blob) => {
                let detail = Some("pkce verifier");
                self.audit_as(
                    &flow.team_id,
                    &flow.actor,
                    action::SECRET_READ,
                    Some(&connection.id),
                    AuditOutcome::Ok,
                    detail,
                )
                .await?;
                let blobs = [(field::PKCE_VERIFIER.to_owned(), blob.clone())];
                self.keys
                    .open_fields(&self.store, &flow.team_id, &connection.id, &blobs)
                    .await?
                    .remove(field::PKCE_VERIFIER)
            }
            None => None,
        };
        let mut values = connection.settings.clone();
        values.extend(metadata.clone());
        let redirect_uri = &flow.redirect_uri;
        match client::exchange_code(&self.http, provider, &values, &client, code, redirect_uri, verifier.as_ref()).await
        {
            Ok(tokens) => {
                metadata.extend(tokens.metadata.clone());
                // One follow-up call learns the rest (Xero's tenant, Mailchimp's data center).
                match client::learn_context(&self.http, provider, &tokens.access_token).await {
                    Ok(more) => metadata.extend(more),
                    Err(why) => {
                        let revoked = match self.revoke_unused_grant(provider, &values, &client, &tokens).await {
                            true => "the new grant was revoked",
                            false => "the new grant could not be revoked (it is not stored)",
                        };
                        let reason = format!("{why}: nothing was stored and {revoked}");
                        return Ok(Exchanged::Failed { reason, outcome: CallbackOutcome::Error });
                    }
                }
                Ok(Exchanged::Tokens { tokens, client, metadata })
            }
            Err(e) => {
                let reason = format!("the token exchange failed: {e}");
                Ok(Exchanged::Failed { reason, outcome: CallbackOutcome::Error })
            }
        }
    }

    /// Verifies the new credential, refuses a grant that is not proven to be for the pinned
    /// account on reauthorize ([`pin`](super::pin)), and otherwise stores the grant (the
    /// superseded one is revoked where the provider allows), audits and emits.
    async fn apply_grant(
        &self,
        open: &OpenFlow,
        client: &OAuthClient,
        tokens: TokenSet,
        metadata: BTreeMap<String, String>,
    ) -> ServiceResult<Landing> {
        let OpenFlow { flow, kind: flow_kind, provider, connection, audit_action, now } = open;
        // The new grant's own context, not the replaced one's.
        let mut values = connection.settings.clone();
        values.extend(metadata.clone());
        let granted = granted_or_requested(&tokens, &flow.requested_scopes);
        let credential = Credential::OAuth2 {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
        };
        let last_verify = self.verify_with(provider, &values, &credential, *now).await;
        let reauthorize = *flow_kind == FlowKind::Reauthorize;
        if reauthorize
            && !flow.allow_account_change
            && let Some(refusal) = pin::check(provider, connection, last_verify.as_ref())
        {
            return self.refuse_grant(open, client, &tokens, &values, refusal).await;
        }
        let account = last_verify.as_ref().and_then(|v| v.account.clone());
        let superseded = self.store.current_grant(&flow.team_id, &connection.id).await?;
        let record = self.grant_record(provider, connection, *now);
        // What the user did not grant (unticked on the consent page) stays asked for.
        let still_requested = flow.requested_scopes.union(&connection.requested_scopes).difference(&granted);
        let grant = Grant {
            tokens: &tokens,
            granted: &granted,
            still_requested: &still_requested,
            account: account.as_deref(),
            account_id: last_verify.as_ref().and_then(|v| v.account_id.as_deref()),
            reset_identity: reauthorize && flow.allow_account_change,
            last_verify: last_verify.as_ref(),
            record: Some(record.record()),
            metadata: Some(&metadata),
        };
        self.store_grant(&flow.team_id, connection, provider, grant, *now).await?;
        if record.revoke.is_some()
            && let Some(old) = superseded
        {
            self.retry_revocations(Some(old)).await?;
        }
        let detail = format!("scopes={}", granted.join(" "));
        self.audit_as(&flow.team_id, &flow.actor, *audit_action, Some(&connection.id), AuditOutcome::Ok, Some(&detail))
            .await?;
        // Less than asked for is not plain success: the landing page says what is missing.
        let outcome = if still_requested.is_empty() { CallbackOutcome::Connected } else { CallbackOutcome::Partial };
        self.record_outcome(open, outcome, None).await?;
        tracing::info!(connection_id = %connection.id, provider = %provider.id, "consent flow completed");
        if let Some(stored) = self.store.get_connection(&flow.team_id, &connection.id).await? {
            let event = if reauthorize { kind::REAUTHORIZED } else { kind::CREATED };
            let mut extra = serde_json::json!({"account": account, "scopes": granted.join(" ")});
            // Made or reconnected on a connect session's page: the event names the session.
            // The grant is stored: a failed look-up only leaves the session id out.
            let session = self.store.connect_session_in_progress(&flow.team_id, connection.id.as_str()).await;
            if let Ok(Some(session)) = session {
                extra["session_id"] = serde_json::Value::from(session);
            }
            self.emit(&stored, event, extra).await;
        }
        Ok(landing(flow, connection, outcome))
    }

    /// A grant that may not replace the pinned credential: revoke it (unless that would also end
    /// the pinned grant), audit, record the outcome for the API, and land with the reason.
    async fn refuse_grant(
        &self,
        open: &OpenFlow,
        client: &OAuthClient,
        tokens: &TokenSet,
        values: &BTreeMap<String, String>,
        refusal: PinRefusal,
    ) -> ServiceResult<Landing> {
        let OpenFlow { flow, provider, connection, audit_action, .. } = open;
        let name = &provider.display_name;
        // At a provider whose revocation ends the whole authorization, revoking a grant that may
        // be the same account's would end the pinned credential too.
        let revoked = match (&refusal, provider.revocation_scope, provider.revokes()) {
            (_, _, false) => {
                format!("{name} offers no revocation endpoint, so the new grant stays valid there until it expires")
            }
            (PinRefusal::Unproven { .. }, RevocationScope::Grant, true) => format!(
                "the new grant was not revoked, as revoking it at {name} would also end this connection's own grant (it is not stored)"
            ),
            _ => match self.revoke_unused_grant(provider, values, client, tokens).await {
                true => "the new grant was revoked".to_owned(),
                false => format!("the new grant could not be revoked at {name} (it is not stored)"),
            },
        };
        let reason = refusal.reason(name, &revoked);
        let cid = Some(&connection.id);
        let outcome = refusal.outcome();
        self.audit_as(&flow.team_id, &flow.actor, *audit_action, cid, outcome.audited(), Some(&reason)).await?;
        tracing::info!(connection_id = %connection.id, %outcome, "reauthorize refused: account not proven");
        self.record_outcome(open, outcome, Some(reason)).await?;
        Ok(landing(flow, connection, outcome))
    }

    /// Stores the callback's outcome on the connection (`last_authorization` in the API).
    async fn record_outcome(
        &self,
        open: &OpenFlow,
        outcome: CallbackOutcome,
        reason: Option<String>,
    ) -> ServiceResult<()> {
        let value = AuthorizationOutcome { outcome: outcome.as_str().to_owned(), reason, at: open.now };
        self.store.set_last_authorization(&open.flow.team_id, &open.connection.id, &value).await?;
        Ok(())
    }

    /// Records a failed callback. Only a connection that never had a grant shows the failure
    /// as its status; a working connection keeps working and the outcome is reported on the
    /// landing page.
    async fn flow_failed(&self, open: &OpenFlow, reason: String, outcome: CallbackOutcome) -> ServiceResult<Landing> {
        let OpenFlow { flow, connection, audit_action, now, .. } = open;
        if connection.status == ConnectionStatus::Pending {
            self.store
                .set_status(&flow.team_id, &connection.id, ConnectionStatus::Pending, Some(&reason), *now)
                .await?;
        }
        let cid = Some(&connection.id);
        self.audit_as(&flow.team_id, &flow.actor, *audit_action, cid, outcome.audited(), Some(&reason)).await?;
        self.record_outcome(open, outcome, Some(reason)).await?;
        Ok(landing(flow, connection, outcome))
    }

    /// Revocation of tokens we will not keep (a refused reauthorize); whether the provider
    /// confirmed every one.
    async fn revoke_unused_grant(
        &self,
        provider: &Provider,
        settings: &BTreeMap<String, String>,
        oauth: &OAuthClient,
        tokens: &TokenSet,
    ) -> bool {
        let mut all = true;
        if let Some(r) = &tokens.refresh_token {
            let outcome = client::revoke(&self.http, provider, settings, oauth, r, "refresh_token").await;
            all &= matches!(outcome, RevokeOutcome::Revoked | RevokeOutcome::NotApplicable(_));
        }
        let outcome = client::revoke(&self.http, provider, settings, oauth, &tokens.access_token, "access_token").await;
        all && matches!(outcome, RevokeOutcome::Revoked | RevokeOutcome::NotApplicable(_))
    }
}
