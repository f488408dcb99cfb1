//! The provider model (docs/providers.md): one YAML file per third-party service.
//!
//! These types are the deserialization target of a provider file, so serde's
//! `deny_unknown_fields` makes an unknown key an error with its line number. Checks that need more
//! than one field (a module naming an undeclared scope, a URL that is not https) live in the
//! `patchbay-providers` catalog, which also interpolates `${VAR}` before parsing.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

pub use crate::category::Category;
use crate::grant_format::{ContextCall, RevocationCall, TokenRequestShape, TokenResponseMap};
pub use crate::lifetime::Lifetime;
pub use crate::provider_request::{
    DEFAULT_VERIFY_CONTENT_TYPE, OAuthTokenPlacement, Scalar, SettingChoice, SettingKind, SuccessPredicate,
};

/// How a provider authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// OAuth 2.0 authorization code grant (with PKCE unless disabled).
    Oauth2,
    /// OAuth 2.0 client credentials grant: no user consent, a token per connection.
    Oauth2ClientCredentials,
    /// A static API key placed in a header or the query string.
    ApiKey,
    /// HTTP basic authentication (username and password or token).
    Basic,
}

impl AuthMode {
    /// The name used in provider files and API responses.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Oauth2 => "oauth2",
            AuthMode::Oauth2ClientCredentials => "oauth2_client_credentials",
            AuthMode::ApiKey => "api_key",
            AuthMode::Basic => "basic",
        }
    }

    /// Whether the credential comes from a consent flow or token endpoint rather than a form.
    pub fn is_oauth(self) -> bool {
        matches!(self, AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials)
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuth {
    /// HTTP basic with client id and secret (RFC 6749 §2.3.1, the recommended form).
    #[default]
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
    /// A public client: only `client_id` in the body, no secret (PKCE is then required).
    None,
}

/// Where an API key goes on each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    /// A request header.
    Header,
    /// A query-string parameter.
    Query,
}

/// Placement of an API key (`api_key: {in: header, name: Authorization, prefix: "Bearer "}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyPlacement {
    /// Header or query.
    #[serde(rename = "in")]
    pub location: KeyLocation,
    /// Header or parameter name.
    pub name: String,
    /// Text put before the key, e.g. `"Bearer "`.
    #[serde(default)]
    pub prefix: String,
    /// Label of the key field in the Add connection form.
    #[serde(default = "default_api_key_label")]
    pub label: String,
    /// Where the user finds the key (shown under the field).
    #[serde(default)]
    pub help: Option<String>,
}

fn default_api_key_label() -> String {
    "API key".to_owned()
}

/// Form labels for basic-auth providers; everything is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthForm {
    /// Label of the username field.
    #[serde(default = "default_username_label")]
    pub username_label: String,
    /// Label of the password field.
    #[serde(default = "default_password_label")]
    pub password_label: String,
    /// A username the service always expects (Mailgun's `api`); the form then hides the field.
    #[serde(default)]
    pub fixed_username: Option<String>,
    /// Where the user finds the credentials.
    #[serde(default)]
    pub help: Option<String>,
}

impl Default for BasicAuthForm {
    fn default() -> Self {
        Self {
            username_label: default_username_label(),
            password_label: default_password_label(),
            fixed_username: None,
            help: None,
        }
    }
}

fn default_username_label() -> String {
    "Username".to_owned()
}

fn default_password_label() -> String {
    "Password".to_owned()
}

