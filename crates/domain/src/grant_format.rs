//! The token side of a provider file (docs/providers.md, "The token side"): how a token reply is
//! read (`token_response:`), which callback parameters are kept (`callback_params:`), one
//! follow-up call that learns the connection's context (`context:`), the shape of token requests
//! (`token_request:`), a revocation call that is not RFC 7009 (`revocation:`) and the hosts a
//! learned URL may name (`metadata_hosts:`).
//!
//! Everything learned here is *connection metadata*: non-secret text the provider said about the
//! grant (Salesforce's `instance_url`, QuickBooks' `realmId`, Slack's team), stored with the
//! connection, shown in its view and usable as a `{key}` placeholder like a setting. A metadata
//! value is provider-controlled input: the catalog bounds it, and one that names a host is only
//! kept when `metadata_hosts` vets that host (SECURITY N-03).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lifetime::Lifetime;

/// Longest metadata value kept; longer ones are refused (a real id or URL is far shorter).
pub const MAX_METADATA_VALUE: usize = 512;

/// Where the parts of a token reply are (`token_response:`): JSON pointers, defaulting to the
/// RFC 6749 §5.1 top-level fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenResponseMap {
    /// The access token (`/access_token`; Slack's user token: `/authed_user/access_token`).
    #[serde(default)]
    pub access_token: Option<String>,
    /// The refresh token (`/refresh_token`).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds (`/expires_in`).
    #[serde(default)]
    pub expires_in: Option<String>,
    /// The granted scopes (`/scope`), a string or a list.
    #[serde(default)]
    pub scope: Option<String>,
    /// Separator of the granted-scope string when it differs from `scope_separator`.
    #[serde(default)]
    pub scope_separator: Option<String>,
    /// The access token's lifetime when the reply states none (Salesforce).
    #[serde(default)]
    pub default_expires_in: Option<Lifetime>,
    /// Pointer to the refresh token's lifetime in seconds (QuickBooks
    /// `/x_refresh_token_expires_in`).
    #[serde(default)]
    pub refresh_token_expires_in: Option<String>,
    /// A fixed lifetime of each refresh token from its issue (Xero, Box: 60 days).
    #[serde(default)]
    pub refresh_token_lifetime: Option<Lifetime>,
    /// Metadata key → JSON pointer into the reply (`team_id: /team/id`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// One follow-up call after the grant (`context:`), made with the new access token, whose reply
/// fills metadata (Mailchimp's data center, Xero's tenant, Atlassian's cloud id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextCall {
    /// An absolute `https://` URL without placeholders: the file vets the host.
    pub url: String,
    /// Text before the access token in `Authorization` (default `"Bearer "`; Mailchimp: `"OAuth "`).
    #[serde(default = "bearer_prefix")]
    pub token_prefix: String,
    /// Metadata key → JSON pointer into the reply (`tenant_id: /0/tenantId`).
    pub metadata: BTreeMap<String, String>,
}

fn bearer_prefix() -> String {
    "Bearer ".to_owned()
}

/// How a token request's parameters are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    #[default]
    Form,
    /// A JSON object of the same parameters (Notion, Atlassian).
    Json,
    /// No body: every parameter in the URL's query string (ClickUp documents only this form).
    Query,
}

/// The shape of token requests (`token_request:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequestShape {
    /// Body encoding (default `form`).
    #[serde(default)]
    pub body: TokenBody,
    /// Extra parameters sent on every token request.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Extra headers sent on every token request (Notion's `Notion-Version`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// The HTTP method of a declared revocation call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RevocationMethod {
    /// `POST` (the default).
    #[default]
    Post,
    /// `DELETE` (GitHub).
    Delete,
}

/// How a declared revocation call authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationAuth {
    /// The client, as `token_endpoint_auth` says (Basic, or client id and secret in the body).
    Client,
    /// The client by HTTP Basic whatever `token_endpoint_auth` says: GitHub takes the client in
    /// the body at its token endpoint but requires Basic on its `/applications/{client_id}` calls.
    ClientBasic,
    /// The client id and secret in the body whatever `token_endpoint_auth` says: Calendly takes
    /// the web client by HTTP Basic at its token endpoint but requires them as form fields on
    /// its revocation endpoint.
    ClientPost,
    /// The token being revoked, as `Authorization: Bearer` (Dropbox, Slack).
    Bearer,
    /// None (Google: the token alone is the proof).
    None,
}

/// Where the revoked token goes in a declared revocation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationBody {
    /// A form body `token_field=<token>`.
    Form,
    /// A JSON body `{"<token_field>": "<token>"}` (GitHub, Intuit).
    Json,
    /// The query string `?<token_field>=<token>` (Google).
    Query,
    /// No body: the token is the bearer credential (Dropbox, Slack).
    None,
}

/// Which of a grant's tokens a declared revocation call is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedToken {
    /// The access token.
    Access,
    /// The refresh token.
    Refresh,
}

/// A revocation call that is not RFC 7009 (`revocation:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationCall {
    /// The endpoint; `{client_id}` (the connection's OAuth client) and `{setting}` placeholders
    /// are allowed in the path.
    pub url: String,
    /// `POST` (default) or `DELETE`.
    #[serde(default)]
    pub method: RevocationMethod,
    /// `client`, `bearer` or `none`.
    pub auth: RevocationAuth,
    /// `form`, `json`, `query` or `none`.
    pub body: RevocationBody,
    /// Name of the token field in the body or query (default `token`).
    #[serde(default = "token_field")]
    pub token_field: String,
    /// The tokens revoked, each with one call, in order (default `[refresh, access]`); a token
    /// not listed is reported as ended by the others.
    #[serde(default = "default_revoked")]
    pub tokens: Vec<RevokedToken>,
    /// A JSON pointer that must be `true` in a 2xx reply for it to count (Slack's `/ok`).
    #[serde(default)]
    pub success_pointer: Option<String>,
}

fn token_field() -> String {
    "token".to_owned()
}

fn default_revoked() -> Vec<RevokedToken> {
    vec![RevokedToken::Refresh, RevokedToken::Access]
}

impl RevokedToken {
    /// The credential field (and RFC 7009 `token_type_hint`) of this token.
    pub fn hint(self) -> &'static str {
        match self {
            RevokedToken::Access => "access_token",
            RevokedToken::Refresh => "refresh_token",
        }
    }
}
