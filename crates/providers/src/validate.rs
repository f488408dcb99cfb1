//! Strict validation of one provider file: every mistake is reported at once, each with the file,
//! a line, the field and how to fix it.
//!
//! The passes run in order, and a pass only runs when the previous one left something to check:
//! 1. `${VAR}` interpolation (the private `interpolate` module);
//! 2. YAML syntax, then unknown keys over the whole tree (all of them, each with a "did you mean");
//! 3. serde into [`Provider`] (types, required fields, enum values: the first error only, that is
//!    serde's nature);
//! 4. semantic checks across fields (URLs, placeholders, scopes, auth-mode requirements), all
//!    collected.
//!
//! serde's errors carry a line; for semantic errors the line of the field is found by scanning the
//! text for `key:` under its parent (the `Locator`), which is good enough for hand-written files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use patchbay_domain::provider::{AuthMode, KeyLocation, Provider};
use yaml_serde::Value;

use crate::interpolate::{self, UnsetClientField};
use crate::template::{self, Label, Place, UrlTemplate};

/// One problem in one provider file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// The file (a path, or `builtin:<name>` for the embedded catalog).
    pub file: String,
    /// 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// The field, as a dotted path (`verify.account`, `modules.create_post.scopes`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.field, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.message),
        }
    }
}

impl std::error::Error for CatalogError {}

/// Every problem found while loading a catalog, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl CatalogErrors {
    /// The individual errors.
    pub fn errors(&self) -> &[CatalogError] {
        &self.0
    }
}

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogErrors {}

impl From<Vec<CatalogError>> for CatalogErrors {
    fn from(v: Vec<CatalogError>) -> Self {
        CatalogErrors(v)
    }
}