/// The call that proves a credential works and names the account behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCall {
    /// HTTP method, `GET` unless stated.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path appended to `api_base_url` (may contain `{setting}` placeholders).
    pub path: String,
    /// JSON pointers into the reply, tried in order; the first string found is the account label.
    #[serde(default, deserialize_with = "one_or_many")]
    pub account: Vec<String>,
    /// JSON pointer to the provider's stable, immutable account id (`/sub`, `/id`). When set, a
    /// reauthorize is pinned to this id rather than to the label; see `docs/providers.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Key of an `api_hosts` entry the call goes to instead of `api_base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Request body, sent verbatim (a GraphQL identity query, Dropbox's literal `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Content type of `body` (default `application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A 2xx reply is a success only when this holds (Slack's `{"ok": true}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<SuccessPredicate>,
    /// OAuth only: this call sends the access token as `Authorization: <token_prefix><token>`,
    /// whatever `oauth_token` says for API calls (Twitch's validation endpoint takes `OAuth `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_prefix: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// A module: one operation a scenario step runs, with the scopes it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// Human name ("Watch posts").
    pub name: String,
    /// Scopes the module needs.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Optional longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// The API calls the module makes, as `METHOD /path` with `*` matching one path segment
    /// (`GET /api/posts/*`); empty means undeclared (no restriction). The proxy refuses a call
    /// that names the module and matches none of them.
    #[serde(default)]
    pub api: Vec<String>,
}

/// One declared API call of a module: `METHOD /path`, where a `*` segment matches exactly one
/// path segment and a final `**` matches any rest (one segment or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPattern {
    /// Upper-case HTTP method.
    pub method: String,
    /// The `api_hosts` key the call goes to (`content:/2/files/upload`); `None` for `api_base_url`.
    pub host: Option<String>,
    /// Path segments (`*` and a final `**` are wildcards).
    pub segments: Vec<String>,
}

/// Methods a module may declare.
const API_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

impl ApiPattern {
    /// Parses `GET /api/posts/*`; the error says what is wrong (for the catalog's messages).
    pub fn parse(text: &str) -> Result<ApiPattern, String> {
        let (method, path) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| "is not an API call: write `METHOD /path`, e.g. `GET /api/posts/*`".to_owned())?;
        let path = path.trim();
        // `content:/2/files/upload` names an `api_hosts` entry; a plain `/path` is the main base.
        let (host, path) = match path.split_once(":/") {
            Some((key, _)) if !path.starts_with('/') => {
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                    return Err(format!("names the host `{key}`: an api_hosts key uses a-z, 0-9 and _"));
                }
                (Some(key.to_owned()), &path[key.len() + 1..])
            }
            _ => (None, path),
        };
        if !API_METHODS.contains(&method) {
            return Err(format!("has method `{method}`: use one of {}", API_METHODS.join(", ")));
        }
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            return Err("needs a path that starts with `/` and has no query, fragment or space".to_owned());
        }
        let segments: Vec<String> = path[1..].split('/').map(str::to_owned).collect();
        for (i, seg) in segments.iter().enumerate() {
            let wild = seg.contains('*');
            let whole = seg == "*" || (seg == "**" && i + 1 == segments.len());
            if wild && !whole {
                return Err("uses `*` inside a segment: a `*` stands for one whole segment, `**` (last) for the rest"
                    .to_owned());
            }
            if seg == "." || seg == ".." {
                return Err("contains `.` or `..` segments".to_owned());
            }
        }
        Ok(ApiPattern { method: method.to_owned(), host, segments })
    }

    /// Whether a call `method path` to the API host `host` (`None`: `api_base_url`), path without
    /// query, matches this pattern.
    pub fn matches_on(&self, host: Option<&str>, method: &str, path: &str) -> bool {
        self.host.as_deref() == host && self.matches(method, path)
    }

    /// Whether a call `method path` (path without query) matches this pattern, whatever its host.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let Some(rest) = path.strip_prefix('/') else { return false };
        let got: Vec<&str> = rest.split('/').collect();
        if got.iter().any(|s| *s == "." || *s == ".." || s.contains('%') && s.to_ascii_lowercase().contains("%2f")) {
            return false;
        }
        if self.segments.last().is_some_and(|s| s == "**") {
            let fixed = self.segments.len() - 1;
            return got.len() > fixed
                && got.iter().zip(&self.segments[..fixed]).all(|(g, p)| p == "*" && !g.is_empty() || p == g);
        }
        got.len() == self.segments.len()
            && got.iter().zip(&self.segments).all(|(g, p)| p == "*" && !g.is_empty() || p == g)
    }
}

