//! Why a token request failed ([`TokenError`], classified by what the caller should do) and the
//! OAuth `error` code of a refusal ([`OAuthErrorCode`]).

use std::fmt;

/// Why a grant failed, classified by what the caller should do (give up and ask the user, or retry
/// later), not by where it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The provider answered with an OAuth error (`invalid_grant`, `invalid_client`, …): retrying
    /// the same request will not help.
    #[error("{provider} refused the token request: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        /// Provider display name.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: OAuthErrorCode,
        /// The `error_description`, shortened.
        description: Option<String>,
    },
    /// A transient failure (5xx, 429, timeout, connection reset): retry later.
    #[error("{message}")]
    Transient {
        /// What happened.
        message: String,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u64>,
        /// The request may have been processed (timeout or reset after sending): a rotating
        /// provider may already have replaced the refresh token.
        outcome_unknown: bool,
    },
    /// The reply could not be understood, or the request could not be made.
    #[error("{message}")]
    Protocol {
        /// What happened.
        message: String,
    },
}

impl TokenError {
    /// Whether the failure means the grant is dead and the user must reauthorize.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TokenError::OAuth { error, .. } if error.is_terminal())
    }
}

/// The `error` code of an OAuth error response (RFC 6749 §5.2), typed for the codes Patchbay acts
/// on, with [`Other`](OAuthErrorCode::Other) keeping any other code verbatim (like oauth2-rs's
/// `BasicErrorResponseType::Extension`). Built with `From<&str>`, so a known code is never held
/// as `Other`; it displays as the code itself, and equality is by code.
#[derive(Debug, Clone)]
pub enum OAuthErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: this client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not support the grant type.
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is invalid or exceeds the grant.
    InvalidScope,
    /// `access_denied`: the resource owner or the server refused (RFC 6749 §4.1.2.1).
    AccessDenied,
    /// Any other code (provider extensions such as `temporarily_unavailable`), as received.
    Other(String),
}

impl OAuthErrorCode {
    /// The codes with a variant of their own, for parsing.
    const KNOWN: [OAuthErrorCode; 7] = [
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::InvalidGrant,
        OAuthErrorCode::UnauthorizedClient,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::AccessDenied,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::Other(code) => code,
        }
    }

    /// Whether the code means the grant is dead and the user must reauthorize.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            OAuthErrorCode::InvalidGrant
                | OAuthErrorCode::UnauthorizedClient
                | OAuthErrorCode::InvalidClient
                | OAuthErrorCode::AccessDenied
        )
    }
}

impl From<&str> for OAuthErrorCode {
    fn from(code: &str) -> Self {
        OAuthErrorCode::KNOWN
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or_else(|| OAuthErrorCode::Other(code.to_owned()))
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Equality by code, so that a hand-built `Other("invalid_grant")` still equals `InvalidGrant`.
impl PartialEq for OAuthErrorCode {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for OAuthErrorCode {}

/// A provider file lists its extra terminal codes as text (`terminal_errors`).
impl PartialEq<OAuthErrorCode> for String {
    fn eq(&self, other: &OAuthErrorCode) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_codes_parse_display_and_compare_by_code() {
        assert_eq!(OAuthErrorCode::from("invalid_grant"), OAuthErrorCode::InvalidGrant);
        assert_eq!(OAuthErrorCode::from("slow_down"), OAuthErrorCode::Other("slow_down".into()));
        assert_eq!(OAuthErrorCode::Other("invalid_grant".into()), OAuthErrorCode::InvalidGrant);
        for known in OAuthErrorCode::KNOWN {
            assert_eq!(OAuthErrorCode::from(known.as_str()), known);
            assert_eq!(known.to_string(), known.as_str());
        }
        // As a provider file's `terminal_errors` list is matched.
        let listed: Vec<String> = vec!["invalid_scope".into(), "slow_down".into()];
        assert!(listed.iter().any(|t| t == &OAuthErrorCode::InvalidScope));
        assert!(listed.iter().any(|t| t == &OAuthErrorCode::from("slow_down")));
        assert!(!listed.iter().any(|t| t == &OAuthErrorCode::InvalidGrant));
    }

    #[test]
    fn terminal_errors() {
        let e = |error: &str| TokenError::OAuth {
            provider: "X".into(),
            status: 400,
            error: error.into(),
            description: None,
        };
        assert!(e("invalid_grant").is_terminal());
        assert!(!e("temporarily_unavailable").is_terminal());
        assert!(
            !TokenError::Transient { message: String::new(), retry_after: None, outcome_unknown: false }.is_terminal()
        );
    }
}