impl IntoIterator for CatalogErrors {
    type Item = CatalogError;
    type IntoIter = std::vec::IntoIter<CatalogError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The keys a provider file may contain, level by level. Kept in sync with the serde structs of
/// `patchbay_domain::provider` by a test below.
#[derive(Clone, Copy)]
enum Shape {
    /// A scalar or a free-form map/list (scopes, headers...): no key checks below.
    Leaf,
    /// A struct: exactly these keys.
    Struct(&'static [(&'static str, Shape)]),
    /// A map with free keys whose values have this shape (modules).
    MapOf(&'static Shape),
    /// A list whose items have this shape (settings).
    SeqOf(&'static Shape),
}

use Shape::Leaf;

const MODULE: Shape = Shape::Struct(&[("name", Leaf), ("scopes", Leaf), ("description", Leaf)]);
const SETTING: Shape = Shape::Struct(&[
    ("key", Leaf),
    ("label", Leaf),
    ("secret", Leaf),
    ("required", Leaf),
    ("help", Leaf),
    ("placeholder", Leaf),
]);
const API_KEY: Shape =
    Shape::Struct(&[("in", Leaf), ("name", Leaf), ("prefix", Leaf), ("label", Leaf), ("help", Leaf)]);
const BASIC: Shape =
    Shape::Struct(&[("username_label", Leaf), ("password_label", Leaf), ("fixed_username", Leaf), ("help", Leaf)]);
const VERIFY: Shape = Shape::Struct(&[("method", Leaf), ("path", Leaf), ("account", Leaf)]);
const PROVIDER: Shape = Shape::Struct(&[
    ("id", Leaf),
    ("display_name", Leaf),
    ("auth_mode", Leaf),
    ("description", Leaf),
    ("docs_url", Leaf),
    ("authorization_url", Leaf),
    ("token_url", Leaf),
    ("revocation_url", Leaf),
    ("issuer", Leaf),
    ("token_endpoint_auth", Leaf),
    ("pkce", Leaf),
    ("scope_separator", Leaf),
    ("granular_scopes", Leaf),
    ("default_scopes", Leaf),
    ("authorization_params", Leaf),
    ("client_id", Leaf),
    ("client_secret", Leaf),
    ("grant_lifetime", Leaf),
    ("incremental_authorization", Leaf),
    ("refresh_margin", Leaf),
    ("keep_alive", Leaf),
    ("terminal_errors", Leaf),
    ("reverify_every", Leaf),
    ("scopes", Leaf),
    ("api_base_url", Leaf),
    ("headers", Leaf),
    ("api_key", API_KEY),
    ("basic", BASIC),
    ("verify", VERIFY),
    ("modules", Shape::MapOf(&MODULE)),
    ("settings", Shape::SeqOf(&SETTING)),
]);

/// Keys that only mean something for OAuth providers.
const OAUTH_ONLY: &[&str] = &[
    "authorization_url",
    "token_url",
    "revocation_url",
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
];

/// Headers a provider file may not set statically: credentials come from the connection, and the
/// rest are framing that the HTTP client owns.
const FORBIDDEN_HEADERS: &[&str] = &[
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

/// Largest provider file accepted; real ones are a few KiB.
pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024;

/// A successfully parsed file, with the warnings worth showing to an operator.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub provider: Provider,
    pub warnings: Vec<String>,
}

/// Parses and validates one provider file.
pub(crate) fn parse_provider(
    file: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Parsed, Vec<CatalogError>> {
    let error = |line, field: &str, message: String| CatalogError {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        message,
    };
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![error(
            None,
            "(file)",
            format!("the file is larger than {} KiB; a provider file is a few KiB", MAX_FILE_BYTES / 1024),
        )]);
    }
    let interpolated = interpolate::interpolate(text, env)
        .map_err(|errs| errs.into_iter().map(|e| error(Some(e.line), &e.field, e.message)).collect::<Vec<_>>())?;
    let text = interpolated.text.as_str();
    let locator = Locator::new(text);

    let value: Value = yaml_serde::from_str(text).map_err(|e| vec![serde_error(file, &e, "(yaml)")])?;
    if !matches!(value, Value::Mapping(_)) {
        return Err(vec![error(
            Some(1),
            "(file)",
            "a provider file is a YAML mapping of `key: value` lines, starting with `id:`".into(),
        )]);
    }
    let mut errors = Vec::new();
    unknown_keys(&value, PROVIDER, &mut Vec::new(), &locator, file, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut provider: Provider = yaml_serde::from_str(text).map_err(|e| vec![serde_error(file, &e, "(file)")])?;

    let mut checker = Checker { file, locator: &locator, root: &value, errors: Vec::new() };
    checker.check(&provider);
    if !checker.errors.is_empty() {
        return Err(checker.errors);
    }

    let mut warnings = Vec::new();
    if !interpolated.unset_client_fields.is_empty() {
        warnings.push(unset_client_warning(file, &provider, &interpolated.unset_client_fields));
        // The platform client is a pair: half of one is not usable, so drop both.
        provider.client_id = None;
        provider.client_secret = None;
    }
    Ok(Parsed { provider, warnings })
}

fn unset_client_warning(file: &str, provider: &Provider, unset: &[UnsetClientField]) -> String {
    let vars: Vec<String> = unset.iter().map(|u| format!("{} (line {}, {})", u.var, u.line, u.field)).collect();
    format!(
        "{file}: provider `{}` loads without the platform's OAuth client because {} not set; \
         connections can still use their own client from the advanced settings, or set the \
         variable(s) and restart",
        provider.id,
        if vars.len() == 1 { format!("{} is", vars[0]) } else { format!("{} are", vars.join(" and ")) }
    )
}

/// Turns a yaml_serde error into a [`CatalogError`] with its line, field and a hint.
fn serde_error(file: &str, e: &yaml_serde::Error, default_field: &str) -> CatalogError {
    let mut text = e.to_string();
    for marker in [" at line ", " at position "] {
        if let Some(i) = text.rfind(marker) {
            text.truncate(i);
        }
    }
    let (mut field, mut message) = match text.split_once(": ") {
        Some((path, msg)) if !path.is_empty() && !path.contains(' ') => (path.to_owned(), msg.to_owned()),
        _ => (default_field.to_owned(), text.clone()),
    };
    if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()).map(str::to_owned)
    {
        field = if field == default_field { missing.clone() } else { format!("{field}.{missing}") };
        message = format!("this field is required: add `{missing}: ...`");
    } else if message.starts_with("invalid type") {
        message.push_str(" (check the indentation and quoting of this value)");
    }
    CatalogError { file: file.to_owned(), line: e.location().map(|l| l.line()), field, message }
}

