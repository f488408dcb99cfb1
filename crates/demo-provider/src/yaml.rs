//! The provider file (format in `docs/providers.md`) that points Patchbay at a running Demo
//! Cloud. Loopback `http://127.0.0.1:PORT` URLs are accepted by the catalog for exactly this use.
//!
//! Every string value is written as a double-quoted (JSON-style) scalar, so no id, secret or URL
//! can change the YAML structure.

use std::fmt::Write as _;

use crate::scopes::SCOPES;

/// Choices for [`DemoProvider::provider_yaml`](crate::DemoProvider::provider_yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderYamlOptions<'a> {
    /// `granular_scopes` (default `true`); `false` makes Patchbay request every scope.
    pub granular: bool,
    /// `auth_mode: oauth2_client_credentials` instead of `oauth2` (no authorization URL, no
    /// PKCE, no issuer).
    pub client_credentials: bool,
    /// `grant_lifetime` (`60d`, `12h`…), if any.
    pub grant_lifetime: Option<&'a str>,
    /// `pkce` (default `true`).
    pub pkce: bool,
    /// `token_endpoint_auth`: `client_secret_basic` or `client_secret_post`; `None` (default)
    /// picks the one the server accepts (basic when it accepts either).
    pub token_endpoint_auth: Option<&'a str>,
    /// `revocation_scope` (`token` or `grant`), if written.
    pub revocation_scope: Option<&'a str>,
    /// `verify.account_id: "/id"` (default `true`): the stable id pins reauthorizations.
    pub account_id: bool,
    /// `issuer:` (default `true`); `false` leaves it to discovery from the server's metadata.
    pub issuer: bool,
    /// `callback_hmac:` (the callback's signature parameter, Shopify style), if any. Demo Cloud
    /// itself does not sign: a test signs the redirect it hands to the callback.
    pub callback_hmac: Option<&'a str>,
    /// `reverify_every` (`1h`…), if any: the periodic token check Twitch asks for.
    pub reverify_every: Option<&'a str>,
}

impl Default for ProviderYamlOptions<'_> {
    fn default() -> Self {
        ProviderYamlOptions {
            granular: true,
            client_credentials: false,
            grant_lifetime: None,
            pkce: true,
            token_endpoint_auth: None,
            revocation_scope: None,
            account_id: true,
            issuer: true,
            callback_hmac: None,
            reverify_every: None,
        }
    }
}

/// The modules of the file as `(id, name, scope, API calls)`.
const MODULES: &[(&str, &str, &str, &[&str])] = &[
    ("watch_items", "Watch items", "items:read", &["GET /api/items"]),
    ("create_item", "Create an item", "items:write", &["POST /api/items"]),
    ("delete_item", "Delete an item", "items:delete", &["DELETE /api/items/*"]),
    ("get_profile", "Get my profile", "profile", &["GET /api/me"]),
];

/// A double-quoted YAML scalar (JSON string syntax is valid YAML).
fn q(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

pub(crate) fn render(
    id: &str,
    base: &str,
    client_id: &str,
    client_secret: &str,
    default_auth: &str,
    opts: &ProviderYamlOptions<'_>,
) -> String {
    let mut y = String::new();
    let auth = opts.token_endpoint_auth.unwrap_or(default_auth);
    // `writeln!` into a String cannot fail.
    let _ = writeln!(y, "# Demo Cloud on {base} (patchbay-demo-provider)");
    let _ = writeln!(y, "id: {}", q(id));
    let _ = writeln!(y, "display_name: \"Demo Cloud\"");
    let _ =
        writeln!(y, "description: \"A practice service running on this machine: try a whole consent flow offline.\"");
    if opts.client_credentials {
        let _ = writeln!(y, "auth_mode: oauth2_client_credentials");
    } else {
        let _ = writeln!(y, "auth_mode: oauth2");
        let _ = writeln!(y, "authorization_url: {}", q(&format!("{base}/oauth/authorize")));
    }
    let _ = writeln!(y, "token_url: {}", q(&format!("{base}/oauth/token")));
    let _ = writeln!(y, "revocation_url: {}", q(&format!("{base}/oauth/revoke")));
    if let Some(scope) = opts.revocation_scope {
        let _ = writeln!(y, "revocation_scope: {}", q(scope));
    }
    if !opts.client_credentials && opts.issuer {
        let _ = writeln!(y, "issuer: {}", q(base));
    }
    if !opts.client_credentials {
        let _ = writeln!(y, "pkce: {}", opts.pkce);
    }
    let _ = writeln!(y, "token_endpoint_auth: {}", q(auth));
    let _ = writeln!(y, "granular_scopes: {}", opts.granular);
    let _ = writeln!(y, "default_scopes: [\"profile\"]");
    let _ = writeln!(y, "client_id: {}", q(client_id));
    let _ = writeln!(y, "client_secret: {}", q(client_secret));
    if let Some(param) = opts.callback_hmac {
        let _ = writeln!(y, "callback_hmac: {}", q(param));
    }
    if let Some(lifetime) = opts.grant_lifetime {
        let _ = writeln!(y, "grant_lifetime: {}", q(lifetime));
    }
    if let Some(every) = opts.reverify_every {
        let _ = writeln!(y, "reverify_every: {}", q(every));
    }
    let _ = writeln!(y, "scopes:");
    for (scope, description) in SCOPES {
        let _ = writeln!(y, "  {}: {}", q(scope), q(description));
    }
    let _ = writeln!(y, "api_base_url: {}", q(base));
    let id = if opts.account_id { ", account_id: \"/id\"" } else { "" };
    let _ = writeln!(y, "verify: {{method: GET, path: \"/api/me\", account: \"/email\"{id}}}");
    let _ = writeln!(y, "modules:");
    for (module, name, scope, api) in MODULES {
        let api: Vec<String> = api.iter().map(|a| q(a)).collect();
        let _ = writeln!(y, "  {module}: {{name: {}, scopes: [{}], api: [{}]}}", q(name), q(scope), api.join(", "));
    }
    y
}
