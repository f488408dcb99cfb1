//! The scopes Demo Cloud knows, with the descriptions shown on its consent page, and the defaults
//! for the account and client.

/// Every scope the server knows, as `(name, description)`, in consent-page order.
pub const SCOPES: &[(&str, &str)] = &[
    ("profile", "See your profile"),
    ("items:read", "Read your items"),
    ("items:write", "Create and edit items"),
    ("items:delete", "Delete items"),
    ("admin", "Manage your Demo Cloud workspace"),
];

/// The account the consent page signs in as until [`DemoProvider::login_as`] says otherwise.
///
/// [`DemoProvider::login_as`]: crate::DemoProvider::login_as
pub const DEFAULT_ACCOUNT: &str = "demo.user@democloud.test";

/// The client id of [`DemoOptions::default`](crate::DemoOptions::default).
pub const DEFAULT_CLIENT_ID: &str = "patchbay-demo";

/// The scope granted when a request names none.
pub(crate) const DEFAULT_SCOPE: &str = "profile";

/// The description of a known scope.
pub fn scope_description(scope: &str) -> Option<&'static str> {
    SCOPES.iter().find(|(name, _)| *name == scope).map(|(_, description)| *description)
}

/// Splits a `scope` parameter (space-separated, RFC 6749 §3.3) into names, dropping empty parts
/// and repeats while keeping the order.
pub(crate) fn parse_scope(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in text.split(' ').filter(|p| !p.is_empty()) {
        if !out.iter().any(|s| s == part) {
            out.push(part.to_owned());
        }
    }
    out
}

/// The names in `scopes` the server does not know.
pub(crate) fn unknown_scopes(scopes: &[String]) -> Vec<String> {
    scopes.iter().filter(|s| scope_description(s).is_none()).cloned().collect()
}

/// `scopes` joined with single spaces, as in a token response.
pub(crate) fn join_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_empty_parts_and_repeats() {
        assert_eq!(parse_scope("  profile items:read  profile "), vec!["profile".to_owned(), "items:read".to_owned()]);
        assert!(parse_scope("").is_empty());
    }

    #[test]
    fn unknown_scopes_are_reported() {
        let scopes = parse_scope("profile bogus admin");
        assert_eq!(unknown_scopes(&scopes), vec!["bogus".to_owned()]);
        assert_eq!(scope_description("admin"), Some("Manage your Demo Cloud workspace"));
    }
}
