//! The ledger: what reached the server, kept for assertions in tests.
//!
//! Records are appended as requests arrive (faulted ones included) and are only forgotten by
//! [`DemoProvider::clear_ledger`](crate::DemoProvider::clear_ledger).

use crate::knobs::Fault;

/// How a token or revocation request authenticated its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP basic (`client_secret_basic`).
    Basic,
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Post,
    /// Both at once (refused with `invalid_request`).
    Both,
}

/// What the token endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    /// Tokens were issued.
    Issued {
        /// The new access token.
        access_token: String,
        /// The refresh token of the response, if it carried one.
        refresh_token: Option<String>,
        /// The granted scope, space-separated.
        scope: String,
    },
    /// An OAuth error response.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: String,
    },
    /// A [`Fault`] answered before the request was processed.
    NotProcessed,
}

impl TokenOutcome {
    /// The `error` code, when the request was rejected.
    pub fn error(&self) -> Option<&str> {
        match self {
            TokenOutcome::Rejected { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether tokens were issued.
    pub fn is_issued(&self) -> bool {
        matches!(self, TokenOutcome::Issued { .. })
    }
}

/// One request to `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequestRecord {
    /// The `grant_type` parameter (empty when missing).
    pub grant_type: String,
    /// How the client authenticated; `None` when it sent no credentials.
    pub client_auth: Option<ClientAuth>,
    /// The client id it claimed (from basic or the body).
    pub client_id: Option<String>,
    /// The `refresh_token` parameter.
    pub refresh_token_presented: Option<String>,
    /// The `code` parameter.
    pub code_presented: Option<String>,
    /// The `code_verifier` parameter.
    pub code_verifier: Option<String>,
    /// The `redirect_uri` parameter.
    pub redirect_uri: Option<String>,
    /// The `scope` parameter.
    pub scope: Option<String>,
    /// The `resource` parameter (RFC 8707).
    pub resource: Option<String>,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
    /// What the server did.
    pub outcome: TokenOutcome,
}

/// One request to `GET /oauth/authorize`, with every query parameter in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRecord {
    /// The decoded query parameters, repeats included.
    pub params: Vec<(String, String)>,
}

impl AuthorizeRecord {
    /// The first value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What was replayed when a token family was revoked for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReuseKind {
    /// A superseded refresh token (rotation with reuse detection).
    RefreshToken,
    /// An authorization code presented a second time (RFC 6749 §4.1.2).
    AuthorizationCode,
}

/// A replay that made the server revoke a token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReuseDetection {
    /// Refresh token or code.
    pub kind: ReuseKind,
    /// The replayed refresh token or code.
    pub presented: String,
    /// The account of the family (`None` when the code had not issued tokens yet).
    pub account: Option<String>,
    /// Tokens (access and refresh) that were live and are now revoked.
    pub revoked_tokens: Vec<String>,
}

/// One request to the resource API (`/api/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCallRecord {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/api/items`.
    pub path: String,
    /// The bearer token presented, if any.
    pub access_token: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// Everything the ledger holds.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub token_requests: Vec<TokenRequestRecord>,
    pub revocations: Vec<(String, Option<String>)>,
    pub authorize_requests: Vec<AuthorizeRecord>,
    pub reuse_detections: Vec<ReuseDetection>,
    pub api_calls: Vec<ApiCallRecord>,
}
