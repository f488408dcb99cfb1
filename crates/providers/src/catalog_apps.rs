//! Provider files that share one OAuth app (`oauth_app: google`, G23) must agree on everything
//! that belongs to the app rather than the file: its endpoints, how the client authenticates,
//! PKCE, the scope separator and the client itself. Checked over the whole loaded catalog (after
//! `PATCHBAY_PROVIDERS_DIR` replaced built-ins), so an operator's override of one sibling cannot
//! silently split the app in two.
//!
//! Sharing the app shares configuration, not connections: a connection belongs to the file it
//! was made for and serves that file's modules only (docs/providers.md, "Shared OAuth apps").

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_domain::provider::Provider;

use crate::validate::CatalogError;

/// The app-level fields of a provider, by name, as comparable text.
fn app_fields(p: &Provider) -> [(&'static str, String); 11] {
    [
        ("authorization_url", format!("{:?}", p.authorization_url)),
        ("token_url", format!("{:?}", p.token_url)),
        ("refresh_url", format!("{:?}", p.refresh_url)),
        ("revocation_url", format!("{:?}", p.revocation_url)),
        ("revocation_scope", format!("{:?}", p.revocation_scope)),
        ("issuer", format!("{:?}", p.issuer)),
        ("discovery_url", format!("{:?}", p.discovery_url)),
        ("token_endpoint_auth", format!("{:?}", p.token_endpoint_auth)),
        ("pkce", p.pkce.to_string()),
        ("scope_separator", format!("{:?}", p.scope_separator)),
        ("client_id", format!("{:?}", p.client_id)),
    ]
}

/// One error per sibling file that differs from the first file of its app (by id), per field.
pub(crate) fn check(
    providers: &BTreeMap<String, Arc<Provider>>,
    files: &BTreeMap<String, String>,
) -> Vec<CatalogError> {
    let mut first_of: BTreeMap<&str, &Provider> = BTreeMap::new();
    let mut errors = Vec::new();
    for p in providers.values() {
        let Some(app) = p.oauth_app.as_deref() else { continue };
        let Some(first) = first_of.get(app) else {
            first_of.insert(app, p);
            continue;
        };
        let file = |id: &str| files.get(id).cloned().unwrap_or_else(|| id.to_owned());
        for ((field, mine), (_, theirs)) in app_fields(p).into_iter().zip(app_fields(first)) {
            if mine != theirs {
                errors.push(CatalogError {
                    file: file(&p.id),
                    line: None,
                    field: field.to_owned(),
                    message: format!(
                        "differs from `{}` ({}), which shares `oauth_app: {app}`: files of one OAuth app \
                         declare the same {field} (one client, one set of endpoints)",
                        first.id,
                        file(&first.id)
                    ),
                });
            }
        }
        if p.client_variables != first.client_variables {
            errors.push(CatalogError {
                file: file(&p.id),
                line: None,
                field: "client_id".to_owned(),
                message: format!(
                    "`{}` reads the app's client from the environment but this file names its own (or the \
                     reverse); files of `oauth_app: {app}` configure the client the same way",
                    first.id
                ),
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use crate::Catalog;

    const GMAIL: &str = "id: gmail\ndisplay_name: Gmail\nauth_mode: oauth2\noauth_app: google\n\
        authorization_url: https://accounts.google.com/o/oauth2/v2/auth\ntoken_url: https://oauth2.googleapis.com/token\n";

    #[test]
    fn siblings_must_agree_on_the_app() {
        let drive = GMAIL.replace("gmail", "drive");
        let env = |k: &str| k.starts_with("PATCHBAY_GOOGLE_").then(|| "v".to_owned());
        let c = Catalog::from_sources([("a.yaml", GMAIL), ("b.yaml", drive.as_str())], &env).unwrap();
        assert_eq!(c.get("drive").unwrap().client_id, c.get("gmail").unwrap().client_id);
        let other = drive.replace("oauth2.googleapis.com/token", "evil.example/token");
        let errs = Catalog::from_sources([("a.yaml", GMAIL), ("b.yaml", other.as_str())], &env).unwrap_err();
        let text = errs.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            text.starts_with("b.yaml: token_url: differs from `drive`") || text.contains("a.yaml: token_url"),
            "{text}"
        );
        assert_eq!(errs.0.len(), 1, "{text}");
    }
}
