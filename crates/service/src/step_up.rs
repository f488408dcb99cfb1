//! Step-up from a provider's answer: a `403` with `WWW-Authenticate: Bearer
//! error="insufficient_scope", scope="…"` (RFC 6750 §3.1) names scopes the call needed. They are
//! added to the connection's `requested_scopes`, so the connection shows them as missing and the
//! next reauthorize (extend permissions) asks for them, exactly as for a module's scopes.
//!
//! Only scopes the provider declares are taken (a provider cannot make Patchbay ask for
//! anything else), never for a provider that cannot limit access, and never ones already
//! granted. Pure parsing here; the proxy calls [`Patchbay::record_step_up`].

use patchbay_domain::connection::Connection;
use patchbay_domain::provider::Provider;
use patchbay_domain::scope::ScopeSet;

use crate::{Patchbay, ServiceResult};

/// The scopes a `403 insufficient_scope` challenge names that are not in `granted`; empty
/// otherwise.
pub(crate) fn missing_from_challenge(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    provider: &Provider,
    granted: &ScopeSet,
) -> ScopeSet {
    if status != http::StatusCode::FORBIDDEN || !provider.auth_mode.is_oauth() || !provider.granular_scopes {
        return ScopeSet::default();
    }
    let insufficient =
        patchbay_providers::discovery::bearer_param(headers, "error").is_some_and(|e| e == "insufficient_scope");
    let Some(named) = patchbay_providers::discovery::bearer_param(headers, "scope").filter(|_| insufficient) else {
        return ScopeSet::default();
    };
    let named: ScopeSet = ScopeSet::parse(&named, " ")
        .iter()
        .filter(|s| provider.scopes.is_empty() || provider.scopes.contains_key(*s))
        .collect();
    named.difference(granted)
}

impl Patchbay {
    /// Adds `missing` to the connection's requested scopes (read again, so a concurrent change
    /// is kept). Returns whether anything was added.
    pub(crate) async fn record_step_up(&self, c: &Connection, missing: &ScopeSet) -> ServiceResult<bool> {
        if missing.is_empty() {
            return Ok(false);
        }
        let Some(current) = self.store.get_connection(&c.team_id, &c.id).await? else { return Ok(false) };
        let wanted = current.requested_scopes.union(&missing.difference(&current.granted_scopes));
        if wanted == current.requested_scopes {
            return Ok(false);
        }
        self.store.set_requested_scopes(&c.team_id, &c.id, &wanted).await?;
        tracing::info!(connection_id = %c.id, scopes = %missing.join(" "), "provider asked for more scopes; recorded as missing");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        let yaml = "id: p\ndisplay_name: P\nauth_mode: oauth2\nauthorization_url: https://p.example/a\n\
                    token_url: https://p.example/t\nscopes:\n  read: R\n  write: W\n";
        patchbay_providers::Catalog::parse("p.yaml", yaml, &|_| None).unwrap()
    }

    fn challenge(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::WWW_AUTHENTICATE, value.parse().unwrap());
        h
    }

    #[test]
    fn only_declared_ungranted_scopes_of_an_insufficient_scope_403() {
        let p = provider();
        let granted = ScopeSet::parse("read", " ");
        let forbidden = http::StatusCode::FORBIDDEN;
        let missing = |status, value: &str| missing_from_challenge(status, &challenge(value), &p, &granted).join(" ");
        let asked = r#"Bearer realm="P", error="insufficient_scope", scope="read write admin""#;
        assert_eq!(missing(forbidden, asked), "write", "granted and undeclared scopes are dropped");
        assert_eq!(missing(http::StatusCode::UNAUTHORIZED, asked), "");
        assert_eq!(missing(forbidden, r#"Bearer error="invalid_token", scope="write""#), "");
        assert_eq!(missing(forbidden, r#"Basic realm="write""#), "");
        let mut full = provider();
        full.granular_scopes = false;
        assert!(missing_from_challenge(forbidden, &challenge(asked), &full, &granted).is_empty());
    }
}