/// How far a provider's RFC 7009 revocation reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationScope {
    /// Revoking a token ends only the grant it belongs to (RFC 7009 §2.1): a superseded grant can
    /// be revoked without touching the new one.
    #[default]
    Token,
    /// Revoking any token ends the whole authorization of the app for the user (Google): a
    /// superseded grant is not revoked on reauthorize, as that would kill the new one too.
    Grant,
}

/// The service's own advice on limiting what a credential can reach, for a provider whose
/// credentials Patchbay cannot narrow (a key with the whole account's access, no scopes to pick).
/// The UI shows it next to the credential form; see `docs/providers.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessAdvice {
    /// One or two plain sentences: how to restrict access on the service's side.
    pub text: String,
    /// The service's page that explains it (an absolute `https://` URL).
    pub url: String,
}

/// One advanced setting of a connection (own OAuth client, subdomain, region...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingField {
    /// Key used in requests and in `{key}` URL placeholders.
    pub key: String,
    /// Form label.
    pub label: String,
    /// Whether the value is a secret (encrypted, never returned).
    #[serde(default)]
    pub secret: bool,
    /// Whether the connection cannot be created without it.
    #[serde(default)]
    pub required: bool,
    /// Help text shown under the field.
    #[serde(default)]
    pub help: Option<String>,
    /// Example value shown as a placeholder.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Value used when the connection gives none (Microsoft's tenant `common`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The values the setting may take; any value when empty (or with `free_text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<SettingChoice>,
    /// With `choices`: other values are accepted too (the choices are suggestions).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub free_text: bool,
    /// What the value is (`text`, or `instance_url` for a self-managed instance).
    #[serde(default, skip_serializing_if = "is_text")]
    pub kind: SettingKind,
}

fn is_text(kind: &SettingKind) -> bool {
    *kind == SettingKind::Text
}

impl SettingField {
    /// Whether the value must be one of `choices` (then a host placeholder may stand for several
    /// DNS labels: every value it can take is written in the file).
    pub fn closed_choices(&self) -> bool {
        !self.choices.is_empty() && !self.free_text
    }
}

