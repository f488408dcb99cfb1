//! The request side of the provider model (docs/providers.md, "Requests"): the parts of a provider
//! file that say where API calls go and what they carry — extra API hosts, where an OAuth token
//! is placed, setting choices, and the shape of the verify call (body, success predicate).
//!
//! Kept apart from `provider.rs` so the vocabulary of *requests* stays in one place; the fields
//! themselves hang off [`crate::provider::Provider`], [`crate::provider::SettingField`] and
//! [`crate::provider::VerifyCall`].

use serde::{Deserialize, Deserializer, Serialize};

/// Where an OAuth access token goes on an API call, for services that do not take
/// `Authorization: Bearer` (Shopify's `X-Shopify-Access-Token`, Zoho's
/// `Authorization: Zoho-oauthtoken …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthTokenPlacement {
    /// The header that carries the token.
    pub header: String,
    /// Text put before the token (`"Zoho-oauthtoken "`); empty sends the token alone.
    #[serde(default)]
    pub prefix: String,
}

/// One entry of a setting's `choices`: a value and the label the form shows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChoice {
    /// The value stored and put into URLs.
    pub value: String,
    /// What the form shows; the value itself when not given.
    pub label: String,
}

impl<'de> Deserialize<'de> for SettingChoice {
    /// `common` or `{value: common, label: "Any account"}`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            value: String,
            #[serde(default)]
            label: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Plain(String),
            Full(Full),
        }
        Ok(match Form::deserialize(d)? {
            Form::Plain(value) => SettingChoice { label: value.clone(), value },
            Form::Full(Full { value, label }) => SettingChoice { label: label.unwrap_or_else(|| value.clone()), value },
        })
    }
}

/// What kind of value a setting holds, beyond free text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// Free text (a subdomain, a tenant id, an organization id).
    #[default]
    Text,
    /// The address of a self-managed instance (`https://gitlab.example.com`): scheme, host and an
    /// optional port, nothing else. Only as the `{key}` that starts a URL template
    /// (`{instance}/api/v4`); every call to it still goes through the address guard.
    InstanceUrl,
}

/// A JSON scalar a verify reply is compared with (`equals: true`, `equals: "ok"`, `equals: 0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A string.
    Text(String),
}

/// When a 2xx verify reply really means success: the value at `pointer` equals `equals`
/// (Slack's `auth.test` answers 200 `{"ok": false}` for a dead token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessPredicate {
    /// JSON pointer into the reply (`/ok`).
    pub pointer: String,
    /// The value it must have.
    pub equals: Scalar,
    /// JSON pointer to the provider's error text when the predicate fails (`/error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The content type a verify body is sent with when the file does not say.
pub const DEFAULT_VERIFY_CONTENT_TYPE: &str = "application/json";
