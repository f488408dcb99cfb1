//! Read-only questions the web UI asks that the JSON API does not: the default name an Add form
//! proposes, and where a browser may be sent for consent (for the page's Content-Security-Policy).

use patchbay_domain::connection::default_connection_name;
use patchbay_domain::principal::{Action, Principal};

use crate::access::require_to;
use crate::{Patchbay, ServiceError, ServiceResult};

/// `scheme://host[:port]` (lower case) of an absolute http(s) URL; `None` for anything else,
/// including URLs with `{placeholder}`s or characters that do not belong in a host.
pub fn static_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "https" | "http") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let valid = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

impl Patchbay {
    /// The name the Add form proposes for a new connection to `provider`: "My {app} connection",
    /// or the next free "… N" in the team — the same rule the service applies when no name is
    /// given. The user may change it; the service checks uniqueness again on save.
    pub async fn proposed_connection_name(&self, who: &Principal, provider: &str) -> ServiceResult<String> {
        require_to(who, Action::Read, "read connections")?;
        let display = self
            .catalog
            .get(provider)
            .map(|p| p.display_name.clone())
            .ok_or_else(|| ServiceError::NotFound(format!("no provider `{provider}` in the catalog")))?;
        let base = format!("My {display} connection");
        let taken = self.store.connection_names_like(&who.team_id, &base).await?;
        Ok(default_connection_name(&display, taken.iter().map(String::as_str)))
    }

    /// Origins (`scheme://host[:port]`) of every catalog authorization endpoint that has a fixed
    /// address, sorted and unique. A form that starts a consent flow is answered with a redirect
    /// to one of these, and browsers apply a page's CSP `form-action` to that redirect, so the UI
    /// allows exactly these. Endpoints whose address depends on a setting (`{subdomain}`) are not
    /// listed; the UI reaches them through an interstitial page instead.
    pub fn authorization_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .catalog
            .list()
            .filter_map(|p| p.authorization_url.as_deref())
            .filter(|u| !u.contains('{'))
            .filter_map(static_origin)
            .collect();
        out.sort();
        out.dedup();
        out
    }
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
