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
                format!(
                    "`{app}` is not a valid app id: use lowercase letters, digits and inner hyphens, e.g. `google`"
                ),
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
            self.err(
                &at,
                "oauth_token.header",
                format!("`{}` belongs to the HTTP client; name another header", place.header),
            );
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
                    Part::Metadata(m) if p.metadata_keys().any(|k| k == m) => {}
                    Part::Metadata(m) => self.err(
                        &at,
                        field.clone(),
                        format!(
                            "`{{metadata.{m}}}` names no connection metadata: capture `{m}` under \
                             `token_response.metadata`, `callback_params` or `context.metadata`"
                        ),
                    ),
                    // Metadata the provider said about the grant (Xero's tenant from `context`).
                    Part::Setting(key) if p.setting(&key).is_none() && p.metadata_keys().any(|m| m == key) => {}
                    Part::Setting(key) => match p.setting(&key) {
                        None => self.err(
                            &at,
                            field.clone(),
                            format!(
                                "`{{{key}}}` names no setting: declare it under `settings:` (or use `{{client_id}}`)"
                            ),
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
        if let Some(prefix) = &v.token_prefix {
            let at = [Seg::Key("verify"), Seg::Key("token_prefix")];
            if !p.auth_mode.is_oauth() {
                self.err(&at, "verify.token_prefix", "only OAuth connections send an access token; remove it");
            } else if http::HeaderValue::from_str(&format!("{prefix}token")).is_err() {
                self.err(&at, "verify.token_prefix", "must be printable ASCII on one line, e.g. \"OAuth \"");
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
                    self.err(
                        &at("choices"),
                        format!("settings[{i}].choices"),
                        "a choice value must not be empty or padded",
                    );
                } else if !seen.insert(c.value.as_str()) {
                    self.err(
                        &at("choices"),
                        format!("settings[{i}].choices"),
                        format!("`{}` is listed twice", c.value),
                    );
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
                    self.err(
                        &at("default"),
                        format!("settings[{i}].default"),
                        "a secret setting cannot have a default",
                    );
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
    [&p.authorization_url, &p.token_url, &p.refresh_url, &p.revocation_url]
        .into_iter()
        .flatten()
        .any(|u| UrlTemplate::parse(u).is_ok_and(|t| t.origin.is_some()))
}

#[cfg(test)]
mod tests {
    use crate::validate::parse_provider;
    use crate::validate::tests::{errors, no_env};

    #[test]
    fn a_verify_token_prefix_is_for_oauth_and_one_clean_line() {
        let file = |mode: &str, prefix: &str| {
            format!(
                "id: acme\ndisplay_name: Acme\nauth_mode: {mode}\napi_key: {{in: header, name: X-Key}}\n\
                 api_base_url: https://api.acme.example\nverify: {{path: /me, token_prefix: {prefix}}}\n"
            )
        };
        let rendered = |mode, prefix| errors(&file(mode, prefix)).iter().map(ToString::to_string).collect::<Vec<_>>();
        let key = rendered("api_key", "'OAuth '");
        assert!(key.iter().any(|e| e.starts_with("t.yaml:6: verify.token_prefix: only OAuth")), "{key:?}");
        let oauth = "oauth2\nauthorization_url: https://acme.example/a\ntoken_url: https://acme.example/t";
        let text = file(oauth, "'OAuth '").replace("api_key: {in: header, name: X-Key}\n", "");
        let p = parse_provider("t.yaml", &text, &no_env).expect("a clean prefix on OAuth is fine").provider;
        assert_eq!(p.verify.and_then(|v| v.token_prefix).as_deref(), Some("OAuth "));
        let bad = file(oauth, "\"OAuth\\n\"").replace("api_key: {in: header, name: X-Key}\n", "");
        assert!(errors(&bad).iter().any(|e| e.to_string().contains("verify.token_prefix: must be printable ASCII")));
    }

    #[test]
    fn every_request_side_mistake_is_reported_with_its_line() {
        let text = "\
id: acme
display_name: Acme
auth_mode: oauth2
oauth_app: Google_Apps
authorization_url: https://acme.example/authorize
token_url: https://acme.example/token
api_base_url: https://api.acme.example
api_hosts:
  Content: https://content.acme.example
  upload: https://{region}.upload.acme.example
oauth_token: {header: Host}
headers:
  X-Org: \"{org}\"
  X-Secret: \"{secret_key}\"
  X-Tenant: \"{metadata.tenant_id}\"
verify: {method: GET, host: files, path: /me, body: 'not json', success: {pointer: ok, equals: true}}
modules:
  upload: {name: Upload, api: [\"POST uploads:/files\"]}
settings:
  - {key: region, label: Region, required: true, choices: [eu, us], default: ap}
  - {key: secret_key, label: Key, secret: true}
  - {key: zone, label: Zone, free_text: true}
";
        let rendered: Vec<String> = errors(text).iter().map(ToString::to_string).collect();
        let expect = [
            "t.yaml:4: oauth_app: `Google_Apps` is not a valid app id",
            "t.yaml:9: api_hosts.Content: `Content` is not a valid host key",
            "t.yaml:11: oauth_token.header: `Host` belongs to the HTTP client",
            "t.yaml:13: headers.X-Org: `{org}` names no setting",
            "t.yaml:14: headers.X-Secret: `{secret_key}` is a secret setting",
            "t.yaml:15: headers.X-Tenant: `{metadata.tenant_id}` names no connection metadata",
            "t.yaml:16: verify.host: `files` is not declared under `api_hosts:`",
            "t.yaml:16: verify.body: a verify body is sent with POST",
            "t.yaml:16: verify.body: the body is sent as application/json but is not JSON",
            "t.yaml:16: verify.success.pointer: `ok` is not a JSON pointer",
            "t.yaml:18: modules.upload.api: `POST uploads:/files` names the host `uploads`",
            "t.yaml:20: settings[0].default: `ap` is not one of the choices",
            "t.yaml:22: settings[2].free_text:",
        ];
        for e in expect {
            assert!(rendered.iter().any(|r| r.starts_with(e)), "missing {e:?} in\n{}", rendered.join("\n"));
        }
        assert_eq!(rendered.len(), expect.len(), "{}", rendered.join("\n"));
    }

    #[test]
    fn closed_choices_may_span_labels_and_instances_need_their_own_client() {
        let zoho = "\
id: zoho
display_name: Zoho
auth_mode: oauth2
authorization_url: https://accounts.zoho.{dc}/oauth/v2/auth
token_url: https://accounts.zoho.{dc}/oauth/v2/token
api_base_url: https://www.zohoapis.{dc}
settings:
  - {key: dc, label: Data center, default: com, choices: [com, eu, com.au]}
";
        parse_provider("t.yaml", zoho, &no_env).unwrap();
        // Free text would let the user pick the domain: then two fixed labels must follow.
        let open = zoho.replace("com.au]}", "com.au], free_text: true}");
        let errs = errors(&open);
        assert!(errs.iter().all(|e| e.message.contains("host placeholder must be followed")), "{errs:#?}");
        assert_eq!(errs.len(), 3, "{errs:#?}");

        let gitlab = "\
id: gitlab
display_name: GitLab
auth_mode: oauth2
authorization_url: \"{instance}/oauth/authorize\"
token_url: \"{instance}/oauth/token\"
api_base_url: \"{instance}/api/v4\"
client_id: platform
settings:
  - {key: instance, label: GitLab address, required: true}
";
        let rendered: Vec<String> = errors(gitlab).iter().map(ToString::to_string).collect();
        for e in [
            "t.yaml:4: authorization_url: `{instance}` starts the URL, so it stands for a whole instance address",
            "t.yaml:7: client_id: the OAuth endpoints are on the user's own instance",
            "t.yaml:8: settings: the OAuth endpoints are on the user's own instance, so each connection needs its own client",
        ] {
            assert!(rendered.iter().any(|r| r.starts_with(e)), "missing {e:?} in\n{}", rendered.join("\n"));
        }
        let fixed = gitlab.replace("client_id: platform\n", "").replace(
            "required: true}",
            "required: true, kind: instance_url}\n  - {key: client_id, label: Client ID, required: true}",
        );
        let p = parse_provider("t.yaml", &fixed, &|_| Some("set".into())).unwrap().provider;
        assert!(!p.has_platform_client(), "no platform client for an instance the user picks");
        assert!(p.client_variables.is_empty());
    }
}
