//! Scope checks: scope names, `default_scopes` and module scopes all declared under `scopes:`,
//! module ids and names, and the verify call (method, path placeholders, account pointers).

use patchbay_domain::provider::Provider;

use super::{Checker, Seg};
use crate::template::{self, Place};

impl Checker<'_> {
    pub(super) fn check_scopes_and_modules(&mut self, p: &Provider) {
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
            for (i, call) in module.api.iter().enumerate() {
                if let Err(why) = patchbay_domain::provider::ApiPattern::parse(call) {
                    self.err(
                        &[Seg::Key("modules"), Seg::Key(id), Seg::Key("api")],
                        format!("modules.{id}.api"),
                        format!("`{call}` (entry {i}) {why}"),
                    );
                }
            }
            if !module.api.is_empty() && p.api_base_url.is_none() {
                self.err(
                    &[Seg::Key("modules"), Seg::Key(id), Seg::Key("api")],
                    format!("modules.{id}.api"),
                    "API calls are relative to `api_base_url:`, which this provider does not declare",
                );
            }
        }
    }

    pub(super) fn check_verify(&mut self, p: &Provider) {
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
        if let Some(pointer) = &v.account_id
            && !self.known_value_ref(p, pointer)
            && (!pointer.starts_with('/') || pointer.len() < 2 || pointer.chars().any(char::is_whitespace))
        {
            self.err(
                &[Seg::Key("verify"), Seg::Key("account_id")],
                "verify.account_id",
                format!(
                    "`{pointer}` is not a JSON pointer: write the pointer to the account's stable id, \
                     like `/sub` or `/data/user/id`"
                ),
            );
        }
        for (i, pointer) in v.account.iter().enumerate() {
            if !pointer.starts_with('/') && !self.known_value_ref(p, pointer) {
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
}
