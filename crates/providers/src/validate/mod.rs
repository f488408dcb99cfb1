//! Strict validation of one provider file: every mistake is reported at once, in line order, each
//! with the file, a line, the field and how to fix it.
//!
//! The passes run in order, each on what the one before could make of the file:
//! 1. `${VAR}` interpolation (the private `interpolate` module): a line that fails is reported
//!    and kept as written;
//! 2. YAML syntax (an error here ends the run: there is no tree to check), then unknown keys over
//!    the whole tree (all of them, each with a "did you mean"), which are then taken out (or read
//!    as the key they were probably meant to be);
//! 3. serde into [`Provider`] (types, required fields, enum values): serde stops at its first
//!    error, so `recover` repairs the tree past it and runs serde again, collecting each;
//! 4. semantic checks across fields (URLs, placeholders, scopes, auth-mode requirements), all
//!    collected, when serde could build the provider.
//!
//! An error of a later pass at a field an earlier pass already reported is the same mistake seen
//! again, and is left out (`Found`).
//!
//! serde's errors carry a line; for semantic errors the line of the field is found by scanning the
//! text for `key:` under its parent (the `Locator`), which is good enough for hand-written files.
//!
//! This module owns the pipeline (`parse_provider`), the translation of serde's errors and the
//! warning about an unset platform client. The pieces: `error` (the error types), `shape` (the
//! key schema and unknown keys), `recover` (serde past its first error), `locate` (the line
//! locator), `checks` (the semantic checks) and `client_convention` (the platform client read
//! from `PATCHBAY_<APP>_CLIENT_ID` / `_SECRET` when a file names none).

mod checks;
mod client_convention;
mod error;
mod locate;
mod recover;
mod shape;

use patchbay_domain::provider::Provider;
use yaml_serde::Value;

use crate::interpolate::{self, UnsetClientField};

pub use client_convention::variable_names as client_variable_names;
pub use error::{CatalogError, CatalogErrors};
pub(crate) use locate::{Locator, Seg};

/// Largest provider file accepted; real ones are a few KiB.
pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024;

/// Deepest nesting a provider file may have, checked on the text before any YAML parsing
/// (parsing cost grows faster than linearly with depth: 100 000 levels took over 20 s). A real
/// provider file nests four or five levels.
pub(crate) const MAX_DEPTH: usize = 32;

/// The line of the first place where `text` nests deeper than [`MAX_DEPTH`]: flow collections
/// (`[`, `{`) outside quotes and comments, or block nesting, bounded by the indentation (spaces
/// and `- ` list markers) that every block level adds.
fn too_deep(text: &str) -> Option<usize> {
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let indent = line.bytes().take_while(|b| matches!(b, b' ' | b'-' | b'\t')).count();
        if indent > 4 * MAX_DEPTH {
            return Some(n + 1);
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow + indent / 2 > MAX_DEPTH {
                        return Some(n + 1);
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    None
}

/// A successfully parsed file, with the warnings worth showing to an operator.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub provider: Provider,
    pub warnings: Vec<String>,
}

/// Parses and validates one provider file: every error, in line order (errors of the whole file,
/// which have no line, first).
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
    let interpolated = interpolate::interpolate(text, env);
    let mut found = Found::default();
    found.pass(interpolated.errors.iter().map(|e| error(Some(e.line), &e.field, e.message.clone())).collect());
    let text = interpolated.text.as_str();
    // From here on a pass that cannot run stops the others: what was found so far is the answer.
    if let Some(line) = too_deep(text) {
        found.pass(vec![error(
            Some(line),
            "(yaml)",
            format!("the file nests deeper than {MAX_DEPTH} levels here; a provider file needs a handful"),
        )]);
        return Err(found.sorted());
    }
    let locator = Locator::new(text);
    let mut value: Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            found.pass(vec![serde_error(file, &e, "(yaml)")]);
            return Err(found.sorted());
        }
    };
    if !matches!(value, Value::Mapping(_)) {
        found.pass(vec![error(
            Some(1),
            "(file)",
            "a provider file is a YAML mapping of `key: value` lines, starting with `id:`".into(),
        )]);
        return Err(found.sorted());
    }
    let unknown = shape::check_keys(&value, &locator, file);
    let stripped = !unknown.is_empty();
    found.pass(unknown);
    let original = value.clone();
    if stripped {
        shape::strip_unknown_keys(&mut value);
    }
    let (provider, serde_errors) = recover::deserialize_all(file, text, value, stripped, &locator);
    found.pass(serde_errors);
    let Some(mut provider) = provider else { return Err(found.sorted()) };
    found.pass(checks::semantic_errors(file, &locator, &original, &provider));
    if !found.errors.is_empty() {
        return Err(found.sorted());
    }

    let mut warnings = Vec::new();
    if !interpolated.unset_client_fields.is_empty() {
        warnings.push(unset_client_warning(file, &provider, &interpolated.unset_client_fields));
        // The platform client is a pair: half of one is not usable, so drop both.
        provider.client_id = None;
        provider.client_secret = None;
    }
    let file_names_client = original.get("client_id").is_some() || original.get("client_secret").is_some();
    client_convention::apply(file, &mut provider, file_names_client, env, &mut warnings);
    Ok(Parsed { provider, warnings })
}

