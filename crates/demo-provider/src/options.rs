//! [`DemoOptions`]: what is fixed when the server starts (its client, its strictness, its refresh
//! token policy). Everything that may change while it runs is a knob on
//! [`DemoProvider`](crate::DemoProvider) instead.

use std::fmt;
use std::time::Duration;

use crate::crypto::random_token;
use crate::scopes::DEFAULT_CLIENT_ID;

/// How clients may authenticate at the token and revocation endpoints (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenEndpointAuth {
    /// Only HTTP basic (`client_secret_basic`).
    Basic,
    /// Only `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
    /// Either method (never both in one request).
    #[default]
    Either,
}

/// What a `refresh_token` grant does with the refresh token it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RotationMode {
    /// The refresh token stays the same and stays valid; the response repeats it.
    None,
    /// The refresh token stays the same and stays valid, but the response carries no
    /// `refresh_token` at all: the client must keep the one it has (`no_rt_on_refresh`).
    OmitOnRefresh,
    /// Every refresh returns a new refresh token; the presented one is dead from then on.
    /// Presenting a dead one is `invalid_grant`, nothing more.
    Rotate,
    /// As [`Rotate`](Self::Rotate), and presenting a superseded refresh token revokes the whole
    /// token family (every access and refresh token descending from the same consent), as
    /// RFC 9700 §4.14.2 recommends. The event is recorded in the ledger
    /// ([`DemoProvider::reuse_detections`](crate::DemoProvider::reuse_detections)).
    #[default]
    RotateWithReuseDetection,
}

/// Start-up options of a [`DemoProvider`](crate::DemoProvider).
///
/// `DemoOptions::default()` registers client [`DEFAULT_CLIENT_ID`] with a fresh random secret,
/// requires PKCE, accepts either client authentication method, sends `iss` on redirects, issues
/// one-hour access tokens, rotates refresh tokens with reuse detection and binds a random port.
#[derive(Clone)]
pub struct DemoOptions {
    /// The one registered client.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Whether `code_challenge` (S256) is mandatory on the authorize request (default `true`).
    pub require_pkce: bool,
    /// Accepted client authentication at the token and revocation endpoints.
    pub token_endpoint_auth: TokenEndpointAuth,
    /// Whether redirects back to the client carry `iss` (RFC 9207; default `true`). The knob
    /// [`DemoProvider::set_iss_param`](crate::DemoProvider::set_iss_param) changes it later.
    pub issue_iss: bool,
    /// Lifetime of access tokens (default one hour); changeable later with
    /// [`DemoProvider::set_access_token_ttl`](crate::DemoProvider::set_access_token_ttl).
    pub access_token_ttl: Duration,
    /// Refresh token policy.
    pub refresh_rotation: RotationMode,
    /// Port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
    /// Redirect URIs the client registered; empty (the default) accepts any absolute http(s)
    /// URL without a fragment. When set, `redirect_uri` must equal one of them exactly.
    pub redirect_uris: Vec<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: random_token("dcs_"),
            require_pkce: true,
            token_endpoint_auth: TokenEndpointAuth::Either,
            issue_iss: true,
            access_token_ttl: Duration::from_secs(3600),
            refresh_rotation: RotationMode::RotateWithReuseDetection,
            port: None,
            redirect_uris: Vec::new(),
        }
    }
}

impl fmt::Debug for DemoOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoOptions")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("require_pkce", &self.require_pkce)
            .field("token_endpoint_auth", &self.token_endpoint_auth)
            .field("issue_iss", &self.issue_iss)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_rotation", &self.refresh_rotation)
            .field("port", &self.port)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let options = DemoOptions::default();
        let text = format!("{options:?}");
        assert!(!text.contains(&options.client_secret));
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn defaults_are_strict() {
        let options = DemoOptions::default();
        assert!(options.require_pkce && options.issue_iss);
        assert_eq!(options.refresh_rotation, RotationMode::RotateWithReuseDetection);
        assert_ne!(options.client_secret, DemoOptions::default().client_secret, "each default gets its own secret");
    }
}
