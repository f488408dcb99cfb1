//! Request-side checks (docs/providers.md, "Requests"): `oauth_app`, `api_hosts` and the host
//! keys that modules and `verify` name, `oauth_token`, templated `headers`, the verify body and
//! success predicate, and setting defaults, choices and kinds.

use patchbay_domain::provider::{AuthMode, DEFAULT_VERIFY_CONTENT_TYPE, Provider, SettingKind};

use super::{Checker, Seg};
use crate::header_template::{self, Part};
use crate::template::{self, UrlTemplate};

/// Headers an OAuth token may not be placed in: they belong to the HTTP client or the platform.
const FRAMING_HEADERS: &[&str] =
    &["proxy-authorization", "cookie", "host", "content-length", "transfer-encoding", "connection", "te", "upgrade"];

impl Checker<'_> {
    pub(super) fn check_requests(&mut self, p: &Provider) {
        self.check_oauth_app(p);
        self.check_api_hosts(p);
        self.check_oauth_token(p);
        self.check_header_templates(p);
        self.check_verify_request(p);
        self.check_setting_values(p);
        self.check_instance_client(p);
    }

    fn check_oauth_app(&mut self, p: &Provider) {
        let Some(app) = &p.oauth_app else { return };
        let at = [Seg::Key("oauth_app")];
        if !p.auth_mode.is_oauth() {
            self.err(&at, "oauth_app", "only OAuth providers share an OAuth app; remove it");
        } else if !super::identity::is_provider_id(app) {
            self.err(
                &at,
                "oauth_app",
                format!("`{app}` is not a valid app id: use lowercase letters, digits and inner hyphens, e.g. `google`"),
            );
        }
    }

    fn check_api_hosts(&mut self, p: &Provider) {
        if !p.api_hosts.is_empty() && p.api_base_url.is_none() {
            self.err(
                &[Seg::Key("api_hosts")],
                "api_hosts",
                "api_hosts add hosts next to `api_base_url:`, which this provider does not declare; declare the \
                 main one as api_base_url",
            );
        }
        for (key, url) in &p.api_hosts {
            let field = format!("api_hosts.{key}");
            if !template::is_setting_key(key) {
                self.err(
                    &[Seg::Key("api_hosts"), Seg::Key(key)],
                    field.clone(),
                    format!("`{key}` is not a valid host key: use a-z, 0-9 and _ (e.g. `content`)"),
                );
            }
            self.check_url(p, &field, url);
        }
        for (id, module) in &p.modules {
            for call in &module.api {
                let Ok(pattern) = patchbay_domain::provider::ApiPattern::parse(call) else { continue };
                if let Some(host) = pattern.host.filter(|h| !p.api_hosts.contains_key(h)) {
                    self.err(
                        &[Seg::Key("modules"), Seg::Key(id), Seg::Key("api")],
                        format!("modules.{id}.api"),
                        format!("`{call}` names the host `{host}`, which is not declared under `api_hosts:`"),
                    );
                }
            }
        }
    }

    fn check_oauth_token(&mut self, p: &Provider) {
        let Some(place) = &p.oauth_token else { return };
        let at = [Seg::Key("oauth_token"), Seg::Key("header")];
        if !p.auth_mode.is_oauth() {
            self.err(
                &[Seg::Key("oauth_token")],
                "oauth_token",
                format!("`oauth_token` places an OAuth access token; auth_mode is {}", p.auth_mode.as_str()),
            );
            return;
        }
        if http::HeaderName::from_bytes(place.header.as_bytes()).is_err() {
            self.err(&at, "oauth_token.header", format!("`{}` is not a valid HTTP header name", place.header));
        } else if FRAMING_HEADERS.contains(&place.header.to_ascii_lowercase().as_str()) {
            self.err(&at, "oauth_token.header", format!("`{}` belongs to the HTTP client; name another header", place.header));
        } else if p.headers.keys().any(|h| h.eq_ignore_ascii_case(&place.header)) {
            self.err(&at, "oauth_token.header", format!("`{}` is also a static header; remove one", place.header));
        }
        if http::HeaderValue::from_str(&place.prefix).is_err() {
            self.err(
                &[Seg::Key("oauth_token"), Seg::Key("prefix")],
                "oauth_token.prefix",
                "the prefix must be printable ASCII on one line, like `\"Zoho-oauthtoken \"`",
            );
        }
    }

    fn check_header_templates(&mut self, p: &Provider) {
        for (name, value) in &p.headers {
            let at = [Seg::Key("headers"), Seg::Key(name)];
            let field = format!("headers.{name}");
            let parts = match header_template::parse(value) {
                Ok(parts) => parts,
                Err(why) => {
                    self.err(&at, field, format!("the value {why}"));
                    continue;
                }
            };
            for part in parts {
                match part {
                    Part::Text(_) => {}
                    Part::ClientId if p.auth_mode.is_oauth() => {}
                    Part::ClientId => self.err(
                        &at,
                        field.clone(),
                        "`{client_id}` is an OAuth client id; this provider has none (auth_mode is not OAuth)",
                    ),
                    Part::Metadata(m) => self.err(
                        &at,
                        field.clone(),
                        format!(
                            "`{{metadata.{m}}}` is reserved for connection metadata captured after the grant, \
                             which this version cannot fill yet; use a setting for now"
                        ),
                    ),
                    Part::Setting(key) => match p.setting(&key) {
                        None => self.err(
                            &at,
                            field.clone(),
                            format!("`{{{key}}}` names no setting: declare it under `settings:` (or use `{{client_id}}`)"),
                        ),
                        Some(s) if s.secret => self.err(
                            &at,
                            field.clone(),
                            format!("`{{{key}}}` is a secret setting; a secret never goes into a templated header"),
                        ),
                        Some(_) => {}
                    },
                }
            }
        }
    }

    fn check_verify_request(&mut self, p: &Provider) {
        let Some(v) = &p.verify else { return };
        if let Some(host) = v.host.as_deref().filter(|h| !p.api_hosts.contains_key(*h)) {
            self.err(
                &[Seg::Key("verify"), Seg::Key("host")],
                "verify.host",
                format!("`{host}` is not declared under `api_hosts:`; the verify call goes to a declared host"),
            );
        }
        if let Some(body) = &v.body {
            if v.method != "POST" {
                self.err(
                    &[Seg::Key("verify"), Seg::Key("body")],
                    "verify.body",
                    format!("a verify body is sent with POST; set `method: POST` (it is {})", v.method),
                );
            }
            let content_type = v.content_type.as_deref().unwrap_or(DEFAULT_VERIFY_CONTENT_TYPE);
            if content_type.contains("json") && serde_json::from_str::<serde_json::Value>(body).is_err() {
                self.err(
                    &[Seg::Key("verify"), Seg::Key("body")],
                    "verify.body",
                    format!(
                        "the body is sent as {content_type} but is not JSON: quote it as a YAML string, e.g. \
                         `body: '{{\"query\": \"{{ viewer {{ id }} }}\"}}'` or `body: \"null\"`"
                    ),
                );
            }
        }
        if let Some(ct) = &v.content_type {
            let at = [Seg::Key("verify"), Seg::Key("content_type")];
            if v.body.is_none() {
                self.err(&at, "verify.content_type", "a content type describes `body:`, which is missing");
            } else if http::HeaderValue::from_str(ct).is_err() || !ct.contains('/') {
                self.err(&at, "verify.content_type", format!("`{ct}` is not a media type like `application/json`"));
            }
        }
        if let Some(success) = &v.success {
            for (name, pointer) in [("pointer", Some(&success.pointer)), ("error", success.error.as_ref())] {
                if let Some(ptr) = pointer.filter(|p| !p.starts_with('/') || p.chars().any(char::is_whitespace)) {
                    self.err(
                        &[Seg::Key("verify"), Seg::Key("success"), Seg::Key(name)],
                        format!("verify.success.{name}"),
                        format!("`{ptr}` is not a JSON pointer: write it like `/ok` or `/data/viewer/id`"),
                    );
                }
            }
        }
    }

    fn check_setting_values(&mut self, p: &Provider) {
        for (i, s) in p.settings.iter().enumerate() {
            let at = |key| [Seg::Key("settings"), Seg::Item(i), Seg::Key(key)];
            let mut seen = std::collections::BTreeSet::new();
            for c in &s.choices {
                if c.value.trim().is_empty() || c.value.trim() != c.value {
                    self.err(&at("choices"), format!("settings[{i}].choices"), "a choice value must not be empty or padded");
                } else if !seen.insert(c.value.as_str()) {
                    self.err(&at("choices"), format!("settings[{i}].choices"), format!("`{}` is listed twice", c.value));
                }
            }
            if s.free_text && s.choices.is_empty() {
                self.err(
                    &at("free_text"),
                    format!("settings[{i}].free_text"),
                    "`free_text` says other values than the `choices` are accepted; add `choices:` or remove it",
                );
            }
            if let Some(default) = &s.default {
                if s.secret {
                    self.err(&at("default"), format!("settings[{i}].default"), "a secret setting cannot have a default");
                } else if s.closed_choices() && !s.choices.iter().any(|c| &c.value == default) {
                    self.err(
                        &at("default"),
                        format!("settings[{i}].default"),
                        format!("`{default}` is not one of the choices; list it or pick one of them"),
                    );
                }
            }
            if s.kind == SettingKind::InstanceUrl {
                if s.secret || !s.choices.is_empty() {
                    self.err(
                        &at("kind"),
                        format!("settings[{i}].kind"),
                        "an instance_url setting is a plain address: no `secret`, no `choices`",
                    );
                }
                if let Some(d) = &s.default
                    && let Err(e) = template::instance_origin(&s.key, d)
                {
                    self.err(&at("default"), format!("settings[{i}].default"), e.to_string());
                }
            }
        }
    }

    /// A provider whose OAuth endpoints sit on an instance the user names cannot use the
    /// platform's client: its secret would go to whatever host the user typed. Users bring their
    /// own client (registered on their instance) instead.
    fn check_instance_client(&mut self, p: &Provider) {
        if !p.auth_mode.is_oauth() || !uses_instance_endpoints(p) {
            return;
        }
        for field in ["client_id", "client_secret"] {
            if self.present(field) {
                self.err(
                    &[Seg::Key(field)],
                    field,
                    "the OAuth endpoints are on the user's own instance, so the platform's client cannot be \
                     sent there; remove it and declare `client_id` / `client_secret` settings for the user's own",
                );
            }
        }
        if p.auth_mode == AuthMode::Oauth2 && p.setting("client_id").is_none() {
            self.err(
                &[Seg::Key("settings")],
                "settings",
                "the OAuth endpoints are on the user's own instance, so each connection needs its own client: \
                 declare `- {key: client_id, label: Client ID, required: true}` and a secret `client_secret`",
            );
        }
    }
}

/// Whether an OAuth endpoint of `p` starts with an instance-address placeholder.
pub(in crate::validate) fn uses_instance_endpoints(p: &Provider) -> bool {
    [&p.authorization_url, &p.token_url, &p.revocation_url]
        .into_iter()
        .flatten()
        .any(|u| UrlTemplate::parse(u).is_ok_and(|t| t.origin.is_some()))
}
