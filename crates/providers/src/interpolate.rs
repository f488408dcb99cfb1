//! `${VAR}` interpolation of a provider file, done on the text before YAML parsing so that every
//! error can name its line.
//!
//! Rules (also in docs/providers.md):
//! - `${NAME}` (NAME = `[A-Za-z_][A-Za-z0-9_]*`) is replaced by the variable's value; `$${` writes
//!   a literal `${`; full-line comments are left alone.
//! - When `${NAME}` is the whole value of a key (`client_secret: ${ACME_SECRET}`, optionally
//!   quoted), the value is written as a YAML double-quoted string, so a secret full of `#`, `:` or
//!   quotes cannot change the file's structure.
//! - Inside a longer value (`https://${HOST}/api`) the value is inserted as is, so it must not
//!   contain YAML syntax (quotes, `#`, `: `, brackets...); such a value is an error.
//! - An unset variable is an error naming file, line and variable — except in a top-level
//!   `client_id:` or `client_secret:` line. Those belong to the platform's OAuth app, which an
//!   operator often has not registered for every provider: the provider then loads without a
//!   platform client (both fields `None`, [`Provider::has_platform_client`] false) and a warning
//!   is logged. An empty value counts as unset there, as `docker run -e X=` produces it.
//!
//! [`Provider::has_platform_client`]: patchbay_domain::provider::Provider::has_platform_client

/// The text after interpolation, which platform-client fields were left unset, and the lines
/// that could not be interpolated (left as written, so the later passes can still check the
/// rest of the file).
#[derive(Debug)]
pub(crate) struct Interpolated {
    pub text: String,
    pub unset_client_fields: Vec<UnsetClientField>,
    pub errors: Vec<InterpolationError>,
}

/// A top-level `client_id`/`client_secret` whose variable is unset.
#[derive(Debug, Clone)]
pub(crate) struct UnsetClientField {
    pub field: &'static str,
    pub var: String,
    pub line: usize,
}

/// An interpolation failure at a 1-based line.
#[derive(Debug, Clone)]
pub(crate) struct InterpolationError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

const CLIENT_FIELDS: [&str; 2] = ["client_id", "client_secret"];

/// Interpolates every line; a line that fails is kept as written and its error collected.
pub(crate) fn interpolate(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Interpolated {
    let mut out = String::with_capacity(text.len());
    let mut unset_client_fields = Vec::new();
    let mut errors = Vec::new();
    for (index, raw_line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let (line, eol) = split_eol(raw_line);
        if line.trim_start().starts_with('#') || !line.contains('$') {
            out.push_str(raw_line);
            continue;
        }
        let client_field = CLIENT_FIELDS
            .iter()
            .copied()
            .find(|f| line.strip_prefix(f).is_some_and(|r| r.trim_start().starts_with(':')));
        let key = line_key(line);
        match interpolate_line(line, env, client_field.is_some()) {
            Ok(LineResult::Text(t)) => out.push_str(&t),
            Ok(LineResult::UnsetClient(var)) => {
                let field = client_field.unwrap_or("client_id");
                out.push_str(field);
                out.push_str(": null");
                unset_client_fields.push(UnsetClientField { field, var, line: line_no });
            }
            Err(message) => {
                errors.push(InterpolationError { line: line_no, field: key.unwrap_or("${...}").to_owned(), message });
                out.push_str(line);
            }
        }
        out.push_str(eol);
    }
    Interpolated { text: out, unset_client_fields, errors }
}

enum LineResult {
    Text(String),
    /// A client field whose variable is unset: the caller writes `field: null`.
    UnsetClient(String),
}

fn split_eol(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\n', '\r']);
    (body, &line[body.len()..])
}

/// `key` of a `key: value` or `- key: value` line, for error messages.
fn line_key(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").unwrap_or(t).trim_start();
    let (k, _) = t.split_once(':')?;
    let k = k.trim();
    (!k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')).then_some(k)
}

fn interpolate_line(
    line: &str,
    env: &dyn Fn(&str) -> Option<String>,
    client_field: bool,
) -> Result<LineResult, String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        if !after.starts_with("${") {
            out.push('$');
            rest = &after[1..];
            continue;
        }
        let close = after.find('}').ok_or("unterminated `${`: write ${NAME}, or $${ for a literal ${")?;
        let name = &after[2..close];
        if !is_var_name(name) {
            return Err(format!(
                "`${{{name}}}` is not a variable reference: names use A-Z, a-z, 0-9 and _ and do not start \
                 with a digit (write $${{ for a literal ${{)"
            ));
        }
        let value = env(name).filter(|v| !(client_field && v.is_empty()));
        let Some(value) = value else {
            if client_field {
                return Ok(LineResult::UnsetClient(name.to_owned()));
            }
            return Err(format!("environment variable {name} is not set: set it, or write $${{ to keep a literal ${{"));
        };
        let before = &line[..line.len() - after.len()];
        let tail = &after[close + 1..];
        if let Some(whole) = whole_value(before, tail) {
            // Quote the whole value so any character in a secret stays data.
            let quoted = serde_json::to_string(&value).unwrap_or_default();
            return Ok(LineResult::Text(format!("{}{quoted}", &line[..whole])));
        }
        check_embeddable(name, &value)?;
        out.push_str(&value);
        rest = tail;
    }
    out.push_str(rest);
    Ok(LineResult::Text(out))
}