/// The errors of the passes run so far. A later pass often trips over what an earlier one already
/// reported (a `${VAR}` left in a URL is also a bad URL; a value serde refused is also missing for
/// the checks across fields): its errors at a field an earlier pass reported are the same
/// mistake, so they are left out.
#[derive(Default)]
struct Found {
    errors: Vec<CatalogError>,
}

impl Found {
    fn pass(&mut self, errors: Vec<CatalogError>) {
        let earlier = self.errors.len();
        for e in errors {
            let known = self.errors[..earlier].iter().any(|seen| {
                related(&seen.field, &e.field) || (e.field == "(yaml)" && seen.line.is_some() && seen.line == e.line)
            });
            if !known {
                self.errors.push(e);
            }
        }
    }

    /// In line order, each pass's order kept within a line.
    fn sorted(mut self) -> Vec<CatalogError> {
        self.errors.sort_by_key(|e| e.line);
        self.errors
    }
}

/// Whether two fields are the same or one holds the other (`verify` and `verify.path`,
/// `default_scopes` and `default_scopes[1]`).
fn related(a: &str, b: &str) -> bool {
    let holds = |outer: &str, inner: &str| {
        inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    holds(a, b) || holds(b, a)
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing_and_quickly() {
        let started = std::time::Instant::now();
        for text in [
            format!("id: x\nheaders: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("id: x\nheaders: {}\n", "{a: ".repeat(50_000)),
            (0..200).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>(),
            format!("id: x\nheaders:\n{}x\n", "- ".repeat(1000)),
        ] {
            let e = errors(&text);
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(e[0].message.contains("nests deeper than 32 levels"), "{}", e[0]);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        // Brackets in quotes and comments do not count.
        assert_eq!(too_deep(&format!("a: \"{}\" # {}\n", "[".repeat(100), "{".repeat(100))), None);
    }

    pub(super) fn errors(text: &str) -> Vec<CatalogError> {
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
    fn a_category_is_optional_and_one_of_the_list() {
        assert_eq!(parse_provider("t.yaml", GOOD, &no_env).unwrap().provider.category, None);
        let text = GOOD.replace("auth_mode:", "category: project-management\nauth_mode:");
        let p = parse_provider("t.yaml", &text, &no_env).unwrap().provider;
        assert_eq!(p.category, Some(patchbay_domain::provider::Category::ProjectManagement));
        let errs = errors(&GOOD.replace("auth_mode:", "category: CRM\nauth_mode:"));
        assert_eq!((errs.len(), errs[0].line, errs[0].field.as_str()), (1, Some(3), "category"), "{errs:?}");
        for word in ["`crm`", "`project-management`", "`ai`", "`other`"] {
            assert!(errs[0].message.contains(word), "{}", errs[0]);
        }
    }

    #[test]
    fn every_pass_reports_in_one_run_in_line_order() {
        let text = "\
id: acme
display_name: Acme
auth_mode: oauth2
authorization_url: http://acme.example/authorize
token_url: https://${TOKEN_HOST}/token
scopes:
  read: Read
default_scopes: [read, {x: 1}]
verify: {method: DELET, path: /me}
modules:
  watch: {name: Watch, scops: [read]}
  post: {scopes: [read]}
api_base_url: https://api.acme.example
";
        let got: Vec<(Option<usize>, String)> = errors(text).into_iter().map(|e| (e.line, e.field)).collect();
        let want = [
            (4, "authorization_url"),    // checks across fields: not https
            (5, "token_url"),            // interpolation: TOKEN_HOST unset (not also a bad URL)
            (8, "default_scopes[1]"),    // serde: not a string (not also an undeclared scope)
            (9, "verify.method"),        // serde: unknown method
            (11, "modules.watch.scops"), // unknown key
            (12, "modules.post.name"),   // serde: required
        ];
        let want: Vec<(Option<usize>, String)> = want.iter().map(|(l, f)| (Some(*l), (*f).to_owned())).collect();
        assert_eq!(got, want);
        // A missing required field does not hide the errors after it.
        let errs = errors("id: acme\nauth_mode: basic\napi_base_url: https://api.acme.example\nverify: {path: me}\n");
        let got: Vec<(Option<usize>, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(Some(1), "display_name"), (Some(4), "verify.path")], "{errs:#?}");
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
}