/// A provider definition as written in its YAML file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// `[a-z0-9-]+`, unique in the catalog.
    pub id: String,
    /// Name shown to users.
    pub display_name: String,
    /// How it authenticates.
    pub auth_mode: AuthMode,
    /// One line about the service.
    #[serde(default)]
    pub description: Option<String>,
    /// What kind of service it is, for the app picker; a file without one is shown as `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The service's API documentation, for operators.
    #[serde(default)]
    pub docs_url: Option<String>,
    /// An issuer or protected-resource URL whose metadata (RFC 8414, RFC 9728) fills the OAuth
    /// endpoints the file leaves out, when the catalog starts.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// OAuth authorize endpoint.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// OAuth token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// Where refresh requests go when not to `token_url` (Figma's `/v1/oauth/refresh`).
    #[serde(default)]
    pub refresh_url: Option<String>,
    /// RFC 7009 revocation endpoint.
    #[serde(default)]
    pub revocation_url: Option<String>,
    /// What revoking one token ends at the provider (default `token`).
    #[serde(default)]
    pub revocation_scope: RevocationScope,
    /// RFC 9207 issuer the callback's `iss` must equal.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Client authentication at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth: TokenEndpointAuth,
    /// PKCE S256 (default on).
    #[serde(default = "yes")]
    pub pkce: bool,
    /// Separator of the `scope` parameter.
    #[serde(default = "space")]
    pub scope_separator: String,
    /// `false`: the service cannot limit access, so every scope is requested.
    #[serde(default = "yes")]
    pub granular_scopes: bool,
    /// Scopes every connection requests.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// Extra parameters on the authorize URL.
    #[serde(default)]
    pub authorization_params: BTreeMap<String, String>,
    /// The platform's OAuth client id (usually `${VAR}`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The platform's OAuth client secret (usually `${VAR}`).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// How long a whole grant lives before the user must consent again.
    #[serde(default)]
    pub grant_lifetime: Option<Lifetime>,
    /// The provider grants incrementally (Google's `include_granted_scopes=true`): a reauthorize
    /// also sends that parameter, so the provider keeps the earlier grants while adding the new
    /// scopes (Patchbay still asks for granted ∪ new).
    #[serde(default)]
    pub incremental_authorization: bool,
    /// Refresh this long before the access token expires (default 5m; at most half the
    /// token's lifetime).
    #[serde(default)]
    pub refresh_margin: Option<Lifetime>,
    /// Refresh an idle connection at least this often so the grant stays alive (default 24h).
    #[serde(default)]
    pub keep_alive: Option<Lifetime>,
    /// Token-endpoint `error` codes, besides `invalid_grant`, that mean the grant is dead.
    #[serde(default)]
    pub terminal_errors: Vec<String>,
    /// Re-verify API-key and basic connections this often (default 24h).
    #[serde(default)]
    pub reverify_every: Option<Lifetime>,
    /// Scope name → human description.
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
    /// Base of API calls (verify, proxy); may contain `{setting}` placeholders.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Headers sent on every API call (e.g. an API version header).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the key goes, for `api_key` providers.
    #[serde(default)]
    pub api_key: Option<ApiKeyPlacement>,
    /// Form labels, for `basic` providers.
    #[serde(default)]
    pub basic: Option<BasicAuthForm>,
    /// The identity / test call.
    #[serde(default)]
    pub verify: Option<VerifyCall>,
    /// Module id → module.
    #[serde(default)]
    pub modules: BTreeMap<String, Module>,
    /// Advanced settings of a connection.
    #[serde(default)]
    pub settings: Vec<SettingField>,
    /// How to restrict the credential on the service's side, when Patchbay cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_advice: Option<AccessAdvice>,
    /// Where the parts of a token reply are, and what of it is kept as metadata.
    #[serde(default)]
    pub token_response: TokenResponseMap,
    /// Callback parameter name → metadata key (QuickBooks `realmId: realm_id`); each one is
    /// required on the callback.
    #[serde(default)]
    pub callback_params: BTreeMap<String, String>,
    /// The callback parameter that carries the provider's signature of the callback (Shopify's
    /// `hmac`): hex HMAC-SHA256 under the client secret of the other parameters, sorted by name
    /// and joined as `name=value&…`. Checked before the code is exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_hmac: Option<String>,
    /// One follow-up call after the grant whose reply fills metadata.
    #[serde(default)]
    pub context: Option<ContextCall>,
    /// Metadata key → the hosts its URL may name (`instance_url: [my.salesforce.com]`): such a
    /// key holds a vetted origin and may begin a URL template (`{instance_url}/services`).
    #[serde(default)]
    pub metadata_hosts: BTreeMap<String, Vec<String>>,
    /// The shape of token requests.
    #[serde(default)]
    pub token_request: TokenRequestShape,
    /// A revocation call that is not RFC 7009 (instead of `revocation_url`).
    #[serde(default)]
    pub revocation: Option<RevocationCall>,
    /// The OAuth app this file shares with sibling files (`google` for Gmail, Drive, Sheets and
    /// Calendar): one client (`PATCHBAY_GOOGLE_CLIENT_ID`) and the same endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_app: Option<String>,
    /// More API hosts a credential may be sent to, key → base URL (Dropbox's content host).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_hosts: BTreeMap<String, String>,
    /// Where the OAuth access token goes when not `Authorization: Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_token: Option<OAuthTokenPlacement>,
    /// The environment variables the catalog read the platform client from (by convention
    /// `PATCHBAY_<APP>_CLIENT_ID` and `_CLIENT_SECRET`); empty when the file names its own
    /// `client_id`, or the provider cannot have a platform client. Set by the loader, never
    /// read from the file.
    #[serde(skip)]
    pub client_variables: Vec<String>,
}

fn yes() -> bool {
    true
}

