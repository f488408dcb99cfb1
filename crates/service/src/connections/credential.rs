//! Replacing the API key or password of a connection in place (`PUT
//! /v1/connections/{id}/credentials`): same id, name, settings and scenario bindings.
//!
//! Invariants: the new credential is verified with the provider first (unless `verify: false`),
//! and a rejected or unverifiable one changes nothing; the old ciphertext is overwritten in the
//! same row and transaction as the metadata (it does not survive anywhere); the change is
//! audited with both fingerprints; the secret is never echoed. OAuth connections get their
//! credential from a consent instead (reauthorize).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::credential::Credential;
use patchbay_domain::principal::{Action, Principal};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::VerifyOutcome;
use patchbay_store::StaticCredentialUpdate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::input::credential_from_request;
use crate::access::{not_found, require_to};
use crate::audit::{AuditOutcome, action};
use crate::views::ConnectionView;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Body of `PUT /v1/connections/{id}/credentials`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCredential {
    /// `{"api_key": …}` or `{"username": …, "password": …}` (the provider's credential fields,
    /// as on create).
    #[schema(value_type = Object)]
    pub credentials: BTreeMap<String, SecretString>,
    /// Verify the new credential with the provider before it replaces the old one (default
    /// true). `false` saves it unchecked: the connection then shows `unverified: true`.
    #[serde(default = "default_true")]
    pub verify: bool,
}

fn default_true() -> bool {
    true
}

impl Patchbay {
    /// Checks a new credential with the provider; a refusal is audited and answered, and
    /// changes nothing stored.
    async fn verify_new_credential(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
        credential: &Credential,
    ) -> ServiceResult<VerifyResult> {
        let now = self.clock.now();
        match patchbay_providers::verify_credential(&self.http, provider, &c.template_values(), credential).await {
            VerifyOutcome::Ok { account, account_id } => {
                Ok(VerifyResult { ok: true, account, account_id, checked_at: now, error: None })
            }
            VerifyOutcome::Rejected { status, message } => {
                let detail = format!("http={status}; the stored credential was kept");
                self.audit(
                    who,
                    action::CONNECTION_CREDENTIAL_UPDATE,
                    Some(&c.id),
                    AuditOutcome::Rejected,
                    Some(&detail),
                )
                .await?;
                Err(ServiceError::CredentialRejected(format!(
                    "{message}. The new credential was not saved: `{}` keeps the one it had",
                    c.name
                )))
            }
            VerifyOutcome::Failed { message } => Err(ServiceError::VerifyUnavailable(format!(
                "could not verify the new credential: {message}. Nothing was changed: retry later, or save it without verifying"
            ))),
        }
    }

    /// Replaces a connection's API key or password after verifying the new one. A rejected
    /// (422) or unverifiable (502) credential leaves the stored one in place and working.
    pub async fn update_credential(
        &self,
        who: &Principal,
        id: &str,
        req: UpdateCredential,
    ) -> ServiceResult<ConnectionView> {
        require_to(who, Action::Manage, "update credentials")?;
        let c = self.load(who, id).await?;
        let provider = self.provider(&c.team_id, &c.provider).await?;
        if !matches!(provider.auth_mode, AuthMode::ApiKey | AuthMode::Basic) {
            return Err(ServiceError::Invalid(format!(
                "{} uses OAuth 2.0: its credential comes from a consent; reauthorize the connection instead",
                provider.display_name
            )));
        }
        let credential = credential_from_request(&provider, &req.credentials)?;
        drop(req.credentials);
        self.keys.require_unsealed()?;
        let now = self.clock.now();
        let last_verify =
            if req.verify { Some(self.verify_new_credential(who, &c, &provider, &credential).await?) } else { None };
        let fields: Vec<(String, &SecretString)> =
            credential.fields().into_iter().map(|(f, v)| (f.to_owned(), v)).collect();
        let sealed = self.keys.seal_fields(&self.store, &who.team_id, &c.id, &fields, now).await?;
        let fingerprint =
            self.keys.fingerprint(&self.store, &who.team_id, &c.id, credential.main_secret(), now).await?;
        drop(fields);
        drop(credential);
        let update = StaticCredentialUpdate {
            team: &who.team_id,
            id: &c.id,
            secrets: &sealed,
            status: ConnectionStatus::Active,
            account: last_verify.as_ref().and_then(|v| v.account.as_deref()),
            last_verify: last_verify.as_ref(),
            fingerprint: &fingerprint,
            now,
        };
        if !self.store.replace_static_credential(&update).await? {
            return Err(not_found(c.id.as_str()));
        }
        let detail = format!(
            "from={} to={fingerprint} verified={}",
            c.credential_fingerprint.as_deref().unwrap_or("none"),
            last_verify.is_some()
        );
        self.audit(who, action::CONNECTION_CREDENTIAL_UPDATE, Some(&c.id), AuditOutcome::Ok, Some(&detail)).await?;
        tracing::info!(connection_id = %c.id, provider = %c.provider, "credential updated");
        let stored = self.store.get_connection(&who.team_id, &c.id).await?.ok_or_else(|| not_found(c.id.as_str()))?;
        // The next re-verify counts from now; a connection that needed reauthorization recovers.
        self.start_lifecycle(&stored, &provider, now).await?;
        if let Some(result) = &last_verify {
            self.emit_verify(&c, ConnectionStatus::Active, result).await;
        }
        self.view(&stored).await
    }
}
