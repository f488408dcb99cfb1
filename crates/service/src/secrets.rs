//! Decrypting a connection's secrets for a stated purpose, audited before the read (SECURITY
//! S-09), and the OAuth client those secrets belong to. The second half of the floor: every
//! use-case that needs a credential calls this module; it calls only `audit` and `keys`.

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::Principal;
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::oauth::OAuthClient;

use crate::audit::{AuditAction, AuditOutcome, SYSTEM_ACTOR, action};
use crate::error::not_connected;
use crate::{Patchbay, ServiceError, ServiceResult};

/// The sealed field of a connection's own OAuth client secret (advanced settings).
pub(crate) fn client_secret_field() -> String {
    format!("{}client_secret", field::SETTING_PREFIX)
}

/// The answer when a connection has no stored `field` to decrypt.
fn missing_credential(c: &Connection, field: &str) -> ServiceError {
    if c.status == ConnectionStatus::Pending {
        return not_connected(c);
    }
    ServiceError::NeedsReauth(format!(
        "connection `{}` has no stored `{field}`: reauthorize it (or update its credential) to store a new one",
        c.name
    ))
}

/// How a hand-over is audited, and the ciphertexts when already read.
pub(crate) struct HandOver<'a> {
    /// The audit action (`secret.read`, `proxy.call`).
    pub(crate) action: AuditAction,
    /// Its detail: the purpose, or the proxied method and path.
    pub(crate) detail: &'a str,
    /// The sealed fields, or `None` to read them now.
    pub(crate) sealed: Option<&'a [(String, Vec<u8>)]>,
}

impl Patchbay {
    /// Decrypts a connection's credential for a stated purpose, auditing the read first (S-09).
    pub(crate) async fn read_credential(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
        purpose: &str,
    ) -> ServiceResult<Credential> {
        self.hand_over(who, c, provider, HandOver { action: action::SECRET_READ, detail: purpose, sealed: None }).await
    }

    /// Decrypts a connection's credential after its audit record has committed (S-09: the
    /// record is durable before the secret exists in clear; a failed record fails the call).
    /// `sealed` are the ciphertexts when the caller already holds them (the runtime cache).
    pub(crate) async fn hand_over(
        &self,
        who: &Principal,
        c: &Connection,
        provider: &Provider,
        how: HandOver<'_>,
    ) -> ServiceResult<Credential> {
        self.keys.require_unsealed()?;
        self.audit(who, how.action, Some(&c.id), AuditOutcome::Ok, Some(how.detail)).await?;
        let fetched;
        let blobs = match how.sealed {
            Some(blobs) => blobs,
            None => {
                fetched = self.store.connection_secrets(&who.team_id, &c.id).await?;
                &fetched
            }
        };
        let mut fields = self.keys.open_fields(&self.store, &who.team_id, &c.id, blobs).await?;
        // A missing field is the caller's situation, not a bug: a connection that never got a
        // grant (409 `not_connected`), or one whose credential is gone (409 `needs_reauth`).
        let mut take = |f: &str| fields.remove(f).ok_or_else(|| missing_credential(c, f));
        Ok(match provider.auth_mode {
            AuthMode::ApiKey => Credential::ApiKey { key: take(field::API_KEY)? },
            AuthMode::Basic => Credential::Basic { username: take(field::USERNAME)?, password: take(field::PASSWORD)? },
            AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Credential::OAuth2 {
                access_token: take(field::ACCESS_TOKEN)?,
                refresh_token: fields.remove(field::REFRESH_TOKEN),
            },
        })
    }

    /// The connection's own client secret (advanced settings), decrypted; audited as a system
    /// read because every caller (refresh, reauthorize, renewal) needs it on the service's behalf.
    pub(crate) async fn own_client_secret(
        &self,
        team: &TeamId,
        connection: &ConnectionId,
    ) -> ServiceResult<Option<SecretString>> {
        let wanted = client_secret_field();
        let blobs: Vec<_> =
            self.store.connection_secrets(team, connection).await?.into_iter().filter(|(f, _)| *f == wanted).collect();
        if blobs.is_empty() {
            return Ok(None);
        }
        self.audit_as(
            team,
            SYSTEM_ACTOR,
            action::SECRET_READ,
            Some(connection),
            AuditOutcome::Ok,
            Some("own oauth client secret"),
        )
        .await?;
        let mut opened = self.keys.open_fields(&self.store, team, connection, &blobs).await?;
        Ok(opened.remove(&wanted))
    }

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
            _ => Err(ServiceError::Invalid(crate::provider_endpoints::ClientView::missing_client_message(provider))),
        }
    }

    /// The OAuth client of a stored connection, with its own secret decrypted when it has one.
    pub(crate) async fn connection_client(&self, c: &Connection, provider: &Provider) -> ServiceResult<OAuthClient> {
        let own_secret = self.own_client_secret(&c.team_id, &c.id).await?;
        self.oauth_client(provider, &c.settings, own_secret)
    }
}