/// Reports every key that the shape does not know, with a "did you mean".
fn unknown_keys(
    value: &Value,
    shape: Shape,
    path: &mut Vec<String>,
    locator: &Locator<'_>,
    file: &str,
    errors: &mut Vec<CatalogError>,
) {
    match (shape, value) {
        (Shape::Struct(fields), Value::Mapping(map)) => {
            for (k, v) in map {
                let Some(key) = k.as_str() else { continue };
                path.push(key.to_owned());
                match fields.iter().find(|(name, _)| *name == key) {
                    Some((_, sub)) => unknown_keys(v, *sub, path, locator, file, errors),
                    None => {
                        let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                        let hint = match closest(key, &known) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("known keys here: {}", known.join(", ")),
                        };
                        let segs: Vec<Seg<'_>> = path.iter().map(|s| Seg::Key(s)).collect();
                        errors.push(CatalogError {
                            file: file.to_owned(),
                            line: locator.find(&segs),
                            field: path.join("."),
                            message: format!("unknown key `{key}`; {hint}"),
                        });
                    }
                }
                path.pop();
            }
        }
        (Shape::MapOf(sub), Value::Mapping(map)) => {
            for (k, v) in map {
                let Some(key) = k.as_str() else { continue };
                path.push(key.to_owned());
                unknown_keys(v, *sub, path, locator, file, errors);
                path.pop();
            }
        }
        (Shape::SeqOf(sub), Value::Sequence(items)) => {
            for (i, v) in items.iter().enumerate() {
                // A list position is not a key; locate by index through the parent path.
                path.push(i.to_string());
                unknown_keys_in_item(v, *sub, path, i, locator, file, errors);
                path.pop();
            }
        }
        _ => {}
    }
}

fn unknown_keys_in_item(
    value: &Value,
    shape: Shape,
    path: &[String],
    index: usize,
    locator: &Locator<'_>,
    file: &str,
    errors: &mut Vec<CatalogError>,
) {
    let (Shape::Struct(fields), Value::Mapping(map)) = (shape, value) else {
        return;
    };
    for (k, _) in map {
        let Some(key) = k.as_str() else { continue };
        if fields.iter().any(|(n, _)| *n == key) {
            continue;
        }
        let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        let hint = match closest(key, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("known keys here: {}", known.join(", ")),
        };
        let parent: Vec<Seg<'_>> = path[..path.len() - 1].iter().map(|s| Seg::Key(s)).collect();
        let mut segs = parent;
        segs.push(Seg::Item(index));
        segs.push(Seg::Key(key));
        errors.push(CatalogError {
            file: file.to_owned(),
            line: locator.find(&segs),
            field: format!("{}[{index}].{key}", path[..path.len() - 1].join(".")),
            message: format!("unknown key `{key}`; {hint}"),
        });
    }
}

/// The known key nearest to `key` by edit distance, if it is near enough to be a typo.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A step of a path into the YAML text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// The n-th item of a list.
    Item(usize),
}