fn space() -> String {
    " ".to_owned()
}

impl Provider {
    /// The setting declared with `key`, if any.
    pub fn setting(&self, key: &str) -> Option<&SettingField> {
        self.settings.iter().find(|s| s.key == key)
    }

    /// The basic-auth form, defaulted when the file does not spell it out.
    pub fn basic_form(&self) -> BasicAuthForm {
        self.basic.clone().unwrap_or_default()
    }

    /// Whether the operator configured the platform's own OAuth client for this provider.
    ///
    /// A catalog file usually reads `client_id: ${ACME_CLIENT_ID}`; when the operator has not set
    /// that variable the provider still loads (it may be used with a user's own client from the
    /// advanced settings), but its `client_id` and `client_secret` are both `None`, and this
    /// returns `false`.
    pub fn has_platform_client(&self) -> bool {
        self.client_id.as_deref().is_some_and(|id| !id.is_empty())
    }

    /// Whether deleting a connection can revoke its grant (RFC 7009 or a declared call).
    pub fn revokes(&self) -> bool {
        self.revocation_url.is_some() || self.revocation.is_some()
    }

    /// Every metadata key the provider learns (token reply, callback, follow-up call).
    pub fn metadata_keys(&self) -> impl Iterator<Item = &str> {
        self.token_response
            .metadata
            .keys()
            .chain(self.callback_params.values())
            .chain(self.context.iter().flat_map(|c| c.metadata.keys()))
            .map(String::as_str)
    }

    /// The OAuth app this provider's client belongs to: `oauth_app`, else its own id.
    pub fn app_id(&self) -> &str {
        self.oauth_app.as_deref().unwrap_or(&self.id)
    }

    /// The base URL template of an API host: `None` for `api_base_url`, else the `api_hosts` key.
    pub fn api_host(&self, key: Option<&str>) -> Option<&str> {
        match key {
            None => self.api_base_url.as_deref(),
            Some(k) => self.api_hosts.get(k).map(String::as_str),
        }
    }

    /// Every base URL template a credential may be sent to: `api_base_url`, then `api_hosts`.
    pub fn credential_bases(&self) -> impl Iterator<Item = &str> + '_ {
        self.api_base_url.as_deref().into_iter().chain(self.api_hosts.values().map(String::as_str))
    }

    /// The module declared with `id` (the part after `provider.` in `provider.module`).
    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::ApiPattern;

    #[test]
    fn api_patterns_match_whole_segments_only() {
        let one = ApiPattern::parse("GET /api/posts/*").unwrap();
        assert!(one.matches("GET", "/api/posts/7"));
        assert!(one.matches("get", "/api/posts/7"));
        assert!(!one.matches("POST", "/api/posts/7"));
        assert!(!one.matches("GET", "/api/posts"));
        assert!(!one.matches("GET", "/api/posts/7/comments"));
        assert!(!one.matches("GET", "/api/posts/"));
        assert!(!one.matches("GET", "/api/posts/.."));
        assert!(!one.matches("GET", "/api/posts/a%2Fb"));
        let rest = ApiPattern::parse("GET /files/**").unwrap();
        assert!(rest.matches("GET", "/files/a/b/c"));
        assert!(!rest.matches("GET", "/files"));
        let content = ApiPattern::parse("POST content:/2/files/upload").unwrap();
        assert_eq!(content.host.as_deref(), Some("content"));
        assert!(content.matches_on(Some("content"), "POST", "/2/files/upload"));
        assert!(!content.matches_on(None, "POST", "/2/files/upload"));
        assert!(!one.matches_on(Some("content"), "GET", "/api/posts/7"));
        assert!(one.matches_on(None, "GET", "/api/posts/7"));
        for bad in [
            "GET Content:/x",
            "GET :/x",
            "GET a-b:/x",
            "/api/posts",
            "FETCH /x",
            "GET api",
            "GET /a*b",
            "GET /**/x",
            "GET /a?b=1",
            "GET /a/../b",
        ] {
            assert!(ApiPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
