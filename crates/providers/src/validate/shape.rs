//! The key schema of a provider file ([`Shape`], level by level) and the pass that reports every
//! unknown key over the whole tree, each with a "did you mean" found by edit distance.

use yaml_serde::Value;

use super::error::CatalogError;
use super::locate::{Locator, Seg};

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

const MODULE: Shape = Shape::Struct(&[("name", Leaf), ("scopes", Leaf), ("description", Leaf), ("api", Leaf)]);
const SETTING: Shape = Shape::Struct(&[
    ("key", Leaf),
    ("label", Leaf),
    ("secret", Leaf),
    ("required", Leaf),
    ("help", Leaf),
    ("placeholder", Leaf),
    ("default", Leaf),
    ("choices", Leaf),
    ("free_text", Leaf),
    ("kind", Leaf),
]);
const API_KEY: Shape =
    Shape::Struct(&[("in", Leaf), ("name", Leaf), ("prefix", Leaf), ("label", Leaf), ("help", Leaf)]);
const BASIC: Shape =
    Shape::Struct(&[("username_label", Leaf), ("password_label", Leaf), ("fixed_username", Leaf), ("help", Leaf)]);
const ACCESS_ADVICE: Shape = Shape::Struct(&[("text", Leaf), ("url", Leaf)]);
const TOKEN_RESPONSE: Shape = Shape::Struct(&[
    ("access_token", Leaf),
    ("refresh_token", Leaf),
    ("expires_in", Leaf),
    ("scope", Leaf),
    ("scope_separator", Leaf),
    ("default_expires_in", Leaf),
    ("refresh_token_expires_in", Leaf),
    ("refresh_token_lifetime", Leaf),
    ("metadata", Leaf),
]);
const CONTEXT: Shape = Shape::Struct(&[("url", Leaf), ("token_prefix", Leaf), ("metadata", Leaf)]);
const TOKEN_REQUEST: Shape = Shape::Struct(&[("body", Leaf), ("params", Leaf), ("headers", Leaf)]);
const REVOCATION: Shape = Shape::Struct(&[
    ("url", Leaf),
    ("method", Leaf),
    ("auth", Leaf),
    ("body", Leaf),
    ("token_field", Leaf),
    ("tokens", Leaf),
    ("success_pointer", Leaf),
]);
const SUCCESS: Shape = Shape::Struct(&[("pointer", Leaf), ("equals", Leaf), ("error", Leaf)]);
const VERIFY: Shape = Shape::Struct(&[
    ("method", Leaf),
    ("path", Leaf),
    ("account", Leaf),
    ("account_id", Leaf),
    ("host", Leaf),
    ("body", Leaf),
    ("content_type", Leaf),
    ("success", SUCCESS),
    ("token_prefix", Leaf),
]);
const OAUTH_TOKEN: Shape = Shape::Struct(&[("header", Leaf), ("prefix", Leaf)]);
const PROVIDER: Shape = Shape::Struct(&[
    ("id", Leaf),
    ("display_name", Leaf),
    ("auth_mode", Leaf),
    ("description", Leaf),
    ("category", Leaf),
    ("docs_url", Leaf),
    ("discovery_url", Leaf),
    ("authorization_url", Leaf),
    ("token_url", Leaf),
    ("refresh_url", Leaf),
    ("revocation_url", Leaf),
    ("revocation_scope", Leaf),
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
    ("access_advice", ACCESS_ADVICE),
    ("token_response", TOKEN_RESPONSE),
    ("callback_params", Leaf),
    ("callback_hmac", Leaf),
    ("context", CONTEXT),
    ("metadata_hosts", Leaf),
    ("token_request", TOKEN_REQUEST),
    ("revocation", REVOCATION),
    ("oauth_app", Leaf),
    ("api_hosts", Leaf),
    ("oauth_token", OAUTH_TOKEN),
]);

/// Every unknown key of a provider file, in document order.
pub(super) fn check_keys(value: &Value, locator: &Locator<'_>, file: &str) -> Vec<CatalogError> {
    let mut errors = Vec::new();
    unknown_keys(value, PROVIDER, &mut Vec::new(), locator, file, &mut errors);
    errors
}

/// Takes every key the schema does not know (each one already reported by [`check_keys`]) out of
/// the tree, so that serde, which refuses unknown keys, can still check the rest. A key with a
/// "did you mean" is read as the key it was probably meant to be (unless the file has that one
/// too): the typo is reported once, not again as a missing field.
pub(super) fn strip_unknown_keys(value: &mut Value) {
    strip(value, PROVIDER);
}

fn strip(value: &mut Value, shape: Shape) {
    match (shape, value) {
        (Shape::Struct(fields), Value::Mapping(map)) => {
            let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            let written: Vec<String> = map.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect();
            for (k, mut v) in std::mem::take(map) {
                let Some(key) = k.as_str() else { continue };
                let meant = if known.contains(&key) {
                    Some(key)
                } else {
                    closest(key, &known).filter(|s| !written.iter().any(|w| w == s))
                };
                let Some((name, sub)) = meant.and_then(|m| fields.iter().find(|(n, _)| *n == m)) else { continue };
                if !map.contains_key(*name) {
                    strip(&mut v, *sub);
                    map.insert(Value::String((*name).to_owned()), v);
                }
            }
        }
        (Shape::MapOf(sub), Value::Mapping(map)) => map.values_mut().for_each(|v| strip(v, *sub)),
        (Shape::SeqOf(sub), Value::Sequence(items)) => items.iter_mut().for_each(|v| strip(v, *sub)),
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use patchbay_domain::provider::Provider;

    use super::*;
    use crate::validate::tests::errors;

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

    /// The key lists above must match the serde structs exactly: a key serde knows but the list
    /// lacks would reject valid files; the reverse would let a typo through to serde.
    #[test]
    fn shape_matches_the_serde_model() {
        let full = "\
id: full
display_name: Full
auth_mode: oauth2
description: d
category: project-management
docs_url: https://docs.example
discovery_url: https://a.example
authorization_url: https://a.example/authorize
token_url: https://a.example/token
refresh_url: https://a.example/refresh
revocation_url: https://a.example/revoke
revocation_scope: grant
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
verify: {method: GET, path: /me, account: /id, account_id: /sub, host: h, body: 'null', content_type: application/json, success: {pointer: /ok, equals: true, error: /error}, token_prefix: 'OAuth '}
modules:
  m: {name: M, scopes: [s], description: d, api: [\"GET /things/*\"]}
settings:
  - {key: k, label: K, secret: false, required: true, help: h, placeholder: p, default: a, choices: [a], free_text: true, kind: text}
oauth_app: app
api_hosts: {h: https://h.example}
oauth_token: {header: X-Token, prefix: p}
access_advice: {text: Create a read-only key., url: https://docs.example/keys}
token_response: {access_token: /a, refresh_token: /r, expires_in: /e, scope: /s, scope_separator: ',', default_expires_in: 2h, refresh_token_expires_in: /x, refresh_token_lifetime: 60d, metadata: {m: /m}}
callback_params: {realmId: realm_id}
callback_hmac: hmac
context: {url: https://a.example/ctx, token_prefix: 'OAuth ', metadata: {c: /c}}
metadata_hosts: {m: [a.example]}
token_request: {body: json, params: {a: b}, headers: {X-V: '1'}}
revocation: {url: https://a.example/r, method: DELETE, auth: client, body: json, token_field: t, tokens: [access], success_pointer: /ok}
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
}
