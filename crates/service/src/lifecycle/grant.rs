//! Storing a new grant: seal the token pair, replace the connection's credential atomically, and
//! start its lifecycle (which fences out refreshes of the old grant). Used by the consent
//! callback and by client-credentials renewal; also the first verify of a fresh credential.

use std::collections::BTreeMap;

use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::TeamId;
use patchbay_domain::provider::Provider;
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::VerifyOutcome;
use patchbay_providers::oauth::TokenSet;
use patchbay_store::{CredentialUpdate, GrantRecord};
use time::{Duration, OffsetDateTime};

use crate::access::not_found;
use crate::{Patchbay, ServiceResult};

/// A grant the provider just issued, ready to store.
pub(crate) struct Grant<'a> {
    /// The tokens.
    pub tokens: &'a TokenSet,
    /// The scopes granted (see [`granted_or_requested`]).
    pub granted: &'a ScopeSet,
    /// Scopes asked for that this grant did not cover: the connection keeps asking for them.
    pub still_requested: &'a ScopeSet,
    /// The account the provider reported, when it was asked.
    pub account: Option<&'a str>,
    /// The provider's stable account id, when it declares one.
    pub account_id: Option<&'a str>,
    /// Replace the stored account and id even with `None` (an allowed account change).
    pub reset_identity: bool,
    /// The verify that asked it.
    pub last_verify: Option<&'a VerifyResult>,
    /// A consent grant: recorded in the grant history, the superseded one dealt with.
    pub record: Option<GrantRecord<'a>>,
    /// What the provider said about this grant (a consent's; `None` keeps the stored one).
    pub metadata: Option<&'a BTreeMap<String, String>>,
}

/// When a grant must be renewed by a new consent: the earlier of the provider's fixed
/// `grant_lifetime` (from the consent) and the refresh token's lifetime (stated in the reply, or
/// fixed by `token_response.refresh_token_lifetime`), from `now`.
pub(crate) fn grant_horizon(provider: &Provider, tokens: &TokenSet, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let fixed = provider.grant_lifetime.map(|l| now + Duration::seconds(l.seconds));
    let refresh = tokens.refresh_expires_in.map(|s| now + Duration::seconds(s));
    match (fixed, refresh) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The scopes a provider would grant when the reply does not say.
pub(crate) fn granted_or_requested(tokens: &TokenSet, requested: &ScopeSet) -> ScopeSet {
    tokens.scope.clone().unwrap_or_else(|| requested.clone())
}

impl Patchbay {
    /// Seals a new token pair and replaces the connection's credential atomically.
    pub(crate) async fn store_grant(
        &self,
        team: &TeamId,
        connection: &Connection,
        provider: &Provider,
        grant: Grant<'_>,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        let Grant {
            tokens,
            granted,
            still_requested,
            account,
            account_id,
            reset_identity,
            last_verify,
            record,
            metadata,
        } = grant;
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
                    account_id,
                    reset_identity,
                    grant: record,
                    granted_scopes: granted,
                    requested_scopes: still_requested,
                    expires_at: tokens.expires_in.map(|s| now + Duration::seconds(s)),
                    reauthorize_by: grant_horizon(provider, tokens, now),
                    last_verify,
                    fingerprint: &fingerprint,
                    now,
                },
            )
            .await?;
        if !updated {
            return Err(not_found(connection.id.as_str()));
        }
        // A consent's metadata replaces the last one's whole: it describes this grant.
        if let Some(metadata) = metadata {
            self.store.set_metadata(team, &connection.id, metadata).await?;
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
            VerifyOutcome::Ok { account, account_id } => {
                VerifyResult { ok: true, account, account_id, checked_at: now, error: None }
            }
            VerifyOutcome::Rejected { message, .. } | VerifyOutcome::Failed { message } => {
                VerifyResult { ok: false, account: None, account_id: None, checked_at: now, error: Some(message) }
            }
        })
    }
}
