//! URL templates: `https://{subdomain}.zendesk.com/api/v2` filled in from a connection's settings.
//!
//! A templated host is the classic way to send a credential somewhere else: Segment let a
//! "subdomain" of `attacker.example/` carry a client secret away (docs/security.md N-02). So a
//! placeholder may stand only for a *whole DNS label* of the host, and the value put there must be
//! a single label (`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`); whatever the value, the rendered host
//! ends with the template's fixed suffix or rendering fails. Values placed in the path are
//! percent-encoded so they cannot add segments, a query or a fragment. Placeholders anywhere else
//! (scheme, port, userinfo, query, fragment) are refused.
//!
//! [`api_url`] is the one way to build a URL that will carry a credential: it always starts from
//! the provider's `api_base_url` and checks that joining a path kept the scheme, host, port and
//! base path (N-03).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use patchbay_domain::provider::{Provider, SettingField};
use url::Url;

/// How a template finds the declaration of the setting behind a placeholder: a closed-choice
/// setting may fill several host labels, an `instance_url` setting a whole origin.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<&'a SettingField>;

fn no_declarations(_: &str) -> Option<&'static SettingField> {
    None
}

/// Why a URL could not be built from a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template itself is malformed (the catalog validation normally catches this first).
    #[error("invalid URL template `{template}`: {message}")]
    Syntax {
        /// The template text.
        template: String,
        /// What is wrong with it.
        message: String,
    },
    /// A placeholder names a setting the connection does not have.
    #[error("the setting `{key}` is not set; fill it in the connection's advanced settings")]
    MissingSetting {
        /// The setting key.
        key: String,
    },
    /// A host placeholder got a value that is not a single DNS label.
    #[error(
        "the setting `{key}` must be a single DNS label (lowercase letters, digits and inner \
         hyphens, at most 63 characters, no dots), e.g. `acme` rather than `acme.example.com`"
    )]
    InvalidHostValue {
        /// The setting key.
        key: String,
    },
    /// A path placeholder got a value that would change the path structure.
    #[error("the setting `{key}` cannot be empty, `.` or `..`")]
    InvalidPathValue {
        /// The setting key.
        key: String,
    },
    /// A closed-choice setting holds a value the provider file does not list.
    #[error("the setting `{key}` must be one of {choices}")]
    NotAChoice {
        /// The setting key.
        key: String,
        /// The allowed values, listed.
        choices: String,
    },
    /// An `instance_url` setting is not the address of an instance.
    #[error("the setting `{key}` must be the address of your instance, like `https://gitlab.example.com`: {reason}")]
    InvalidInstanceUrl {
        /// The setting key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The provider declares no `api_base_url`, so no API call can be built for it.
    #[error("provider `{provider}` declares no api_base_url")]
    NoApiBase {
        /// The provider id.
        provider: String,
    },
    /// A metadata origin (`{instance_url}`) is not on a host the provider's `metadata_hosts` lists.
    #[error("the connection's `{key}` is refused as an API host: {why}; reauthorize the connection")]
    DisallowedOrigin {
        /// The metadata key.
        key: String,
        /// Why it was refused.
        why: String,
    },
    /// A call names an API host the provider does not declare.
    #[error("provider `{provider}` declares no API host `{host}`: use one of its `api_hosts` ({known})")]
    UnknownApiHost {
        /// The provider id.
        provider: String,
        /// The key asked for.
        host: String,
        /// The declared keys.
        known: String,
    },
    /// A path joined to the API base would leave the provider's host or base path.
    #[error("`{path}` is not a path under the provider's API base URL: {reason}")]
    OutsideApiBase {
        /// The path that was asked for (never contains a secret: credentials are added later).
        path: String,
        /// What went wrong.
        reason: &'static str,
    },
}

/// One label of a templated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Label {
    /// Literal text (already lowercase).
    Fixed(String),
    /// `{key}`: the whole label comes from a setting.
    Setting(String),
}

