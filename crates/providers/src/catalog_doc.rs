//! `docs/catalog.md`, rendered from the provider files: every built-in provider with its
//! category, auth mode, modules and the scopes each module needs.
//!
//! The page is generated rather than written so it cannot drift from the files: a test compares
//! it with this rendering and says how to regenerate it, and `patchbay providers list
//! --markdown` prints the same for any catalog (the built-ins plus `PATCHBAY_PROVIDERS_DIR`).

use std::fmt::Write as _;

use patchbay_domain::provider::{AuthMode, Category, Provider};

/// The command that rewrites `docs/catalog.md`, named in the page and in the staleness test.
pub const REGENERATE: &str = "PATCHBAY_UPDATE_CATALOG_DOC=1 cargo test -p patchbay-providers --test catalog_doc";

/// The markdown page listing `providers`, grouped by category in the picker's order and by
/// display name within one.
pub fn render_markdown<'a>(providers: impl IntoIterator<Item = &'a Provider>) -> String {
    let mut all: Vec<&Provider> = providers.into_iter().collect();
    all.sort_by_key(|p| (category(p), p.display_name.to_lowercase(), p.id.clone()));
    let oauth = all.iter().filter(|p| p.auth_mode.is_oauth()).count();
    let mut out = String::new();
    // `write!` into a String cannot fail, so its results are ignored throughout.
    let _ = write!(
        out,
        "# Built-in providers\n\n\
         <!-- Generated from crates/providers/catalog/*.yaml; do not edit. Regenerate with:\n     {REGENERATE} -->\n\n\
         {} providers: {oauth} OAuth, {} API key or basic. The format of the files is in\n\
         [providers.md](providers.md); a service that is not here can be added with a file of your own\n\
         (`PATCHBAY_PROVIDERS_DIR`), or, for an OAuth server, connected by its URL from the Add page.\n\n",
        all.len(),
        all.len() - oauth
    );
    out.push_str("| provider | id | category | auth | modules |\n|---|---|---|---|---|\n");
    for p in &all {
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | {} | {} | {} |",
            cell(&p.display_name),
            p.id,
            p.id,
            category(p).label(),
            auth(p),
            p.modules.len()
        );
    }
    let mut current = None;
    for p in &all {
        if current != Some(category(p)) {
            current = Some(category(p));
            let _ = write!(out, "\n## {}\n", category(p).label());
        }
        provider_section(&mut out, p);
    }
    out
}

/// The category a provider is listed under (`other` when its file names none).
fn category(p: &Provider) -> Category {
    p.category.unwrap_or(Category::Other)
}

fn provider_section(out: &mut String, p: &Provider) {
    // An explicit anchor: the summary links by id, which stays stable when a name changes.
    let _ = write!(out, "\n<a id=\"{}\"></a>\n### {} (`{}`)\n\n", p.id, p.display_name, p.id);
    if let Some(d) = &p.description {
        let _ = writeln!(out, "{}\n", d.trim());
    }
    let _ = writeln!(out, "- Auth: {}", auth(p));
    if p.auth_mode.is_oauth() && !p.granular_scopes {
        out.push_str("- Access: full (the service cannot limit it; every scope is requested)\n");
    }
    if !p.default_scopes.is_empty() {
        let _ = writeln!(out, "- Always requested: {}", scope_list(p, &p.default_scopes));
    }
    if let Some(url) = &p.docs_url {
        let _ = writeln!(out, "- Docs: <{url}>");
    }
    if p.modules.is_empty() {
        return;
    }
    out.push_str("\n| module | id | scopes |\n|---|---|---|\n");
    for (id, m) in &p.modules {
        let scopes = if m.scopes.is_empty() { "none".to_owned() } else { scope_list(p, &m.scopes) };
        let _ = writeln!(out, "| {} | `{}.{id}` | {scopes} |", cell(&m.name), p.id);
    }
}

/// The auth mode in words, with the OAuth app when files share one.
fn auth(p: &Provider) -> String {
    let mode = match p.auth_mode {
        AuthMode::Oauth2 => "OAuth 2.0",
        AuthMode::Oauth2ClientCredentials => "OAuth 2.0 client credentials",
        AuthMode::ApiKey => "API key",
        AuthMode::Basic => "basic",
    };
    match &p.oauth_app {
        Some(app) => format!("{mode} (app `{app}`)"),
        None => mode.to_owned(),
    }
}

/// Scopes as `` `name`: description ``, joined by `; `.
fn scope_list(p: &Provider, scopes: &[String]) -> String {
    let one = |s: &String| match p.scopes.get(s) {
        Some(d) => format!("`{s}`: {}", cell(d.trim())),
        None => format!("`{s}`"),
    };
    scopes.iter().map(one).collect::<Vec<_>>().join("; ")
}

/// Text made safe for one table cell: no line breaks, no column separator.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    #[test]
    fn a_provider_is_listed_with_its_category_modules_and_scopes() {
        let text = "\
id: acme
display_name: Acme | Co
category: crm
auth_mode: api_key
description: Deals in Acme.
api_key: {in: header, name: X-Key}
api_base_url: https://api.acme.example
scopes: {deals:read: Read your deals}
modules:
  watch: {name: Watch deals, scopes: [deals:read]}
  ping: {name: Ping}
";
        let p = Catalog::parse("acme.yaml", text, &|_| None).unwrap();
        let mut bare = p.clone();
        bare.id = "bare".into();
        bare.category = None;
        let md = render_markdown([&bare, &p]);
        assert!(md.contains("| [Acme \\| Co](#acme) | `acme` | CRM | API key | 2 |"), "{md}");
        assert!(md.contains("| Watch deals | `acme.watch` | `deals:read`: Read your deals |"), "{md}");
        assert!(md.contains("| Ping | `acme.ping` | none |"), "{md}");
        // No category is listed under Other, which comes after every named one.
        assert!(md.find("## CRM").unwrap() < md.find("## Other").unwrap(), "{md}");
        assert!(md.find("## Other").unwrap() < md.find("### Acme | Co (`bare`)").unwrap(), "{md}");
        assert!(md.contains(REGENERATE));
    }
}