/// Finds the line of a key by scanning the text: block style (`key:` on its own line, deeper
/// indentation for children) and flow style on one line (`verify: {path: /me}`). When a step
/// cannot be found, the line of the deepest step found is returned.
pub(crate) struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Locator { lines: text.lines().collect() }
    }

    /// The 1-based line of the path, or of its deepest ancestor found.
    pub(crate) fn find(&self, path: &[Seg<'_>]) -> Option<usize> {
        // (line index, indentation of the key or dash found there)
        let mut anchor: Option<(usize, usize)> = None;
        for seg in path {
            let next = match *seg {
                Seg::Key(k) => self.find_key(anchor, k),
                Seg::Item(n) => self.find_item(anchor, n),
            };
            match next {
                Some(found) => anchor = Some(found),
                None => break,
            }
        }
        anchor.map(|(i, _)| i + 1)
    }

    fn find_key(&self, anchor: Option<(usize, usize)>, key: &str) -> Option<(usize, usize)> {
        if let Some((line, indent)) = anchor {
            // Flow style on the anchor line itself: `{key: v}` or `, key: v`.
            let text = self.lines[line];
            for lead in ["{", ", ", "{ ", ","] {
                if let Some(pos) = text.find(&format!("{lead}{key}:")) {
                    let _ = pos;
                    return Some((line, indent));
                }
            }
            // A `- key:` item line: the first key sits on the dash line.
            let t = text.trim_start();
            if let Some(after) = t.strip_prefix("- ")
                && is_key_line(after, key)
            {
                return Some((line, indent + 2));
            }
        }
        let (start, parent_indent) = match anchor {
            Some((line, indent)) => (line + 1, Some(indent)),
            None => (0, None),
        };
        for (i, text) in self.lines.iter().enumerate().skip(start) {
            let t = text.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let indent = text.len() - t.len();
            match parent_indent {
                None if indent != 0 => continue,
                Some(p) if indent <= p => return None,
                _ => {}
            }
            let (content, offset) = match t.strip_prefix("- ") {
                Some(rest) => (rest, 2),
                None => (t, 0),
            };
            if is_key_line(content, key) {
                return Some((i, indent + offset));
            }
        }
        None
    }

    fn find_item(&self, anchor: Option<(usize, usize)>, n: usize) -> Option<(usize, usize)> {
        let (line, parent_indent) = anchor?;
        if self.lines[line].contains('[') {
            return Some((line, parent_indent));
        }
        let mut seen = 0;
        let mut item_indent = None;
        for (i, text) in self.lines.iter().enumerate().skip(line + 1) {
            let t = text.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let indent = text.len() - t.len();
            let is_item = t == "-" || t.starts_with("- ");
            if indent < parent_indent || (indent == parent_indent && !is_item) {
                return None;
            }
            if is_item && item_indent.is_none_or(|ii| ii == indent) {
                item_indent = Some(indent);
                if seen == n {
                    return Some((i, indent));
                }
                seen += 1;
            }
        }
        None
    }
}

fn is_key_line(content: &str, key: &str) -> bool {
    let unquoted = content
        .strip_prefix('"')
        .and_then(|c| c.strip_prefix(key))
        .and_then(|c| c.strip_prefix('"'))
        .or_else(|| content.strip_prefix(key));
    unquoted.is_some_and(|rest| rest.trim_start().starts_with(':'))
}

struct Checker<'a> {
    file: &'a str,
    locator: &'a Locator<'a>,
    root: &'a Value,
    errors: Vec<CatalogError>,
}

