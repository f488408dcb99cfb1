//! The semantic checks across fields, run after serde accepted the file: the [`Checker`] core
//! (where an error is recorded and at which line) and the order of the check families, one
//! module each: [`identity`] (id, settings), [`urls`] (URLs, placeholders, authorize
//! parameters), [`auth`] (auth-mode requirements, API key, static headers), [`scopes`]
//! (scopes, modules, the verify call), [`token_side`] (token reply mapping, metadata and its
//! hosts, callback parameters, the follow-up call, token request shape, declared revocation) and
//! [`requests`] (API hosts, shared OAuth apps, token placement, templated headers, the verify
//! body and success predicate, setting choices). Every problem is collected, none stops the others.

mod auth;
mod identity;
mod requests;
mod scopes;
mod token_side;
mod urls;

pub(super) use requests::uses_instance_endpoints;

use patchbay_domain::provider::Provider;
use yaml_serde::Value;

use super::error::CatalogError;
use super::locate::{Locator, Seg};

/// Every semantic problem of a parsed provider, in the order of the check families.
pub(super) fn semantic_errors(file: &str, locator: &Locator<'_>, root: &Value, p: &Provider) -> Vec<CatalogError> {
    let mut checker = Checker { file, locator, root, errors: Vec::new() };
    checker.check(p);
    checker.errors
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
        self.check_access_advice(p);
        self.check_token_side(p);
        self.check_requests(p);
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::errors;

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
}
