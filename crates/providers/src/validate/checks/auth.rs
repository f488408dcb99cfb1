//! Authentication checks: what each `auth_mode` requires and forbids (OAuth-only keys, `api_key`,
//! `basic`), the API key's placement, and the static headers a file may not set.

use patchbay_domain::provider::{AuthMode, KeyLocation, Provider};

use super::{Checker, Seg};

/// Keys that only mean something for OAuth providers.
const OAUTH_ONLY: &[&str] = &[
    "discovery_url",
    "authorization_url",
    "token_url",
    "refresh_url",
    "revocation_url",
    "revocation_scope",
    "issuer",
    "token_endpoint_auth",
    "pkce",
    "scope_separator",
    "granular_scopes",
    "default_scopes",
    "authorization_params",
    "client_id",
    "client_secret",
    "grant_lifetime",
    "incremental_authorization",
    "refresh_margin",
    "keep_alive",
    "terminal_errors",
    "token_response",
    "callback_params",
    "callback_hmac",
    "context",
    "metadata_hosts",
    "token_request",
    "revocation",
    "oauth_app",
    "oauth_token",
];

/// Headers a provider file may not set statically: credentials come from the connection, and the
/// rest are framing that the HTTP client owns.
pub(super) const FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "keep-alive",
];

impl Checker<'_> {
    pub(super) fn check_auth_mode(&mut self, p: &Provider) {
        let mode = p.auth_mode.as_str();
        let mode_at = [Seg::Key("auth_mode")];
        match p.auth_mode {
            AuthMode::Oauth2 => {
                for (field, v) in [("authorization_url", &p.authorization_url), ("token_url", &p.token_url)] {
                    // `discovery_url` fills missing endpoints when the catalog starts.
                    if v.is_none() && p.discovery_url.is_none() {
                        self.err(&mode_at, field, format!("auth_mode: oauth2 needs `{field}: https://...`"));
                    }
                }
            }
            AuthMode::Oauth2ClientCredentials => {
                if p.token_url.is_none() {
                    self.err(&mode_at, "token_url", format!("auth_mode: {mode} needs `token_url: https://...`"));
                }
                if p.discovery_url.is_some() {
                    self.err(
                        &[Seg::Key("discovery_url")],
                        "discovery_url",
                        "discovery_url finds a consent flow's endpoints (auth_mode: oauth2); write token_url instead"
                            .to_owned(),
                    );
                }
                if p.authorization_url.is_some() {
                    self.err(
                        &[Seg::Key("authorization_url")],
                        "authorization_url",
                        format!("auth_mode: {mode} has no consent page; remove authorization_url"),
                    );
                }
            }
            AuthMode::ApiKey | AuthMode::Basic => {
                for key in OAUTH_ONLY {
                    if self.present(key) {
                        self.err(
                            &[Seg::Key(key)],
                            *key,
                            format!("`{key}` is only used by OAuth providers; remove it (auth_mode is {mode})"),
                        );
                    }
                }
            }
        }
        if p.auth_mode == AuthMode::ApiKey && p.api_key.is_none() {
            self.err(
                &mode_at,
                "api_key",
                "auth_mode: api_key needs to say where the key goes, e.g. \
                 `api_key: {in: header, name: Authorization, prefix: \"Bearer \"}` or `{in: query, name: api_key}`",
            );
        }
        if p.auth_mode != AuthMode::ApiKey && p.api_key.is_some() {
            self.err(&[Seg::Key("api_key")], "api_key", format!("only used with auth_mode: api_key (this is {mode})"));
        }
        if p.auth_mode != AuthMode::Basic && p.basic.is_some() {
            self.err(&[Seg::Key("basic")], "basic", format!("only used with auth_mode: basic (this is {mode})"));
        }
        if p.auth_mode.is_oauth() && self.present("client_secret") && !self.present("client_id") {
            self.err(&[Seg::Key("client_secret")], "client_secret", "client_secret without client_id: add client_id");
        }
        if p.auth_mode.is_oauth() && p.scope_separator.is_empty() {
            self.err(&[Seg::Key("scope_separator")], "scope_separator", "must not be empty (usually \" \" or \",\")");
        }
    }

    pub(super) fn check_headers(&mut self, p: &Provider) {
        for (name, value) in &p.headers {
            let at = [Seg::Key("headers"), Seg::Key(name)];
            let field = format!("headers.{name}");
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.err(&at, field, format!("`{name}` is not a valid HTTP header name"));
                continue;
            }
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
                self.err(
                    &at,
                    field,
                    format!(
                        "`{name}` cannot be a static header: credentials come from each connection and \
                         framing headers belong to the HTTP client"
                    ),
                );
                continue;
            }
            if let Some(k) = &p.api_key
                && k.location == KeyLocation::Header
                && k.name.eq_ignore_ascii_case(name)
            {
                self.err(&at, field, format!("`{name}` is where the API key goes; remove the static header"));
                continue;
            }
            if http::HeaderValue::from_str(value).is_err() {
                self.err(&at, field, "the value must be printable ASCII on one line");
            }
        }
    }

    pub(super) fn check_api_key(&mut self, p: &Provider) {
        let Some(k) = &p.api_key else { return };
        let name_at = [Seg::Key("api_key"), Seg::Key("name")];
        match k.location {
            KeyLocation::Header => {
                if http::HeaderName::from_bytes(k.name.as_bytes()).is_err() {
                    self.err(&name_at, "api_key.name", format!("`{}` is not a valid HTTP header name", k.name));
                }
            }
            KeyLocation::Query => {
                if k.name.is_empty() || !k.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) {
                    self.err(
                        &name_at,
                        "api_key.name",
                        format!("`{}` is not a query parameter name: use letters, digits, _ - .", k.name),
                    );
                }
                if !k.prefix.is_empty() {
                    self.err(
                        &[Seg::Key("api_key"), Seg::Key("prefix")],
                        "api_key.prefix",
                        "a prefix is only used with `in: header`",
                    );
                }
            }
        }
        if http::HeaderValue::from_str(&k.prefix).is_err() {
            self.err(
                &[Seg::Key("api_key"), Seg::Key("prefix")],
                "api_key.prefix",
                "the prefix must be printable ASCII",
            );
        }
        if k.label.trim().is_empty() {
            self.err(&[Seg::Key("api_key"), Seg::Key("label")], "api_key.label", "must not be empty");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::errors;

    #[test]
    fn auth_mode_requirements() {
        let errs = errors("id: a\ndisplay_name: A\nauth_mode: api_key\n");
        assert!(errs[0].message.contains("api_key needs"), "{}", errs[0]);
        let errs = errors("id: a\ndisplay_name: A\nauth_mode: oauth2\n");
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["authorization_url", "token_url"]);
        let errs = errors("id: a\ndisplay_name: A\nauth_mode: basic\npkce: false\nverify: {path: /me}\n");
        let fields: Vec<_> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(fields, vec![(Some(4), "pkce"), (Some(5), "verify")]);
    }
}
