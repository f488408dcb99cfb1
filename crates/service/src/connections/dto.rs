//! The wire types of the connection use-cases: request bodies (`CreateConnection`, `ListFilter`)
//! and answers (`Created`, `Verified`, `DeleteReceipt`). Data only; the rules are in `input`.

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::connection::ConnectionStatus;
use patchbay_domain::end_user::EndUser;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::revocations::{GrantsReceipt, RevocationItem};
use crate::views::{ConnectionView, UsageView};

/// Body of `POST /v1/connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// Provider id.
    pub provider: String,
    /// Name; defaults to "My {provider} connection" (then "… 2", "… 3").
    #[serde(default)]
    pub name: Option<String>,
    /// Modules (`provider.module`) the connection is for.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Extra scopes to request.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Advanced settings (secret ones are encrypted, never returned).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: BTreeMap<String, SecretString>,
    /// `{"api_key": …}` or `{"username": …, "password": …}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub credentials: BTreeMap<String, SecretString>,
    /// Verify the credential before saving (default true).
    #[serde(default = "default_true")]
    pub verify: bool,
    /// Same-origin path to land on after the consent flow (default: the connection's page).
    #[serde(default)]
    pub return_to: Option<String>,
    /// The platform's end user the connection is for (set by a connect session's page, or by a
    /// platform backend creating it itself).
    #[serde(default)]
    pub end_user: Option<EndUser>,
    /// The connect session whose page makes it (set by that page, never read from a body):
    /// named in the `connection.created` event.
    #[serde(skip)]
    pub connect_session: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Result of creating a connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The new connection.
    pub connection: ConnectionView,
    /// Where to send the user for consent (OAuth providers).
    pub authorize_url: Option<String>,
}

/// Result of `POST /v1/connections/{id}/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    /// Whether the provider accepted the credential.
    pub ok: bool,
    /// Account the provider reported.
    pub account: Option<String>,
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub checked_at: OffsetDateTime,
    /// Why it failed.
    pub error: Option<String>,
    /// The connection's status afterwards.
    pub status: ConnectionStatus,
}

/// The receipt of `DELETE /v1/connections/{id}` (also kept for the web UI's receipt page, hence
/// `Deserialize`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeleteReceipt {
    /// Deleted connection id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its provider.
    pub provider: String,
    /// Whether the local secret was destroyed (always true on success).
    pub secret_destroyed: bool,
    /// Per-credential revocation outcome at the provider.
    pub revocation: Vec<RevocationItem>,
    /// Every grant Patchbay held for the connection (each consent is one) and what is still live.
    pub grants: GrantsReceipt,
    /// Scenario steps that used the connection and now have none (forced delete).
    pub unbound_steps: Vec<UsageView>,
}

/// Filters for listing connections.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilter {
    /// Only this provider.
    pub provider: Option<String>,
    /// Only these statuses (comma-separated: `active,degraded`).
    pub status: Option<String>,
    /// Case-insensitive match on name, account or end user (id or display name).
    pub q: Option<String>,
    /// Only the connections made for this end user (the platform's id, exact match).
    pub end_user: Option<String>,
}
