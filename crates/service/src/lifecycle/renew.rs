//! Client-credentials renewal: a new token when the current one has expired or expires within a
//! minute (the same minute [`super::schedule`]'s `next_action` plans for). A failure is recorded
//! on the connection (`needs_reauth` when terminal, else `degraded`) and audited.

use patchbay_domain::connection::{Connection, ConnectionStatus};
use patchbay_domain::principal::Principal;
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::oauth as client;
use time::{Duration, OffsetDateTime};

use super::grant::{Grant, granted_or_requested};
use crate::access::not_found;
use crate::audit::{AuditOutcome, action};
use crate::{Patchbay, ServiceResult};

/// Whether a client-credentials token is due for renewal at `now` (expired, or expiring within a
/// minute).
pub(crate) fn client_credentials_due(connection: &Connection, provider: &Provider, now: OffsetDateTime) -> bool {
    provider.auth_mode == AuthMode::Oauth2ClientCredentials
        && connection.expires_at.is_some_and(|t| t <= now + Duration::minutes(1))
}

impl Patchbay {
    /// Re-obtains a client-credentials token when it has expired or is about to (within a
    /// minute). Returns the connection as stored afterwards.
    pub(crate) async fn renew_client_credentials_if_due(
        &self,
        who: &Principal,
        connection: Connection,
        provider: &Provider,
    ) -> ServiceResult<Connection> {
        let now = self.clock.now();
        if !client_credentials_due(&connection, provider, now) {
            return Ok(connection);
        }
        let oauth = self.connection_client(&connection, provider).await?;
        match client::client_credentials(&self.http, provider, &connection.settings, &oauth, &connection.granted_scopes)
            .await
        {
            Ok(tokens) => {
                let granted = granted_or_requested(&tokens, &connection.granted_scopes);
                let still_requested = connection.requested_scopes.difference(&granted);
                let grant = Grant {
                    tokens: &tokens,
                    granted: &granted,
                    still_requested: &still_requested,
                    account: None,
                    account_id: None,
                    reset_identity: false,
                    last_verify: None,
                    record: None,
                    metadata: None,
                };
                self.store_grant(&connection.team_id, &connection, provider, grant, now).await?;
                self.audit(
                    who,
                    action::CONNECTION_REFRESH,
                    Some(&connection.id),
                    AuditOutcome::Ok,
                    Some("client_credentials"),
                )
                .await?;
            }
            Err(e) => {
                let (status, outcome) = if e.is_terminal() {
                    (ConnectionStatus::NeedsReauth, AuditOutcome::Failed)
                } else {
                    (ConnectionStatus::Degraded, AuditOutcome::Retry)
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
