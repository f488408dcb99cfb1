//! Starting a consent flow: the flow row (keyed by the SHA-256 of a 256-bit random state, with
//! the sealed PKCE verifier) and the provider's authorize URL. Also the request and answer types
//! of starting one, and the session binding that ties a UI-started flow to its browser.

use patchbay_domain::SecretString;
use patchbay_domain::connection::Connection;
use patchbay_domain::credential::field;
use patchbay_domain::provider::Provider;
use patchbay_domain::random;
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::oauth::{self as client, AuthorizeParams};
use patchbay_store::FlowRow;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::Duration;
use utoipa::ToSchema;

use crate::views::ConnectionView;
use crate::{Patchbay, ServiceError, ServiceResult};

/// How long a consent flow may take before its state expires.
pub const FLOW_TTL: Duration = Duration::minutes(10);

/// How long an expired flow is kept: until then it tells the discard job that its connection's
/// consent was started recently (`connections::ABANDONED_AFTER`).
pub const EXPIRED_FLOW_KEPT: Duration = Duration::days(1);

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

/// What a flow is for, stored in the flow row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    /// The first grant of a new (pending) connection.
    Create,
    /// A new grant for an existing connection.
    Reauthorize,
}

impl FlowKind {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Create => "create",
            FlowKind::Reauthorize => "reauthorize",
        }
    }

    /// The kind of a stored flow row (anything but `reauthorize` is a create, as before).
    pub fn of(flow: &FlowRow) -> FlowKind {
        if flow.kind == FlowKind::Reauthorize.as_str() { FlowKind::Reauthorize } else { FlowKind::Create }
    }
}

/// What a new flow asks for, besides the connection and provider.
pub(crate) struct FlowStart<'a> {
    /// Create or reauthorize.
    pub kind: FlowKind,
    /// The OAuth client id sent to the provider.
    pub client_id: &'a str,
    /// The scopes requested.
    pub scopes: &'a ScopeSet,
    /// The browser session binding (UI-started flows), see [`session_binding`].
    pub binding: Option<String>,
    /// Accept a grant for another account than the stored one (reauthorize).
    pub allow_account_change: bool,
    /// Same-origin path to land on afterwards.
    pub return_to: Option<String>,
}

/// The value that binds a consent flow to a browser session: SHA-256 (hex) of the session
/// token. The web UI passes it when starting a flow; the callback recomputes it from the cookie.
pub fn session_binding(session_token: &str) -> String {
    random::sha256_hex(session_token)
}

impl Patchbay {
    /// `{public_url}/oauth/callback`: where every provider sends the browser back.
    pub(crate) fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.config.public_url)
    }

    /// Records a flow and builds the provider's authorize URL.
    pub(crate) async fn start_flow(
        &self,
        actor: &str,
        connection: &Connection,
        provider: &Provider,
        start: FlowStart<'_>,
    ) -> ServiceResult<String> {
        let FlowStart { kind, client_id, scopes, binding, allow_account_change, return_to } = start;
        let now = self.clock.now();
        let state = random::token(32);
        let verifier = provider.pkce.then(|| SecretString::from(random::token(32)));
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
                extra: if kind == FlowKind::Reauthorize && provider.incremental_authorization {
                    &[("include_granted_scopes", "true")]
                } else {
                    &[]
                },
            },
        )
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        // Housekeeping on the way: a failure to purge old flows must not stop a new one.
        let _ = self.store.purge_expired_flows(now - EXPIRED_FLOW_KEPT).await;
        self.store
            .insert_flow(&FlowRow {
                state_hash: random::sha256_hex(&state),
                team_id: connection.team_id.clone(),
                connection_id: connection.id.clone(),
                provider: provider.id.clone(),
                kind: kind.as_str().to_owned(),
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
