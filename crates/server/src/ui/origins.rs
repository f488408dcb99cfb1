//! Where a page may send the browser for consent: the origins of the catalog's authorization
//! endpoints, for the pages' Content-Security-Policy `form-action`.
//!
//! A form that starts a consent flow is answered with a redirect to the provider, and browsers
//! apply a page's CSP `form-action` to that redirect, so the pages allow exactly these origins.
//! Endpoints whose address depends on a setting (`{subdomain}`) are not listed; the UI reaches
//! them through an interstitial page instead ([`super::connections`]'s `to_provider`).

use patchbay_service::Patchbay;

/// `scheme://host[:port]` (lower case) of an absolute http(s) URL; `None` for anything else,
/// including URLs with `{placeholder}`s or characters that do not belong in a host.
pub(crate) fn static_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "https" | "http") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let valid = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Origins (`scheme://host[:port]`) of every catalog authorization endpoint that has a fixed
/// address, sorted and unique.
pub(crate) fn authorization_origins(patchbay: &Patchbay) -> Vec<String> {
    let mut out: Vec<String> = patchbay
        .catalog()
        .list()
        .filter_map(|p| p.authorization_url.as_deref())
        .filter(|u| !u.contains('{'))
        .filter_map(static_origin)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::static_origin;

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(static_origin("https://Acme.example/oauth/authorize?x=1").as_deref(), Some("https://acme.example"));
        assert_eq!(static_origin("http://127.0.0.1:4010/authorize").as_deref(), Some("http://127.0.0.1:4010"));
        assert_eq!(static_origin("javascript:alert(1)"), None);
        assert_eq!(static_origin("https:///path"), None);
        assert_eq!(static_origin("https://a b.example/"), None);
        assert_eq!(static_origin("https://a.example;script-src *"), None);
    }
}
