//! URL checks: every URL field (https, or http on loopback only; placeholders only as whole host
//! labels under a fixed domain, N-02), the placeholders' settings (declared, not secret, required
//! when they pick the host), and the authorize parameters Patchbay reserves for itself.

use std::collections::BTreeMap;

use patchbay_domain::provider::{Provider, SettingKind};

use super::{Checker, Seg};
use crate::template::{Label, Place, UrlTemplate};

/// Longest `access_advice.text`: a hint next to a form field, not a manual.
const MAX_ADVICE_CHARS: usize = 400;

impl Checker<'_> {
    /// Parameters Patchbay sets itself on every authorize URL may not be overridden by the file:
    /// a static `state` or `redirect_uri` would defeat the flow's protections.
    pub(super) fn check_authorization_params(&mut self, p: &Provider) {
        const RESERVED: &[&str] = &[
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        ];
        for name in p.authorization_params.keys() {
            if RESERVED.contains(&name.as_str()) {
                let at = [Seg::Key("authorization_params"), Seg::Key(name)];
                self.err(
                    &at,
                    format!("authorization_params.{name}"),
                    format!(
                        "`{name}` is set by Patchbay on every authorize URL; remove it (scopes go in `default_scopes`)"
                    ),
                );
            }
        }
    }

    pub(super) fn check_urls(&mut self, p: &Provider) {
        let fields: [(&str, &Option<String>); 8] = [
            ("discovery_url", &p.discovery_url),
            ("authorization_url", &p.authorization_url),
            ("token_url", &p.token_url),
            ("refresh_url", &p.refresh_url),
            ("revocation_url", &p.revocation_url),
            ("issuer", &p.issuer),
            ("api_base_url", &p.api_base_url),
            ("docs_url", &p.docs_url),
        ];
        for (field, value) in fields {
            if let Some(v) = value {
                self.check_url(p, field, v);
            }
        }
    }

    /// `access_advice`: a short text and the service's page, an https URL without placeholders
    /// (the same rules as `docs_url`).
    pub(super) fn check_access_advice(&mut self, p: &Provider) {
        let Some(advice) = &p.access_advice else { return };
        let text = advice.text.trim();
        let at = [Seg::Key("access_advice"), Seg::Key("text")];
        if text.is_empty() {
            self.err(
                &at,
                "access_advice.text",
                "must not be empty: say in a sentence or two how to restrict the credential on the \
                 service's side (e.g. a read-only key, or a key limited to one project)",
            );
        } else if text.chars().count() > MAX_ADVICE_CHARS {
            self.err(
                &at,
                "access_advice.text",
                format!(
                    "is {} characters long; keep it under {MAX_ADVICE_CHARS} and let `url` carry the details",
                    text.chars().count()
                ),
            );
        }
        self.check_url(p, "access_advice.url", &advice.url);
    }

    pub(super) fn check_url(&mut self, p: &Provider, field: &str, value: &str) {
        let at: Vec<Seg<'_>> = field.split('.').map(Seg::Key).collect();
        let at = at.as_slice();
        // `{instance_url}/services/...`: an origin from metadata, vetted by `metadata_hosts`.
        if self.check_origin_url(p, field, value) {
            return;
        }
        let t = match UrlTemplate::parse(value) {
            Ok(t) => t,
            Err(msg) => {
                self.err(at, field, format!("`{value}`: {msg}"));
                return;
            }
        };
        match t.scheme.as_str() {
            // `{instance}/api/v4`: the scheme comes from the instance address, https-checked then.
            _ if t.origin.is_some() => {}
            "https" => {}
            "http" if t.is_loopback_host() => {}
            "http" => {
                self.err(
                    at,
                    field,
                    format!(
                        "`{value}` must be an https:// URL; plain http:// is accepted only for loopback hosts \
                         (127.0.0.1, [::1], localhost) used by tests and the demo"
                    ),
                );
                return;
            }
            other => {
                self.err(at, field, format!("`{value}` must be an https:// URL, not {other}://"));
                return;
            }
        }
        if matches!(field, "docs_url" | "access_advice.url") && !t.placeholders().is_empty() {
            self.err(at, field, format!("{field} cannot contain {{placeholders}}"));
            return;
        }
        if (field == "api_base_url" || field.starts_with("api_hosts.")) && !t.rest.is_empty() {
            self.err(
                at,
                field,
                format!(
                    "{field} cannot have a query or fragment: paths are appended to it; put query \
                 parameters in verify.path"
                ),
            );
        }
        self.check_placeholders(p, field, &t.placeholders());
        // A closed-choice setting only takes values written in this file, so it needs no fixed
        // suffix; any other host placeholder must be followed by two fixed labels.
        let open = |l: &Label| matches!(l, Label::Setting(k) if !p.setting(k).is_some_and(|d| d.closed_choices()));
        let fixed_after_open = t
            .host
            .iter()
            .rposition(open)
            .map(|i| t.host[i + 1..].iter().filter(|l| matches!(l, Label::Fixed(_))).count());
        if fixed_after_open.is_some_and(|n| n < 2) {
            self.err(
                at,
                field,
                format!(
                    "`{value}`: a host placeholder must be followed by the provider's own domain \
                     (at least two fixed labels, e.g. `{{subdomain}}.zendesk.com`), so the value \
                     can never choose the domain (N-02)"
                ),
            );
            // The example values below would only repeat this.
            return;
        }
        // With every placeholder filled with a plain label (each listed choice in turn, an
        // example instance address) the URL must parse.
        let example = |k: &str, i: usize| match p.setting(k) {
            Some(d) if d.kind == SettingKind::InstanceUrl => "https://instance.example".to_owned(),
            Some(d) if !d.choices.is_empty() => d.choices[i.min(d.choices.len() - 1)].value.clone(),
            _ => "x".to_owned(),
        };
        let most = t.placeholders().iter().filter_map(|(k, _)| p.setting(k)).map(|d| d.choices.len()).max();
        for i in 0..most.unwrap_or(1).max(1) {
            let dummy: BTreeMap<String, String> =
                t.placeholders().into_iter().map(|(k, _)| (k.to_owned(), example(k, i))).collect();
            if let Err(e) = t.render_with(value, &dummy, &|k| p.setting(k)) {
                self.err(at, field, format!("`{value}` is not a valid URL: {e}"));
                break;
            }
        }
    }

    pub(super) fn check_placeholders(&mut self, p: &Provider, field: &str, placeholders: &[(&str, Place)]) {
        let at: Vec<Seg<'_>> = field.split('.').map(Seg::Key).collect();
        for (key, place) in placeholders {
            match p.setting(key) {
                // Learned from the provider (token reply, callback, follow-up call): a host
                // label still takes only one DNS label, a path value is percent-encoded.
                None if p.metadata_keys().any(|m| m == *key) => {}
                None => self.err(
                    &at,
                    field,
                    format!(
                        "`{{{key}}}` names no setting and no metadata: declare it under `settings:` \
                         (e.g. `- {{key: {key}, label: ..., required: true}}`) or capture it \
                         (`token_response.metadata`, `callback_params`, `context.metadata`)"
                    ),
                ),
                Some(s) if s.secret => self.err(
                    &at,
                    field,
                    format!(
                        "`{{{key}}}` is a secret setting; secrets never go into URLs (URLs end up in logs). \
                         Send it as a credential instead, or drop `secret: true`"
                    ),
                ),
                Some(s) if matches!(place, Place::Host | Place::Origin) && !s.required && s.default.is_none() => self
                    .err(
                        &at,
                        field,
                        format!(
                            "the setting `{key}` picks the host, so it must be `required: true` (or have a `default`)"
                        ),
                    ),
                Some(s) if *place == Place::Origin && s.kind != SettingKind::InstanceUrl => self.err(
                    &at,
                    field,
                    format!(
                        "`{{{key}}}` starts the URL, so it stands for a whole instance address: declare the \
                         setting with `kind: instance_url`"
                    ),
                ),
                Some(s) if *place != Place::Origin && s.kind == SettingKind::InstanceUrl => self.err(
                    &at,
                    field,
                    format!(
                        "`{{{key}}}` is an instance address (`kind: instance_url`): use it only at the very \
                         start of a URL, like `{{{key}}}/api/v4`"
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::parse_provider;
    use crate::validate::tests::{errors, no_env};

    #[test]
    fn reserved_authorization_params_are_refused() {
        let text = "id: x\ndisplay_name: X\nauth_mode: oauth2\nauthorization_url: https://x.example/a\n\
                    token_url: https://x.example/t\nauthorization_params:\n  state: fixed\n  prompt: consent\n";
        let errors = parse_provider("x.yaml", text, &|_| None).expect_err("refused");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(text.iter().any(|e| e.contains("authorization_params.state")), "{text:?}");
        assert!(!text.iter().any(|e| e.contains("prompt")), "{text:?}");
    }

    #[test]
    fn access_advice_needs_text_and_an_https_page() {
        let base = "id: x\ndisplay_name: X\nauth_mode: api_key\napi_key: {in: header, name: X-Key}\n";
        let good = format!("{base}access_advice:\n  text: Create a read-only key.\n  url: https://x.example/keys\n");
        let p = parse_provider("t.yaml", &good, &no_env).unwrap().provider;
        assert_eq!(p.access_advice.unwrap().url, "https://x.example/keys");
        let bad =
            format!("{base}access_advice:\n  text: \"  \"\n  url: http://x.example/keys\n  link: https://x.example\n");
        let got: Vec<String> = errors(&bad).iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].starts_with("t.yaml:6: access_advice.text: must not be empty"), "{got:#?}");
        assert!(
            got[1].starts_with("t.yaml:7: access_advice.url: `http://x.example/keys` must be an https://"),
            "{got:#?}"
        );
        assert!(got[2].starts_with("t.yaml:8: access_advice.link: unknown key `link`"), "{got:#?}");
        let long =
            format!("{base}access_advice: {{text: {}, url: \"https://x.example/{{a}}\"}}\n", "word ".repeat(100));
        let got: Vec<String> = errors(&long).iter().map(ToString::to_string).collect();
        assert!(got.iter().any(|e| e.contains("access_advice.text: is 499 characters long")), "{got:#?}");
        assert!(got.iter().any(|e| e.contains("access_advice.url cannot contain {placeholders}")), "{got:#?}");
        let missing = format!("{base}access_advice: {{text: Hi}}\n");
        let got: Vec<String> = errors(&missing).iter().map(ToString::to_string).collect();
        assert!(got[0].contains("access_advice.url: this field is required"), "{got:#?}");
    }

    #[test]
    fn loopback_http_is_accepted_and_host_settings_must_be_required() {
        let text = "\
id: local
display_name: Local
auth_mode: oauth2
authorization_url: http://127.0.0.1:8081/authorize
token_url: http://localhost:8081/token
issuer: http://[::1]:8081
api_base_url: https://{sub}.acme.example/api
settings:
  - {key: sub, label: Subdomain}
";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].message.contains("required: true"));
        let fixed = text.replace("label: Subdomain}", "label: Subdomain, required: true}");
        parse_provider("t.yaml", &fixed, &no_env).unwrap();
    }
}
