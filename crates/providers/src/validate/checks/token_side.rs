//! Checks of the token side of a file (docs/providers.md, "The token side"): `token_response`
//! pointers and lifetimes, metadata keys (syntax, one source each, apart from settings),
//! `metadata_hosts` (a captured key, real host suffixes, never a bare TLD), `callback_params`,
//! the `context` call, `token_request`, a declared `revocation`, and public clients.

use std::collections::BTreeMap;

use patchbay_domain::grant_format::{RevocationAuth, RevocationBody, RevokedToken};
use patchbay_domain::provider::{AuthMode, Provider, TokenEndpointAuth};

use super::auth::FORBIDDEN_HEADERS;
use super::{Checker, Seg};
use crate::metadata::origin_placeholder;
use crate::template::{Place, UrlTemplate, is_dns_label, is_loopback_name, is_setting_key};

/// Callback parameters Patchbay reads itself.
const OWN_CALLBACK_PARAMS: &[&str] = &["code", "state", "error", "error_description", "error_uri", "iss"];

/// Token-request parameters Patchbay sets itself.
const OWN_TOKEN_PARAMS: &[&str] =
    &["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "client_id", "client_secret", "scope"];

/// Whether `text` is a JSON pointer to something (`/a/b`, no whitespace).
fn is_pointer(text: &str) -> bool {
    text.starts_with('/') && text.len() > 1 && !text.chars().any(char::is_whitespace)
}

impl Checker<'_> {
    /// `{key}` naming a setting or a metadata value (a verify account entry).
    pub(super) fn known_value_ref(&self, p: &Provider, text: &str) -> bool {
        text.strip_prefix('{')
            .and_then(|k| k.strip_suffix('}'))
            .is_some_and(|k| p.setting(k).is_some_and(|s| !s.secret) || p.metadata_keys().any(|m| m == k))
    }

    /// An `{origin}/path` URL: checked here (and `true` returned) when `value` begins with an
    /// origin placeholder.
    pub(super) fn check_origin_url(&mut self, p: &Provider, field: &str, value: &str) -> bool {
        let Some((key, rest)) = origin_placeholder(value) else { return false };
        // A setting that holds an instance address (GitLab self-managed) is the request side's.
        if !p.metadata_hosts.contains_key(key) && p.setting(key).is_some() {
            return false;
        }
        let at: Vec<Seg<'_>> = field.split('.').map(Seg::Key).collect();
        if !p.metadata_hosts.contains_key(key) {
            self.err(
                &at,
                field,
                format!(
                    "`{{{key}}}` begins the URL, so it chooses the host: declare the hosts it may name under \
                     `metadata_hosts:` (e.g. `{key}: [my.example.com]`) and capture it as metadata"
                ),
            );
            return true;
        }
        match UrlTemplate::parse(&format!("https://origin.example{rest}")) {
            Ok(t) => {
                if field == "api_base_url" && !t.rest.is_empty() {
                    self.err(&at, field, "api_base_url cannot have a query or fragment: paths are appended to it");
                }
                let others: Vec<(&str, Place)> = t.placeholders();
                if others.iter().any(|(_, place)| *place == Place::Host) {
                    self.err(&at, field, "only a path may follow an origin placeholder");
                }
                self.check_placeholders(p, field, &others);
            }
            Err(msg) => self.err(&at, field, format!("`{value}`: {msg}")),
        }
        true
    }

    pub(super) fn check_token_side(&mut self, p: &Provider) {
        if !p.auth_mode.is_oauth() {
            return; // `auth` reports these keys as OAuth-only.
        }
        self.check_token_response(p);
        self.check_metadata_keys(p);
        self.check_metadata_hosts(p);
        self.check_callback_params(p);
        self.check_callback_hmac(p);
        self.check_context(p);
        self.check_token_request(p);
        self.check_revocation(p);
        if p.token_endpoint_auth == TokenEndpointAuth::None {
            let at = [Seg::Key("token_endpoint_auth")];
            if !p.pkce || p.auth_mode != AuthMode::Oauth2 {
                self.err(
                    &at,
                    "token_endpoint_auth",
                    "`none` is a public client: it proves nothing at the token endpoint, so it needs \
                     `auth_mode: oauth2` with `pkce: true`",
                );
            }
            if p.client_secret.is_some() {
                self.err(&at, "token_endpoint_auth", "a public client (`none`) has no `client_secret`; remove it");
            }
        }
    }

    fn check_token_response(&mut self, p: &Provider) {
        let m = &p.token_response;
        let pointers = [
            ("access_token", &m.access_token),
            ("refresh_token", &m.refresh_token),
            ("expires_in", &m.expires_in),
            ("scope", &m.scope),
            ("refresh_token_expires_in", &m.refresh_token_expires_in),
        ];
        for (key, pointer) in pointers {
            if let Some(pointer) = pointer
                && !is_pointer(pointer)
            {
                self.err(
                    &[Seg::Key("token_response"), Seg::Key(key)],
                    format!("token_response.{key}"),
                    format!("`{pointer}` is not a JSON pointer: write it like `/{key}` or `/authed_user/{key}`"),
                );
            }
        }
        if m.scope_separator.as_deref() == Some("") {
            let at = [Seg::Key("token_response"), Seg::Key("scope_separator")];
            self.err(&at, "token_response.scope_separator", "must not be empty: write \",\" or \" \"");
        }
        if m.refresh_token_expires_in.is_some() && m.refresh_token_lifetime.is_some() {
            let at = [Seg::Key("token_response"), Seg::Key("refresh_token_lifetime")];
            self.err(
                &at,
                "token_response.refresh_token_lifetime",
                "the reply states the refresh token's lifetime (`refresh_token_expires_in`); drop the fixed one",
            );
        }
        if let (Some(fixed), Some(keep)) = (m.refresh_token_lifetime, p.keep_alive)
            && keep.seconds >= fixed.seconds
        {
            self.err(
                &[Seg::Key("keep_alive")],
                "keep_alive",
                "must be shorter than `token_response.refresh_token_lifetime`, or idle refresh tokens expire \
                 before Patchbay refreshes them",
            );
        }
        self.check_metadata_pointers(&["token_response", "metadata"], &m.metadata);
    }

    fn check_metadata_pointers(&mut self, at: &[&str], map: &BTreeMap<String, String>) {
        let field = at.join(".");
        for (key, pointer) in map {
            let mut path: Vec<Seg<'_>> = at.iter().map(|k| Seg::Key(k)).collect();
            path.push(Seg::Key(key));
            if !is_pointer(pointer) {
                self.err(
                    &path,
                    format!("{field}.{key}"),
                    format!("`{pointer}` is not a JSON pointer: write it like `/team/id` (`/0/id` for a list)"),
                );
            }
        }
    }

    fn check_metadata_keys(&mut self, p: &Provider) {
        let sources: [(&str, Vec<&String>); 3] = [
            ("token_response.metadata", p.token_response.metadata.keys().collect()),
            ("callback_params", p.callback_params.values().collect()),
            ("context.metadata", p.context.iter().flat_map(|c| c.metadata.keys()).collect()),
        ];
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (field, keys) in &sources {
            let at: Vec<Seg<'_>> = field.split('.').map(Seg::Key).collect();
            for key in keys {
                if !is_setting_key(key) || key.as_str() == "client_id" {
                    self.err(
                        &at,
                        *field,
                        format!("`{key}` is not a metadata key: use a-z, 0-9 and _ (and not `client_id`)"),
                    );
                } else if p.setting(key).is_some() {
                    self.err(
                        &at,
                        *field,
                        format!("`{key}` is also a setting: metadata and settings share `{{key}}`, rename one"),
                    );
                } else if let Some(first) = seen.insert(key.as_str(), field) {
                    self.err(&at, *field, format!("`{key}` is already captured by `{first}`; capture it once"));
                }
            }
        }
    }

    fn check_metadata_hosts(&mut self, p: &Provider) {
        for (key, hosts) in &p.metadata_hosts {
            let at = [Seg::Key("metadata_hosts"), Seg::Key(key)];
            let field = format!("metadata_hosts.{key}");
            if !p.metadata_keys().any(|m| m == key) {
                self.err(
                    &at,
                    field.as_str(),
                    format!("`{key}` is never captured: add it to `token_response.metadata`, `callback_params` or `context.metadata`"),
                );
            }
            if hosts.is_empty() {
                self.err(&at, field.as_str(), "list at least one host, e.g. `[my.salesforce.com]`");
            }
            for host in hosts {
                let labels: Vec<&str> = host.split('.').collect();
                let loopback = is_loopback_name(host);
                if !loopback && !labels.iter().all(|l| is_dns_label(l)) {
                    self.err(
                        &at,
                        field.as_str(),
                        format!(
                            "`{host}` is not a host name: write lowercase labels without scheme, port, path or `*` \
                             (`my.salesforce.com` also allows its subdomains)"
                        ),
                    );
                } else if !loopback && labels.len() < 2 {
                    self.err(
                        &at,
                        field.as_str(),
                        format!(
                            "`{host}` is a bare top-level domain: any host under it could receive credentials; \
                             name the provider's own domain (at least two labels)"
                        ),
                    );
                }
            }
        }
    }

    fn check_callback_params(&mut self, p: &Provider) {
        for name in p.callback_params.keys() {
            let at = [Seg::Key("callback_params"), Seg::Key(name)];
            let field = format!("callback_params.{name}");
            let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !ok {
                self.err(&at, field.as_str(), format!("`{name}` is not a query parameter name (A-Z, a-z, 0-9, `_.-`)"));
            } else if OWN_CALLBACK_PARAMS.contains(&name.as_str()) {
                self.err(&at, field.as_str(), format!("`{name}` is read by Patchbay itself; remove it"));
            }
        }
        if !p.callback_params.is_empty() && p.auth_mode != AuthMode::Oauth2 {
            self.err(
                &[Seg::Key("callback_params")],
                "callback_params",
                "only an `oauth2` consent has a callback; remove callback_params",
            );
        }
    }

    fn check_callback_hmac(&mut self, p: &Provider) {
        let Some(param) = &p.callback_hmac else { return };
        let at = [Seg::Key("callback_hmac")];
        let ok = !param.is_empty() && param.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            self.err(&at, "callback_hmac", format!("`{param}` is not a query parameter name (A-Z, a-z, 0-9, `_.-`)"));
        } else if OWN_CALLBACK_PARAMS.contains(&param.as_str()) || p.callback_params.contains_key(param) {
            self.err(
                &at,
                "callback_hmac",
                format!("`{param}` already has another meaning on the callback; name the signature parameter"),
            );
        }
        if p.auth_mode != AuthMode::Oauth2 {
            self.err(&at, "callback_hmac", "only an `oauth2` consent has a callback; remove callback_hmac");
        } else if p.token_endpoint_auth == TokenEndpointAuth::None {
            self.err(
                &at,
                "callback_hmac",
                "the signature is keyed with the client secret, and a public client (`token_endpoint_auth: none`) has none",
            );
        }
    }

    fn check_context(&mut self, p: &Provider) {
        let Some(c) = &p.context else { return };
        let url_at = [Seg::Key("context"), Seg::Key("url")];
        match UrlTemplate::parse(&c.url) {
            Ok(t) if !t.placeholders().is_empty() => self.err(
                &url_at,
                "context.url",
                "the context URL cannot have placeholders: the access token goes there, so the file fixes the host",
            ),
            Ok(t) if t.scheme != "https" && !(t.scheme == "http" && t.is_loopback_host()) => {
                self.err(&url_at, "context.url", format!("`{}` must be an https:// URL", c.url));
            }
            Ok(_) => {}
            Err(msg) => self.err(&url_at, "context.url", format!("`{}`: {msg}", c.url)),
        }
        if c.metadata.is_empty() {
            let at = [Seg::Key("context"), Seg::Key("metadata")];
            self.err(&at, "context.metadata", "capture at least one value, e.g. `{tenant_id: /0/tenantId}`");
        }
        if http::HeaderValue::from_str(&format!("{}token", c.token_prefix)).is_err() {
            let at = [Seg::Key("context"), Seg::Key("token_prefix")];
            self.err(&at, "context.token_prefix", "must be printable ASCII on one line, e.g. \"Bearer \"");
        }
        self.check_metadata_pointers(&["context", "metadata"], &c.metadata);
    }

    fn check_token_request(&mut self, p: &Provider) {
        for name in p.token_request.params.keys() {
            if OWN_TOKEN_PARAMS.contains(&name.as_str()) {
                let at = [Seg::Key("token_request"), Seg::Key("params"), Seg::Key(name)];
                self.err(
                    &at,
                    format!("token_request.params.{name}"),
                    format!("`{name}` is set by Patchbay; remove it"),
                );
            }
        }
        for (name, value) in &p.token_request.headers {
            let at = [Seg::Key("token_request"), Seg::Key("headers"), Seg::Key(name)];
            let field = format!("token_request.headers.{name}");
            let lower = name.to_ascii_lowercase();
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.err(&at, field, format!("`{name}` is not a valid HTTP header name"));
            } else if FORBIDDEN_HEADERS.contains(&lower.as_str()) || lower == "content-type" {
                self.err(&at, field, format!("`{name}` is set by Patchbay (client authentication, body framing)"));
            } else if http::HeaderValue::from_str(value).is_err() {
                self.err(&at, field, "the value must be printable ASCII on one line");
            }
        }
    }

    fn check_revocation(&mut self, p: &Provider) {
        let Some(r) = &p.revocation else { return };
        let at = [Seg::Key("revocation")];
        if p.revocation_url.is_some() {
            self.err(&at, "revocation", "declare either `revocation_url` (RFC 7009) or `revocation:`, not both");
        }
        // `{client_id}` is the connection's client; any other placeholder follows the URL rules.
        if r.url.contains("{client_id}") {
            let mut q = p.clone();
            q.settings.push(patchbay_domain::provider::SettingField {
                key: "client_id".into(),
                label: "client".into(),
                secret: false,
                required: true,
                help: None,
                placeholder: None,
                default: None,
                choices: Vec::new(),
                free_text: false,
                kind: Default::default(),
            });
            self.check_url(&q, "revocation.url", &r.url);
        } else {
            self.check_url(p, "revocation.url", &r.url);
        }
        if r.tokens.is_empty() {
            let tokens_at = [Seg::Key("revocation"), Seg::Key("tokens")];
            self.err(&tokens_at, "revocation.tokens", "list the tokens to revoke: `[refresh, access]`, `[access]`");
        }
        let mut unique = r.tokens.clone();
        unique.dedup();
        if unique.len() != r.tokens.len() {
            let tokens_at = [Seg::Key("revocation"), Seg::Key("tokens")];
            self.err(&tokens_at, "revocation.tokens", "a token is listed twice");
        }
        if r.auth == RevocationAuth::Bearer && r.tokens.contains(&RevokedToken::Refresh) {
            let tokens_at = [Seg::Key("revocation"), Seg::Key("tokens")];
            self.err(
                &tokens_at,
                "revocation.tokens",
                "with `auth: bearer` the token is sent as `Authorization: Bearer`, which only an access token can be: \
                 write `tokens: [access]`",
            );
        }
        if r.auth == RevocationAuth::ClientPost && p.token_endpoint_auth == TokenEndpointAuth::None {
            let auth_at = [Seg::Key("revocation"), Seg::Key("auth")];
            self.err(
                &auth_at,
                "revocation.auth",
                "a public client (`token_endpoint_auth: none`) has no secret to send in the body: use `auth: client`, \
                 `auth: none` or `auth: bearer`",
            );
        }
        if r.auth == RevocationAuth::ClientBasic && p.token_endpoint_auth == TokenEndpointAuth::None {
            let auth_at = [Seg::Key("revocation"), Seg::Key("auth")];
            self.err(
                &auth_at,
                "revocation.auth",
                "a public client (`token_endpoint_auth: none`) has no secret to send by HTTP Basic: use `auth: none` \
                 or `auth: bearer`",
            );
        }
        if r.body == RevocationBody::None && r.auth != RevocationAuth::Bearer {
            let body_at = [Seg::Key("revocation"), Seg::Key("body")];
            self.err(
                &body_at,
                "revocation.body",
                "`body: none` sends the token nowhere unless it is the credential: use `auth: bearer`, or put it \
                 in a `form`, `json` or `query`",
            );
        }
        let field_ok =
            !r.token_field.is_empty() && r.token_field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !field_ok {
            let field_at = [Seg::Key("revocation"), Seg::Key("token_field")];
            self.err(&field_at, "revocation.token_field", "use letters, digits and `_`, e.g. `token`");
        }
        if let Some(pointer) = &r.success_pointer
            && !is_pointer(pointer)
        {
            let ptr_at = [Seg::Key("revocation"), Seg::Key("success_pointer")];
            self.err(&ptr_at, "revocation.success_pointer", format!("`{pointer}` is not a JSON pointer, e.g. `/ok`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::errors;

    #[test]
    fn token_side_mistakes_are_reported_with_how_to_fix() {
        let text = "\
id: acme
display_name: Acme
auth_mode: oauth2
authorization_url: https://acme.example/authorize
token_url: https://acme.example/token
revocation_url: https://acme.example/revoke
token_endpoint_auth: none
pkce: false
token_response:
  access_token: authed_user.access_token
  metadata: {instance_url: /instance_url, team: /team/name}
metadata_hosts:
  instance_url: [com]
  never: [acme.example]
callback_params: {state: realm}
api_base_url: \"{site_url}/api\"
revocation: {url: https://acme.example/r, auth: client, body: none, tokens: [access]}
verify: {path: /me, account: [\"{nothing}\"]}
";
        let rendered: Vec<String> = errors(text).iter().map(ToString::to_string).collect();
        let expect = [
            "t.yaml:7: token_endpoint_auth: `none` is a public client",
            "t.yaml:10: token_response.access_token: `authed_user.access_token` is not a JSON pointer",
            "t.yaml:13: metadata_hosts.instance_url: `com` is a bare top-level domain",
            "t.yaml:14: metadata_hosts.never: `never` is never captured",
            "t.yaml:15: callback_params.state: `state` is read by Patchbay itself",
            "t.yaml:16: api_base_url: `{site_url}` begins the URL",
            "t.yaml:17: revocation: declare either `revocation_url` (RFC 7009) or `revocation:`",
            "t.yaml:17: revocation.body: `body: none` sends the token nowhere",
            "t.yaml:18: verify.account: `{nothing}` (entry 0) is not a JSON pointer",
        ];
        for e in expect {
            assert!(rendered.iter().any(|r| r.starts_with(e)), "missing {e:?} in\n{}", rendered.join("\n"));
        }
        assert_eq!(rendered.len(), expect.len(), "{}", rendered.join("\n"));
    }

    #[test]
    fn basic_revocation_needs_a_client_with_a_secret() {
        let file = |auth: &str| {
            format!(
                "id: acme\ndisplay_name: Acme\nauth_mode: oauth2\nauthorization_url: https://acme.example/authorize\n\
                 token_url: https://acme.example/token\ntoken_endpoint_auth: {auth}\n\
                 revocation: {{url: \"https://acme.example/apps/{{client_id}}/token\", method: DELETE, auth: client_basic, body: json, tokens: [access]}}\n"
            )
        };
        let public: Vec<String> = errors(&file("none")).iter().map(ToString::to_string).collect();
        assert!(
            public.len() == 1 && public[0].starts_with("t.yaml:7: revocation.auth: a public client"),
            "{}",
            public.join("\n")
        );
        let confidential = crate::validate::parse_provider("t.yaml", &file("client_secret_post"), &|_| None);
        assert!(confidential.is_ok(), "a confidential client may revoke by Basic: {:?}", confidential.err());
    }

    #[test]
    fn body_revocation_needs_a_client_with_a_secret() {
        let file = |auth: &str| {
            format!(
                "id: acme\ndisplay_name: Acme\nauth_mode: oauth2\nauthorization_url: https://acme.example/authorize\n\
                 token_url: https://acme.example/token\ntoken_endpoint_auth: {auth}\n\
                 revocation: {{url: https://acme.example/revoke, auth: client_post, body: form}}\n"
            )
        };
        let public: Vec<String> = errors(&file("none")).iter().map(ToString::to_string).collect();
        assert!(
            public.len() == 1 && public[0].starts_with("t.yaml:7: revocation.auth: a public client"),
            "{}",
            public.join("\n")
        );
        // Calendly: Basic at the token endpoint, the client in the body of the revocation.
        let basic = crate::validate::parse_provider("t.yaml", &file("client_secret_basic"), &|_| None);
        assert!(basic.is_ok(), "a Basic client may revoke with its secret in the body: {:?}", basic.err());
    }
}
