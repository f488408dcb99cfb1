//! The serde pass that goes on after an error. serde stops at the first type error, missing field
//! or bad enum word; to report the others of the same file in the same run, the offending part
//! is taken out of the parsed tree (a bad value removed, a missing field filled with an empty
//! placeholder, a bad list item blanked) and serde runs again, until it accepts the tree or an
//! error repeats at a field already reported (the placeholder did not help: nothing more can be
//! learnt from serde).
//!
//! Errors found on the original text keep serde's line; once the tree was changed, the text
//! serde reads is a re-serialisation, so the line is found with the [`Locator`] from the error's
//! path instead.

use patchbay_domain::provider::Provider;
use yaml_serde::Value;

use super::error::CatalogError;
use super::locate::{Locator, Seg};
use super::serde_error;

/// More rounds than a hand-written file has fields: a bound, not a limit anyone meets.
const MAX_ROUNDS: usize = 100;

/// A step of a serde error path (`modules.watch.scopes[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Item(usize),
}

/// The provider, when serde could finally build one, and every error found on the way, in the
/// order serde met them. `changed` says whether `value` is already not the file as written
/// (unknown keys were taken out): serde's own lines then no longer match the file.
pub(super) fn deserialize_all(
    file: &str,
    text: &str,
    mut value: Value,
    mut changed: bool,
    locator: &Locator<'_>,
) -> (Option<Provider>, Vec<CatalogError>) {
    let mut errors: Vec<CatalogError> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let result = if changed {
            yaml_serde::to_string(&value).and_then(|t| yaml_serde::from_str::<Provider>(&t))
        } else {
            yaml_serde::from_str::<Provider>(text)
        };
        let e = match result {
            Ok(provider) => return (Some(provider), errors),
            Err(e) => e,
        };
        let mut error = serde_error(file, &e, "(file)");
        let text = e.to_string();
        let path = error_path(&text);
        if changed {
            let segs: Vec<Seg<'_>> = path
                .iter()
                .map(|s| match s {
                    Step::Key(k) => Seg::Key(k),
                    Step::Item(n) => Seg::Item(*n),
                })
                .collect();
            error.line = if segs.is_empty() { None } else { locator.find(&segs) };
        }
        if errors.iter().any(|seen| seen.field == error.field) {
            // The repair did not help: what serde says now follows from what it said before.
            return (None, errors);
        }
        let repaired = match missing_field(&text) {
            Some(name) => fill_missing(&mut value, &path, name),
            None => take_out(&mut value, &path),
        };
        errors.push(error);
        if !repaired {
            return (None, errors);
        }
        changed = true;
    }
    (None, errors)
}

/// The path in front of a serde message (`verify.method: unknown variant …`), as steps; empty
/// for an error of the whole file.
fn error_path(message: &str) -> Vec<Step> {
    let Some((path, _)) = message.split_once(": ") else { return Vec::new() };
    if path.is_empty() || path.contains(' ') || path == "." {
        return Vec::new();
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, items) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in items.split('[').filter(|s| !s.is_empty()) {
            match index.trim_end_matches(']').parse() {
                Ok(n) => steps.push(Step::Item(n)),
                Err(_) => return Vec::new(),
            }
        }
    }
    steps
}

/// The field a "missing field `x`" message names.
fn missing_field(message: &str) -> Option<&str> {
    let after = message.split_once("missing field `")?.1;
    after.split('`').next()
}

fn at_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let mut here = value;
    for step in path {
        here = match step {
            Step::Key(k) => here.as_mapping_mut()?.get_mut(k.as_str())?,
            Step::Item(n) => here.as_sequence_mut()?.get_mut(*n)?,
        };
    }
    Some(here)
}

/// Gives the mapping at `path` an empty `name`, so serde can go past it.
fn fill_missing(value: &mut Value, path: &[Step], name: &str) -> bool {
    match at_mut(value, path).and_then(Value::as_mapping_mut) {
        Some(map) if !map.contains_key(name) => {
            map.insert(Value::String(name.to_owned()), Value::String(String::new()));
            true
        }
        _ => false,
    }
}

/// Takes the value at `path` out: a mapping entry is removed (an optional field then takes its
/// default; a required one comes back as missing), a list item is blanked (so the items after
/// it keep their positions, and with them the lines of their errors).
fn take_out(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else { return false };
    let Some(parent) = at_mut(value, parent) else { return false };
    match (last, parent) {
        (Step::Key(k), Value::Mapping(map)) => map.shift_remove(k.as_str()).is_some(),
        (Step::Item(n), Value::Sequence(items)) => match items.get_mut(*n) {
            Some(item) => {
                *item = Value::String(String::new());
                true
            }
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_paths_are_read_as_steps() {
        let key = |k: &str| Step::Key(k.to_owned());
        assert_eq!(error_path("verify.method: unknown variant `DELET`"), vec![key("verify"), key("method")]);
        assert_eq!(
            error_path("modules.watch.scopes[1]: invalid type"),
            vec![key("modules"), key("watch"), key("scopes"), Step::Item(1)]
        );
        assert_eq!(error_path("settings[0]: missing field `key`"), vec![key("settings"), Step::Item(0)]);
        assert!(error_path("missing field `display_name`").is_empty());
        assert!(error_path("invalid type: string, expected a map").is_empty());
    }

    #[test]
    fn repairs_change_only_what_serde_named() {
        let mut v: Value = yaml_serde::from_str("a: {b: 1, c: 2}\nl: [x, y, z]\n").unwrap();
        let a = Step::Key("a".into());
        assert!(take_out(&mut v, &[a.clone(), Step::Key("b".into())]));
        assert!(take_out(&mut v, &[Step::Key("l".into()), Step::Item(1)]));
        assert!(!take_out(&mut v, &[Step::Key("l".into()), Step::Item(9)]));
        assert!(fill_missing(&mut v, std::slice::from_ref(&a), "name"));
        assert!(!fill_missing(&mut v, &[a], "name"), "an existing field is not a missing one");
        assert_eq!(yaml_serde::to_string(&v).unwrap(), "a:\n  c: 2\n  name: ''\nl:\n- x\n- ''\n- z\n");
    }
}
