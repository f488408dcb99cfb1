//! The admin API for API tokens (`POST/GET /v1/tokens`, `DELETE /v1/tokens/{id}`): create one
//! with its limits (role, scenarios or connections it is bound to, expiry), list them without
//! secrets, revoke one. The principals and the secret handling live in `auth`.

use patchbay_domain::principal::{Action, Principal, Role};
use patchbay_store::TokenRow;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::require_to;
use crate::auth::NewToken;
use crate::{Patchbay, ServiceResult};

/// Body of `POST /v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A name to recognise it by in the audit trail.
    pub name: String,
    /// `admin`, `member`, `viewer` or `runtime`.
    #[schema(value_type = String)]
    pub role: Role,
    /// Scenario ids a runtime token is bound to: it may run their steps' modules through their
    /// steps' connections, nothing else.
    #[serde(default)]
    pub scenarios: Option<Vec<String>>,
    /// Connection ids a runtime token is bound to (any module of theirs, named per request).
    #[serde(default)]
    pub connections: Option<Vec<String>>,
    /// Seconds until the token stops working (60 to 34560000); omitted: it does not expire.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// `201` answer of `POST /v1/tokens`: the secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Token id (`tok_…`), for `DELETE /v1/tokens/{id}`.
    pub id: String,
    /// The token itself. It is not stored (only its digest) and cannot be shown again.
    pub token: String,
    /// The token's record.
    #[serde(flatten)]
    pub view: TokenView,
}

/// An API token's record (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// `true`: not bound, it acts for the whole team (for a runtime token: every connection's
    /// credential). Prefer bound runtime tokens.
    pub team_wide: bool,
    /// Scenarios it is bound to.
    pub scenarios: Vec<String>,
    /// Connections it is bound to.
    pub connections: Vec<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// When it last authenticated (to the minute).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
}

impl TokenView {
    /// The view of a stored token.
    pub fn new(row: &TokenRow, created_at: OffsetDateTime) -> TokenView {
        let (scenarios, connections) = match &row.binding {
            Some(b) => (
                b.scenarios.iter().map(ToString::to_string).collect(),
                b.connections.iter().map(ToString::to_string).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        TokenView {
            token_id: row.id.to_string(),
            name: row.name.clone(),
            role: row.role.as_str().to_owned(),
            team_wide: row.binding.is_none(),
            scenarios,
            connections,
            created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// `GET /v1/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The team's tokens, oldest first.
    pub items: Vec<TokenView>,
}

impl Patchbay {
    /// Creates a token in the admin's team.
    pub async fn create_api_token(&self, who: &Principal, req: CreateTokenRequest) -> ServiceResult<CreatedToken> {
        require_to(who, Action::Administer, "create API tokens")?;
        let new = NewToken {
            role: req.role,
            name: req.name,
            scenarios: req.scenarios,
            connections: req.connections,
            expires_in: req.expires_in,
        };
        let (row, secret) = self.create_token_with(who.team_id.as_str(), new, &who.actor.label()).await?;
        let mut view = TokenView::new(&row, self.clock.now());
        view.token_id = String::new();
        Ok(CreatedToken {
            id: row.id.to_string(),
            token: secrecy::ExposeSecret::expose_secret(&secret).to_owned(),
            view,
        })
    }

    /// The admin's team's tokens.
    pub async fn list_api_tokens(&self, who: &Principal) -> ServiceResult<TokenList> {
        require_to(who, Action::Administer, "list API tokens")?;
        let rows = self.store.list_tokens(&who.team_id).await?;
        Ok(TokenList { items: rows.iter().map(|(row, created)| TokenView::new(row, *created)).collect() })
    }

    /// Revokes a token of the admin's team.
    pub async fn delete_api_token(&self, who: &Principal, id: &str) -> ServiceResult<()> {
        require_to(who, Action::Administer, "revoke API tokens")?;
        self.revoke_token_as(who.team_id.as_str(), id, &who.actor.label()).await
    }
}