impl Checker<'_> {
    fn err(&mut self, path: &[Seg<'_>], field: impl Into<String>, message: impl Into<String>) {
        let line = self.locator.find(path).or(Some(1));
        self.errors.push(CatalogError {
            file: self.file.to_owned(),
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn present(&self, key: &str) -> bool {
        self.root.get(key).is_some()
    }

    fn check(&mut self, p: &Provider) {
        self.check_identity(p);
        self.check_settings(p);
        self.check_urls(p);
        self.check_auth_mode(p);
        self.check_scopes_and_modules(p);
        self.check_verify(p);
        self.check_headers(p);
        self.check_api_key(p);
        self.check_authorization_params(p);
    }

    /// Parameters Patchbay sets itself on every authorize URL may not be overridden by the file:
    /// a static `state` or `redirect_uri` would defeat the flow's protections.
    fn check_authorization_params(&mut self, p: &Provider) {
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

    fn check_identity(&mut self, p: &Provider) {
        if !is_provider_id(&p.id) {
            self.err(
                &[Seg::Key("id")],
                "id",
                format!(
                    "`{}` is not a valid id: use lowercase letters, digits and inner hyphens \
                     ([a-z0-9-]+, at most 64 characters), e.g. `acme-crm`",
                    p.id
                ),
            );
        }
        if p.display_name.trim().is_empty() {
            self.err(&[Seg::Key("display_name")], "display_name", "must not be empty: it is the name users see");
        }
    }

    fn check_settings(&mut self, p: &Provider) {
        let mut seen = BTreeSet::new();
        for (i, s) in p.settings.iter().enumerate() {
            let path = [Seg::Key("settings"), Seg::Item(i), Seg::Key("key")];
            if !template::is_setting_key(&s.key) {
                self.err(
                    &path,
                    format!("settings[{i}].key"),
                    format!("`{}` is not a valid setting key: use a-z, 0-9 and _ (e.g. `subdomain`)", s.key),
                );
            }
            if !seen.insert(s.key.as_str()) {
                self.err(&path, format!("settings[{i}].key"), format!("the setting `{}` is declared twice", s.key));
            }
            if s.label.trim().is_empty() {
                self.err(
                    &[Seg::Key("settings"), Seg::Item(i), Seg::Key("label")],
                    format!("settings[{i}].label"),
                    "must not be empty: it is the form label",
                );
            }
        }
    }

    fn check_urls(&mut self, p: &Provider) {
        let fields: [(&str, &Option<String>); 6] = [
            ("authorization_url", &p.authorization_url),
            ("token_url", &p.token_url),
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

    fn check_url(&mut self, p: &Provider, field: &str, value: &str) {
        let at = [Seg::Key(field)];
        let t = match UrlTemplate::parse(value) {
            Ok(t) => t,
            Err(msg) => {
                self.err(&at, field, format!("`{value}`: {msg}"));
                return;
            }
        };
        match t.scheme.as_str() {
            "https" => {}
            "http" if t.is_loopback_host() => {}
            "http" => {
                self.err(
                    &at,
                    field,
                    format!(
                        "`{value}` must be an https:// URL; plain http:// is accepted only for loopback hosts \
                         (127.0.0.1, [::1], localhost) used by tests and the demo"
                    ),
                );
                return;
            }
            other => {
                self.err(&at, field, format!("`{value}` must be an https:// URL, not {other}://"));
                return;
            }
        }
        if field == "docs_url" && !t.placeholders().is_empty() {
            self.err(&at, field, "docs_url cannot contain {placeholders}");
            return;
        }
        if field == "api_base_url" && !t.rest.is_empty() {
            self.err(
                &at,
                field,
                "api_base_url cannot have a query or fragment: paths are appended to it; put query \
                 parameters in verify.path",
            );
        }
        self.check_placeholders(p, field, &t.placeholders());
        let host_placeholders = t.host.iter().filter(|l| matches!(l, Label::Setting(_))).count();
        if host_placeholders > 0 && t.fixed_host_suffix().split('.').count() < 2 {
            self.err(
                &at,
                field,
                format!(
                    "`{value}`: a host placeholder must be followed by the provider's own domain \
                     (at least two fixed labels, e.g. `{{subdomain}}.zendesk.com`), so the value \
                     can never choose the domain (N-02)"
                ),
            );
        }
        // With every placeholder filled with a plain label the URL must parse.
        let dummy: BTreeMap<String, String> =
            t.placeholders().into_iter().map(|(k, _)| (k.to_owned(), "x".to_owned())).collect();
        if let Err(e) = t.render(value, &dummy) {
            self.err(&at, field, format!("`{value}` is not a valid URL: {e}"));
        }
    }

    fn check_placeholders(&mut self, p: &Provider, field: &str, placeholders: &[(&str, Place)]) {
        let at: Vec<Seg<'_>> = field.split('.').map(Seg::Key).collect();
        for (key, place) in placeholders {
            match p.setting(key) {
                None => self.err(
                    &at,
                    field,
                    format!(
                        "`{{{key}}}` names no setting: declare it under `settings:` \
                         (e.g. `- {{key: {key}, label: ..., required: true}}`)"
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
                Some(s) if *place == Place::Host && !s.required => {
                    self.err(&at, field, format!("the setting `{key}` picks the host, so it must be `required: true`"))
                }
                Some(_) => {}
            }
        }
    }

    fn check_auth_mode(&mut self, p: &Provider) {
        let mode = p.auth_mode.as_str();
        let mode_at = [Seg::Key("auth_mode")];
        match p.auth_mode {
            AuthMode::Oauth2 => {
                for (field, v) in [("authorization_url", &p.authorization_url), ("token_url", &p.token_url)] {
                    if v.is_none() {
                        self.err(&mode_at, field, format!("auth_mode: oauth2 needs `{field}: https://...`"));
                    }
                }
            }
            AuthMode::Oauth2ClientCredentials => {
                if p.token_url.is_none() {
                    self.err(&mode_at, "token_url", format!("auth_mode: {mode} needs `token_url: https://...`"));
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

    fn check_scopes_and_modules(&mut self, p: &Provider) {
        let sep = p.scope_separator.trim();
        for scope in p.scopes.keys() {
            if scope.is_empty() || scope.chars().any(char::is_whitespace) || (!sep.is_empty() && scope.contains(sep)) {
                self.err(
                    &[Seg::Key("scopes"), Seg::Key(scope)],
                    format!("scopes.{scope}"),
                    format!("`{scope}` is not a valid scope name: no spaces and no scope separator"),
                );
            }
        }
        for scope in &p.default_scopes {
            if !p.scopes.contains_key(scope) {
                self.err(
                    &[Seg::Key("default_scopes")],
                    "default_scopes",
                    format!("`{scope}` is not declared under `scopes:`; declare it with a description"),
                );
            }
        }
        for (id, module) in &p.modules {
            let at = [Seg::Key("modules"), Seg::Key(id)];
            if !template::is_setting_key(id) {
                self.err(
                    &at,
                    format!("modules.{id}"),
                    format!("`{id}` is not a valid module id: use a-z, 0-9 and _ (e.g. `create_post`)"),
                );
            }
            if module.name.trim().is_empty() {
                self.err(&at, format!("modules.{id}.name"), "must not be empty");
            }
            for scope in &module.scopes {
                if !p.scopes.contains_key(scope) {
                    self.err(
                        &[Seg::Key("modules"), Seg::Key(id), Seg::Key("scopes")],
                        format!("modules.{id}.scopes"),
                        format!("`{scope}` is not declared under `scopes:`; declare it with a description"),
                    );
                }
            }
        }
    }

    fn check_verify(&mut self, p: &Provider) {
        let Some(v) = &p.verify else { return };
        if p.api_base_url.is_none() {
            self.err(
                &[Seg::Key("verify")],
                "verify",
                "a verify call needs `api_base_url:`, the base its path is appended to",
            );
        }
        if !matches!(v.method.as_str(), "GET" | "HEAD" | "POST") {
            self.err(
                &[Seg::Key("verify"), Seg::Key("method")],
                "verify.method",
                format!("`{}` is not allowed: use GET (or HEAD/POST when the identity call needs it)", v.method),
            );
        }
        let path_at = [Seg::Key("verify"), Seg::Key("path")];
        if !v.path.starts_with('/') {
            self.err(&path_at, "verify.path", format!("`{}` must start with `/`", v.path));
        }
        let end = v.path.find(['?', '#']).unwrap_or(v.path.len());
        let mut placeholders = Vec::new();
        let mut rest = &v.path[..end];
        let mut bad = v.path[end..].contains(['{', '}']);
        while let Some(open) = rest.find('{') {
            match rest[open..].find('}') {
                Some(close) if template::is_setting_key(&rest[open + 1..open + close]) => {
                    placeholders.push(&rest[open + 1..open + close]);
                    rest = &rest[open + close + 1..];
                }
                _ => {
                    bad = true;
                    break;
                }
            }
        }
        if bad || rest.contains('}') {
            self.err(
                &path_at,
                "verify.path",
                "placeholders are written {key} with a setting key (a-z, 0-9, _), and only in the path, \
                 not in the query",
            );
        }
        let with_place: Vec<(&str, Place)> = placeholders.into_iter().map(|k| (k, Place::Path)).collect();
        self.check_placeholders(p, "verify.path", &with_place);
        for (i, pointer) in v.account.iter().enumerate() {
            if !pointer.starts_with('/') {
                self.err(
                    &[Seg::Key("verify"), Seg::Key("account")],
                    "verify.account",
                    format!(
                        "`{pointer}` (entry {i}) is not a JSON pointer: write it like `/email` or \
                         `/data/user/name` (`/items/0/name` for a list)"
                    ),
                );
            }
        }
    }

    fn check_headers(&mut self, p: &Provider) {
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

    fn check_api_key(&mut self, p: &Provider) {
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

/// `[a-z0-9-]+`, no leading/trailing hyphen, at most 64 characters.
pub(crate) fn is_provider_id(id: &str) -> bool {
    let b = id.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn errors(text: &str) -> Vec<CatalogError> {
        match parse_provider("t.yaml", text, &no_env) {
            Ok(p) => panic!("expected errors, got {:?}", p.provider.id),
            Err(e) => e,
        }
    }

    const GOOD: &str = "\
id: acme
display_name: Acme
auth_mode: api_key
api_key: {in: header, name: Authorization, prefix: \"Bearer \"}
api_base_url: https://api.acme.example
verify: {method: GET, path: /me, account: [/email, /id]}
modules:
  list_things: {name: List things}
";

    #[test]
    fn a_good_file_parses() {
        let p = parse_provider("t.yaml", GOOD, &no_env).unwrap().provider;
        assert_eq!(p.id, "acme");
        assert_eq!(p.verify.unwrap().account, vec!["/email", "/id"]);
    }

    #[test]
    fn every_unknown_key_is_reported_with_line_and_suggestion() {
        let text = "\
id: acme
display_nam: Acme
auth_mode: api_key
api_key:
  in: header
  nme: X-Key
api_base_url: https://api.acme.example
modules:
  list_things:
    name: List things
    scope: []
settings:
  - key: region
    label: Region
  - key: zone
    lable: Zone
";
        let errs = errors(text);
        let got: Vec<(Option<usize>, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Some(2), "display_nam"),
                (Some(6), "api_key.nme"),
                (Some(11), "modules.list_things.scope"),
                (Some(16), "settings[1].lable"),
            ],
            "{errs:#?}"
        );
        assert!(errs[0].message.contains("did you mean `display_name`"), "{}", errs[0]);
        assert_eq!(errs[1].to_string(), "t.yaml:6: api_key.nme: unknown key `nme`; did you mean `name`?");
    }

    #[test]
    fn serde_errors_carry_line_and_field() {
        let errs = errors("id: acme\ndisplay_name: Acme\nauth_mode: oauth\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, Some(3));
        assert_eq!(errs[0].field, "auth_mode");
        assert!(errs[0].message.contains("oauth2"), "{}", errs[0]);
        let errs = errors("id: acme\nauth_mode: basic\n");
        assert_eq!(errs[0].field, "display_name");
        assert!(errs[0].message.contains("required"), "{}", errs[0]);
        let errs = errors("id: acme\n  display_name: [\n");
        assert_eq!(errs[0].field, "(yaml)");
        assert!(errs[0].line.is_some());
    }

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
    fn semantic_errors_are_all_collected_with_lines() {
        let text = "\
id: Acme_CRM
display_name: Acme
auth_mode: oauth2
authorization_url: http://acme.example/authorize
token_url: https://{tenant}.acme.example/token
revocation_url: https://acme-{tenant}.example/revoke
scopes:
  read: Read
default_scopes: [profile]
api_base_url: https://{region}.example/api?x=1
verify: {method: DELETE, path: me, account: email}
modules:
  watch: {name: Watch, scopes: [read, write]}
settings:
  - {key: tenant, label: Tenant, secret: true}
headers:
  Authorization: Bearer x
";
        let errs = errors(text);
        let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let expect = [
            "t.yaml:1: id:",
            "t.yaml:4: authorization_url: `http://acme.example/authorize` must be an https:// URL",
            "t.yaml:5: token_url: `{tenant}` is a secret setting",
            "t.yaml:6: revocation_url: `https://acme-{tenant}.example/revoke`: `acme-{tenant}`",
            "t.yaml:10: api_base_url: api_base_url cannot have a query",
            "t.yaml:10: api_base_url: `{region}` names no setting",
            "t.yaml:10: api_base_url: `https://{region}.example/api?x=1`: a host placeholder must be followed",
            "t.yaml:9: default_scopes: `profile` is not declared",
            "t.yaml:13: modules.watch.scopes: `write` is not declared",
            "t.yaml:11: verify.method:",
            "t.yaml:11: verify.path: `me` must start with `/`",
            "t.yaml:11: verify.account: `email` (entry 0) is not a JSON pointer",
            "t.yaml:17: headers.Authorization: `Authorization` cannot be a static header",
        ];
        for e in expect {
            assert!(rendered.iter().any(|r| r.starts_with(e)), "missing {e:?} in\n{}", rendered.join("\n"));
        }
        assert_eq!(rendered.len(), expect.len(), "{}", rendered.join("\n"));
    }

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

    #[test]
    fn unset_client_vars_load_without_platform_client() {
        let text = "\
id: acme
display_name: Acme
auth_mode: oauth2
authorization_url: https://acme.example/authorize
token_url: https://acme.example/token
client_id: ${ACME_ID}
client_secret: ${ACME_SECRET}
scopes: {profile: See your profile}
";
        let env = |k: &str| (k == "ACME_ID").then(|| "id-123".to_owned());
        let parsed = parse_provider("t.yaml", text, &env).unwrap();
        assert!(!parsed.provider.has_platform_client());
        assert!(parsed.provider.client_secret.is_none());
        assert!(parsed.warnings[0].contains("ACME_SECRET (line 7"), "{}", parsed.warnings[0]);
        let env = |k: &str| Some(format!("{k}-value"));
        let parsed = parse_provider("t.yaml", text, &env).unwrap();
        assert!(parsed.provider.has_platform_client());
        assert!(parsed.warnings.is_empty());
        let text = text.replace("scopes:", "api_base_url: https://${API_HOST}/v1\nscopes:");
        let errs = parse_provider("t.yaml", &text, &|k: &str| (k != "API_HOST").then(|| "v".into())).unwrap_err();
        assert_eq!(errs[0].to_string().split(": ").next(), Some("t.yaml:8"));
        assert!(errs[0].message.contains("API_HOST is not set"));
    }

    /// The key lists above must match the serde structs exactly: a key serde knows but the list
    /// lacks would reject valid files; the reverse would let a typo through to serde.
    #[test]
    fn shape_matches_the_serde_model() {
        let full = "\
id: full
display_name: Full
auth_mode: oauth2
description: d
docs_url: https://docs.example
authorization_url: https://a.example/authorize
token_url: https://a.example/token
revocation_url: https://a.example/revoke
issuer: https://a.example
token_endpoint_auth: client_secret_post
pkce: true
scope_separator: \" \"
granular_scopes: true
default_scopes: [s]
authorization_params: {a: b}
client_id: id
client_secret: secret
grant_lifetime: 60d
scopes: {s: S}
api_base_url: https://api.example
headers: {X-Version: '1'}
api_key: {in: header, name: X-Key, prefix: p, label: l, help: h}
basic: {username_label: u, password_label: p, fixed_username: f, help: h}
verify: {method: GET, path: /me, account: /id}
modules:
  m: {name: M, scopes: [s], description: d}
settings:
  - {key: k, label: K, secret: false, required: true, help: h, placeholder: p}
";
        // Parses with serde alone (the semantic checks would object to api_key on oauth2).
        let p: Provider = yaml_serde::from_str(full).unwrap();
        let v: Value = yaml_serde::from_str(full).unwrap();
        let mut errs = Vec::new();
        unknown_keys(&v, PROVIDER, &mut Vec::new(), &Locator::new(full), "f", &mut errs);
        assert!(errs.is_empty(), "{errs:#?}");
        // And the serialized model has no key the shape lacks (client_secret is never serialized).
        let ser: Value = yaml_serde::to_value(&p).unwrap();
        let mut errs = Vec::new();
        unknown_keys(&ser, PROVIDER, &mut Vec::new(), &Locator::new(""), "f", &mut errs);
        assert!(errs.is_empty(), "{errs:#?}");
        let Shape::Struct(top) = PROVIDER else { unreachable!() };
        let ser_keys: BTreeSet<&str> = ser.as_mapping().unwrap().keys().filter_map(|k| k.as_str()).collect();
        for (k, _) in top {
            assert!(ser_keys.contains(k) || *k == "client_secret", "shape key `{k}` is not in the model");
        }
    }

    #[test]
    fn locator_handles_block_flow_and_lists() {
        let text = "\
id: x
verify: {method: GET, path: /me}
modules:
  a:
    name: A
  b:
    name: B
    scopes: [x]
settings:
- key: one
  label: One
- key: two
  label: Two
";
        let l = Locator::new(text);
        assert_eq!(l.find(&[Seg::Key("verify"), Seg::Key("path")]), Some(2));
        assert_eq!(l.find(&[Seg::Key("modules"), Seg::Key("b"), Seg::Key("scopes")]), Some(8));
        assert_eq!(l.find(&[Seg::Key("modules"), Seg::Key("b"), Seg::Key("nope")]), Some(6));
        assert_eq!(l.find(&[Seg::Key("settings"), Seg::Item(1), Seg::Key("label")]), Some(13));
        assert_eq!(l.find(&[Seg::Key("settings"), Seg::Item(0), Seg::Key("key")]), Some(10));
        assert_eq!(l.find(&[Seg::Key("name")]), None);
    }
}