/// One piece of a templated path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// `{key}`: a percent-encoded setting value.
    Setting(String),
}

/// A parsed URL template.
#[derive(Debug, Clone)]
pub(crate) struct UrlTemplate {
    /// `{key}` when the template starts with an `instance_url` setting (`{instance}/api/v4`):
    /// then `scheme`, `host` and `port` are empty and the value gives them.
    pub origin: Option<String>,
    pub scheme: String,
    pub host: Vec<Label>,
    pub port: Option<u16>,
    pub path: Vec<Piece>,
    /// `?query` and/or `#fragment`, verbatim and placeholder-free.
    pub rest: String,
}

/// Where a placeholder sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Host,
    Path,
    /// The whole scheme, host and port (`{instance}/api/v4`).
    Origin,
}

impl UrlTemplate {
    /// Parses an absolute URL template (`scheme://host[:port][/path][?query][#fragment]`).
    pub fn parse(template: &str) -> Result<Self, String> {
        if let Some(inner) = template.strip_prefix('{') {
            return Self::parse_origin(inner);
        }
        let (scheme, rest) = template.split_once("://").ok_or("not an absolute URL: write it as https://host/path")?;
        if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
            return Err(format!("`{scheme}` is not a URL scheme"));
        }
        if scheme.contains(['{', '}']) {
            return Err("placeholders are allowed only as whole labels of the host or in the path".into());
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err("a URL here cannot carry a username or password (`user@host`)".into());
        }
        let (host_text, port) = split_port(authority)?;
        if host_text.is_empty() {
            return Err("the URL has no host".into());
        }
        let host = if host_text.starts_with('[') {
            vec![Label::Fixed(host_text.to_ascii_lowercase())]
        } else {
            host_text.split('.').map(parse_label).collect::<Result<Vec<_>, _>>()?
        };
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let (path_text, rest) = tail.split_at(path_end);
        if rest.contains(['{', '}']) {
            return Err("placeholders are allowed only as whole labels of the host or in the path, \
                        not in the query or fragment"
                .into());
        }
        Ok(UrlTemplate {
            origin: None,
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
            path: parse_pieces(path_text)?,
            rest: rest.to_owned(),
        })
    }

    /// `{instance}/api/v4`: an `instance_url` setting gives scheme, host and port.
    fn parse_origin(inner: &str) -> Result<Self, String> {
        let (key, tail) = inner.split_once('}').ok_or("unmatched `{` at the start of the URL")?;
        if !is_setting_key(key) {
            return Err(format!("`{{{key}}}` is not a placeholder: setting keys use a-z, 0-9 and _"));
        }
        if !(tail.is_empty() || tail.starts_with('/')) {
            return Err(format!(
                "a URL that starts with `{{{key}}}` (an instance address) continues with a path: `{{{key}}}/api/v4`"
            ));
        }
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let (path_text, rest) = tail.split_at(path_end);
        if rest.contains(['{', '}']) {
            return Err("placeholders are not allowed in the query or fragment".into());
        }
        Ok(UrlTemplate {
            origin: Some(key.to_owned()),
            scheme: String::new(),
            host: Vec::new(),
            port: None,
            path: parse_pieces(path_text)?,
            rest: rest.to_owned(),
        })
    }

    /// Every placeholder with where it sits, in order.
    pub fn placeholders(&self) -> Vec<(&str, Place)> {
        let origin = self.origin.iter().map(|k| (k.as_str(), Place::Origin));
        let host = self.host.iter().filter_map(|l| match l {
            Label::Setting(k) => Some((k.as_str(), Place::Host)),
            Label::Fixed(_) => None,
        });
        let path = self.path.iter().filter_map(|p| match p {
            Piece::Setting(k) => Some((k.as_str(), Place::Path)),
            Piece::Text(_) => None,
        });
        origin.chain(host).chain(path).collect()
    }

    /// The labels after the last host placeholder, joined (`zendesk.com` for
    /// `{subdomain}.zendesk.com`); the whole host when it has no placeholder.
    #[cfg(test)]
    pub fn fixed_host_suffix(&self) -> String {
        let start = self.host.iter().rposition(|l| matches!(l, Label::Setting(_))).map_or(0, |i| i + 1);
        self.host[start..]
            .iter()
            .map(|l| match l {
                Label::Fixed(s) | Label::Setting(s) => s.as_str(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Whether the host is a loopback name or literal (`localhost`, `127.x.x.x`, `[::1]`), the only
    /// hosts that may use plain `http://`.
    pub fn is_loopback_host(&self) -> bool {
        let fixed: Option<Vec<&str>> = self
            .host
            .iter()
            .map(|l| match l {
                Label::Fixed(s) => Some(s.as_str()),
                Label::Setting(_) => None,
            })
            .collect();
        fixed.is_some_and(|labels| is_loopback_name(&labels.join(".")))
    }

    /// Fills in the placeholders and parses the result; a host placeholder takes one DNS label.
    pub fn render(&self, template: &str, settings: &BTreeMap<String, String>) -> Result<Url, TemplateError> {
        self.render_with(template, settings, &no_declarations)
    }

    /// Fills in the placeholders, knowing their settings' declarations: a closed-choice setting
    /// in the host takes any of its listed values (which may span several labels, as all of them
    /// are vetted in the file), an `instance_url` setting gives the origin.
    pub fn render_with(
        &self,
        template: &str,
        settings: &BTreeMap<String, String>,
        lookup: Lookup<'_>,
    ) -> Result<Url, TemplateError> {
        if let Some(key) = &self.origin {
            let origin = instance_origin(key, setting(settings, key)?)?;
            let text = format!("{origin}{}{}", render_pieces(&self.path, settings)?, self.rest);
            let url = Url::parse(&text)
                .map_err(|e| TemplateError::Syntax { template: template.to_owned(), message: e.to_string() })?;
            return if url.origin().ascii_serialization() == origin {
                Ok(url)
            } else {
                Err(TemplateError::InvalidInstanceUrl { key: key.clone(), reason: "the path changed the host".into() })
            };
        }
        let mut host = String::new();
        for (i, label) in self.host.iter().enumerate() {
            if i > 0 {
                host.push('.');
            }
            match label {
                Label::Fixed(s) => host.push_str(s),
                Label::Setting(key) => {
                    let value = setting(settings, key)?.trim().to_ascii_lowercase();
                    // A closed choice takes only a value written in the file, so several labels
                    // are fine; anything else is one DNS label.
                    let decl = lookup(key).filter(|d| d.closed_choices());
                    let fits = match decl {
                        Some(d) => d.choices.iter().any(|c| c.value == value) && value.split('.').all(is_dns_label),
                        None => is_dns_label(&value),
                    };
                    if !fits {
                        return Err(
                            decl.map_or_else(|| TemplateError::InvalidHostValue { key: key.clone() }, not_a_choice)
                        );
                    }
                    host.push_str(&value);
                }
            }
        }
        let mut text = format!("{}://{host}", self.scheme);
        if let Some(port) = self.port {
            let _ = write!(text, ":{port}");
        }
        text.push_str(&render_pieces(&self.path, settings)?);
        text.push_str(&self.rest);
        let url = Url::parse(&text)
            .map_err(|e| TemplateError::Syntax { template: template.to_owned(), message: e.to_string() })?;
        // Belt and braces: the parser must have seen exactly the host we assembled.
        let parsed_host = url.host_str().unwrap_or_default();
        if parsed_host != host {
            return Err(TemplateError::Syntax {
                template: template.to_owned(),
                message: format!("the host came out as `{parsed_host}` instead of `{host}`"),
            });
        }
        Ok(url)
    }
}

/// The error for a value outside a closed-choice setting's list.
pub(crate) fn not_a_choice(decl: &SettingField) -> TemplateError {
    let choices: Vec<String> = decl.choices.iter().map(|c| format!("`{}`", c.value)).collect();
    TemplateError::NotAChoice { key: decl.key.clone(), choices: choices.join(", ") }
}

/// Checks an `instance_url` setting's value and returns its origin (`https://host[:port]`).
///
/// Only `https://` is taken, except `http://` to a loopback host (tests, a local instance); the
/// guarded client then still refuses loopback and private addresses unless
/// `PATCHBAY_ALLOW_PRIVATE_NETWORKS=true`. A user, password, path, query or fragment is refused
/// rather than dropped, so what the user typed is what is called.
pub fn instance_origin(key: &str, value: &str) -> Result<String, TemplateError> {
    let bad = |reason: &str| TemplateError::InvalidInstanceUrl { key: key.to_owned(), reason: reason.to_owned() };
    let url = Url::parse(value.trim()).map_err(|_| bad("it is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if url.host_str().is_some_and(is_loopback_name) => {}
        "http" => return Err(bad("use https://; plain http:// is accepted only for a loopback address")),
        _ => return Err(bad("use https://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it cannot carry a username or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("give only the address, without a path, query or fragment"));
    }
    Ok(url.origin().ascii_serialization())
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let after = &authority[end + 1..];
                match after.strip_prefix(':') {
                    Some(p) => (&authority[..=end], Some(p)),
                    None if after.is_empty() => (authority, None),
                    None => return Err("unexpected text after the IPv6 address".into()),
                }
            }
            None => return Err("unterminated IPv6 address `[`".into()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if p.contains(['{', '}']) => {
            return Err(
                "placeholders are allowed only as whole labels of the host or in the path, not in the port".into()
            );
        }
        Some(p) => Some(p.parse::<u16>().map_err(|_| format!("`{p}` is not a port number"))?),
    };
    Ok((host, port))
}

fn parse_label(label: &str) -> Result<Label, String> {
    if let Some(inner) = label.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
        if is_setting_key(inner) {
            return Ok(Label::Setting(inner.to_owned()));
        }
        return Err(format!("`{label}` is not a placeholder: write {{key}} with a setting key of a-z, 0-9 and _"));
    }
    if label.contains(['{', '}']) {
        return Err(format!(
            "`{label}`: a placeholder must be a whole label of the host, e.g. `{{subdomain}}.example.com`, \
             never part of one (N-02)"
        ));
    }
    if label.is_empty() {
        return Err("the host has an empty label (`..` or a leading/trailing dot)".into());
    }
    Ok(Label::Fixed(label.to_ascii_lowercase()))
}

fn parse_pieces(path: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("unmatched `}` in the path".into());
        }
        let close = rest[open..].find('}').ok_or("unmatched `{` in the path")? + open;
        let key = &rest[open + 1..close];
        if !is_setting_key(key) {
            return Err(format!("`{{{key}}}` is not a placeholder: setting keys use a-z, 0-9 and _"));
        }
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        pieces.push(Piece::Setting(key.to_owned()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

fn render_pieces(pieces: &[Piece], settings: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Setting(key) => {
                let value = setting(settings, key)?;
                // `.` and `..` survive percent-encoding as dot segments (the URL standard even
                // decodes `%2e`), so they are refused rather than encoded.
                if value.is_empty() || value == "." || value == ".." {
                    return Err(TemplateError::InvalidPathValue { key: key.clone() });
                }
                percent_encode_into(value, &mut out);
            }
        }
    }
    Ok(out)
}

fn setting<'a>(settings: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, TemplateError> {
    settings
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| TemplateError::MissingSetting { key: key.to_owned() })
}

/// Encodes everything but RFC 3986 unreserved characters, so a value is always one path segment.
fn percent_encode_into(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// `[a-z0-9_]+`: the syntax of setting keys (and so of placeholders).
pub(crate) fn is_setting_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`: one DNS label, the only thing a host placeholder takes.
pub fn is_dns_label(value: &str) -> bool {
    let b = value.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len()) && ok(&b[0]) && ok(&b[b.len() - 1]) && b.iter().all(|c| ok(c) || *c == b'-')
}

pub(crate) fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Renders an absolute URL template with a connection's settings.
///
/// `{key}` in the host must be a whole DNS label and takes a single-label value; `{key}` in the
/// path takes any non-empty value except `.`/`..`, percent-encoded. A missing or empty setting is
/// an error naming it.
pub fn render_url(template: &str, settings: &BTreeMap<String, String>) -> Result<Url, TemplateError> {
    let parsed = UrlTemplate::parse(template)
        .map_err(|message| TemplateError::Syntax { template: template.to_owned(), message })?;
    parsed.render(template, settings)
}

/// Renders one of `provider`'s URL templates with a connection's settings, honouring the settings'
/// declarations (closed choices spanning several host labels, `instance_url` origins). Every URL
/// Patchbay calls for a provider is built this way.
pub fn render_for(
    provider: &Provider,
    template: &str,
    settings: &BTreeMap<String, String>,
) -> Result<Url, TemplateError> {
    let parsed = UrlTemplate::parse(template)
        .map_err(|message| TemplateError::Syntax { template: template.to_owned(), message })?;
    parsed.render_with(template, settings, &|key| provider.setting(key))
}

/// Renders a path template (`/2010-04-01/Accounts/{sid}.json?x=1`): placeholders only before any
/// `?` or `#`, values percent-encoded.
pub fn render_path(template: &str, settings: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let syntax = |message: String| TemplateError::Syntax { template: template.to_owned(), message };
    let end = template.find(['?', '#']).unwrap_or(template.len());
    let (path, rest) = template.split_at(end);
    if rest.contains(['{', '}']) {
        return Err(syntax("placeholders are allowed only in the path, not in the query or fragment".into()));
    }
    let pieces = parse_pieces(path).map_err(syntax)?;
    Ok(render_pieces(&pieces, settings)? + rest)
}

/// Appends `path` (which must start with `/`) to an API base URL and checks that the result kept
/// the base's scheme, host, port and path prefix, so a path can never redirect a credential.
pub fn join_api_url(base: &Url, path: &str) -> Result<Url, TemplateError> {
    let outside = |reason| TemplateError::OutsideApiBase { path: path.to_owned(), reason };
    if !path.starts_with('/') {
        return Err(outside("an API path must start with `/`"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(outside("the API base URL carries a query or fragment"));
    }
    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    let url = Url::parse(&joined).map_err(|_| outside("the result is not a valid URL"))?;
    if url.scheme() != base.scheme()
        || url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(outside("it would change the host"));
    }
    let prefix = base.path().trim_end_matches('/');
    let p = url.path();
    if !(p == prefix || p.starts_with(&format!("{prefix}/"))) {
        return Err(outside("it leaves the API base path (`..` segments)"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn renders_host_label_and_encodes_path_values() {
        let s = settings(&[("subdomain", "Acme"), ("sid", "AC 1/2?x#y")]);
        let url = render_url("https://{subdomain}.zendesk.com/api/v2/{sid}.json", &s).unwrap();
        assert_eq!(url.as_str(), "https://acme.zendesk.com/api/v2/AC%201%2F2%3Fx%23y.json");
    }

    #[test]
    fn missing_and_empty_settings_are_named() {
        let err = render_url("https://{dc}.api.mailchimp.com/3.0", &settings(&[])).unwrap_err();
        assert_eq!(err, TemplateError::MissingSetting { key: "dc".into() });
        let err = render_url("https://{dc}.api.mailchimp.com/3.0", &settings(&[("dc", "  ")])).unwrap_err();
        assert_eq!(err, TemplateError::MissingSetting { key: "dc".into() });
    }

    #[test]
    fn placeholders_outside_host_labels_and_path_are_refused() {
        for t in [
            "https://api-{region}.example.com/",
            "https://example.com:{port}/",
            "https://{user}@example.com/",
            "https://example.com/?a={x}",
            "https://example.com/#{x}",
            "{scheme}://example.com/",
            "https://example.com/{Bad}",
            "https://example.com/{x",
        ] {
            assert!(UrlTemplate::parse(t).is_err(), "{t}");
        }
    }

    /// N-02: whatever a hostile user types as a subdomain, the host ends with the fixed suffix or
    /// rendering fails.
    #[test]
    fn hostile_host_values_never_escape_the_fixed_suffix() {
        let templates = [
            "https://{subdomain}.zendesk.com/api/v2",
            "https://{dc}.api.mailchimp.com/3.0",
            "https://{a}.{b}.example.com/",
        ];
        let mut hostile: Vec<String> = [
            "evil.com/",
            "evil.com",
            "a.b",
            "x@y",
            "..",
            ".",
            "%2e",
            "%2e%2e",
            "evil.example#",
            "evil.example:443",
            "evil.example?",
            "a/b",
            "a\\b",
            "",
            " ",
            "-a",
            "a-",
            "ａｃｍｅ",
            "аcme",
            "xn--80ak6aa92e",
            "acme\u{0}",
            "acme\n.evil",
            "[::1]",
            "127.0.0.1",
            "a b",
            "ACME",
            "@",
            ":",
            "#",
            "?",
            "/",
            "%",
            "{x}",
            "a%00",
            "localhost",
            "evil.com%2f",
            "\u{200b}acme",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        hostile.push("a".repeat(64));
        hostile.push("a".repeat(63));
        // A cheap deterministic generator over an alphabet of URL metacharacters.
        let alphabet: Vec<char> = "a0-./@:#?%\\[]_ ~é".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 9) as usize;
            let mut x = seed;
            for _ in 0..len {
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
                x /= alphabet.len() as u64;
                if x == 0 {
                    x = seed.rotate_left(7) | 1;
                }
            }
            hostile.push(s);
        }
        for t in templates {
            let parsed = UrlTemplate::parse(t).unwrap();
            let suffix = parsed.fixed_host_suffix();
            for v in &hostile {
                let s = settings(&[("subdomain", v), ("dc", v), ("a", v), ("b", "ok")]);
                if let Ok(url) = render_url(t, &s) {
                    let host = url.host_str().unwrap();
                    assert!(host.ends_with(&format!(".{suffix}")), "{t} with {v:?} gave {host}");
                    assert_eq!(url.username(), "");
                    let prefix = &host[..host.len() - suffix.len() - 1];
                    assert!(prefix.split('.').all(is_dns_label), "{t} with {v:?} gave {host}");
                }
            }
        }
    }

    #[test]
    fn dot_segments_in_path_values_are_refused() {
        for v in ["", ".", ".."] {
            let s = settings(&[("t", v)]);
            assert!(render_path("/tenant/{t}/me", &s).is_err(), "{v:?}");
        }
        let s = settings(&[("t", "../admin")]);
        assert_eq!(render_path("/tenant/{t}/me", &s).unwrap(), "/tenant/..%2Fadmin/me");
    }

    #[test]
    fn join_keeps_host_and_base_path() {
        let base = Url::parse("https://us6.api.mailchimp.com/3.0").unwrap();
        assert_eq!(join_api_url(&base, "/").unwrap().as_str(), "https://us6.api.mailchimp.com/3.0/");
        assert_eq!(
            join_api_url(&base, "/lists?count=1").unwrap().as_str(),
            "https://us6.api.mailchimp.com/3.0/lists?count=1"
        );
        for bad in ["@evil.example/", "lists", ".evil.example/", ":444/x", "/../admin", "/%2e%2e/admin", "/..\\admin"] {
            assert!(join_api_url(&base, bad).is_err(), "{bad}");
        }
        let root = Url::parse("https://api.stripe.com").unwrap();
        assert_eq!(join_api_url(&root, "//evil.example/x").unwrap().host_str(), Some("api.stripe.com"));
    }
}