/// If `${VAR}` is the whole value of a `key: value` line (optionally quoted, optionally followed
/// by a comment), the byte offset where the value starts (quote included).
fn whole_value(before: &str, tail: &str) -> Option<usize> {
    let (head, quote) = match before.chars().last() {
        Some(q @ ('"' | '\'')) => (&before[..before.len() - 1], Some(q)),
        _ => (before, None),
    };
    let tail = match quote {
        Some(q) => tail.strip_prefix(q)?,
        None => tail,
    };
    let t = tail.trim_start();
    if !(t.is_empty() || (t.starts_with('#') && tail.len() > t.len())) {
        return None;
    }
    let key_part = head.trim_end();
    if key_part.len() == head.len() || !key_part.ends_with(':') {
        return None;
    }
    line_key(key_part)?;
    Some(head.len())
}

fn check_embeddable(name: &str, value: &str) -> Result<(), String> {
    let bad = value.chars().any(|c| c.is_control() || "\"'\\#{}[],&*!|>%@`".contains(c))
        || value.contains(": ")
        || value.ends_with(':');
    if bad {
        return Err(format!(
            "the value of {name} contains characters that would change the YAML around it; \
             use ${{{name}}} as the whole value of the key instead"
        ));
    }
    Ok(())
}

fn is_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    /// The interpolated file, which must have no error.
    fn ok(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Interpolated {
        let r = interpolate(text, env);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        r
    }

    #[test]
    fn whole_values_are_quoted_and_embedded_values_inserted() {
        let e = env(&[("SECRET", "a#b: \"c\""), ("HOST", "api.example.com")]);
        let r = ok("client_secret: ${SECRET}  # note\nurl: https://${HOST}/v1\n", &e);
        assert_eq!(r.text, "client_secret: \"a#b: \\\"c\\\"\"\nurl: https://api.example.com/v1\n");
        let r = ok("x: \"${HOST}\"\n", &e);
        assert_eq!(r.text, "x: \"api.example.com\"\n");
    }

    #[test]
    fn escapes_comments_and_lone_dollars() {
        let e = env(&[]);
        let r = ok("a: $${NOT_A_VAR} costs $5\n# ${IGNORED}\n", &e);
        assert_eq!(r.text, "a: ${NOT_A_VAR} costs $5\n# ${IGNORED}\n");
    }

    #[test]
    fn unset_variables_are_errors_with_lines_except_client_fields() {
        let e = env(&[("EMPTY", "")]);
        let text =
            "id: x\nclient_id: ${ACME_ID}\nclient_secret: ${EMPTY}\nurl: https://${HOST}/\nb: ${1X}\nc: ${OPEN\n";
        let r = interpolate(text, &e);
        let errs = &r.errors;
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 6]);
        assert!(errs[0].message.contains("HOST is not set"), "{}", errs[0].message);
        assert_eq!(errs[0].field, "url");
        // The lines in error stay as written, so the rest of the file can still be checked.
        assert!(r.text.ends_with("url: https://${HOST}/\nb: ${1X}\nc: ${OPEN\n"), "{}", r.text);
        let ok = ok("id: x\nclient_id: ${ACME_ID}\nclient_secret: ${EMPTY}\n", &e);
        assert_eq!(ok.text, "id: x\nclient_id: null\nclient_secret: null\n");
        let fields: Vec<_> = ok.unset_client_fields.iter().map(|f| (f.field, f.var.as_str(), f.line)).collect();
        assert_eq!(fields, vec![("client_id", "ACME_ID", 2), ("client_secret", "EMPTY", 3)]);
    }

    #[test]
    fn embedded_values_with_yaml_syntax_are_refused() {
        let e = env(&[("HOST", "a: b")]);
        let errs = interpolate("url: https://${HOST}/\n", &e).errors;
        assert!(errs[0].message.contains("whole value"));
    }
}
