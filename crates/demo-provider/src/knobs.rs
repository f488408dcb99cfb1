//! The values the fault and behaviour knobs of [`DemoProvider`](crate::DemoProvider) take.

use std::time::Duration;

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Grant access: the client gets a code.
    Allow,
    /// Refuse: the client gets `error=access_denied`.
    Deny,
}

/// A failure injected into the token endpoint by
/// [`DemoProvider::fail_next_token`](crate::DemoProvider::fail_next_token).
///
/// Unless stated otherwise the request is recorded in the ledger but **not processed**: no code
/// is consumed and no token is rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a short plain-text body (an outage page, not OAuth JSON).
    Status(u16),
    /// Answer with an RFC 6749 §5.2 error body `{"error", "error_description"}` and this status.
    OAuthError {
        /// HTTP status, usually 400 or 401.
        status: u16,
        /// The `error` code (`invalid_grant`, `temporarily_unavailable`, …).
        error: String,
        /// The optional `error_description`.
        description: Option<String>,
    },
    /// `429 Too Many Requests` with `Retry-After: secs`.
    RetryAfter {
        /// Seconds in the `Retry-After` header.
        secs: u64,
    },
    /// Wait this long, then process the request normally (to force client timeouts; a client
    /// that gives up first leaves the request unprocessed).
    Delay(Duration),
    /// Close the connection (TCP reset) without answering or processing.
    Reset,
    /// Process the request (codes are consumed, refresh tokens rotated) and then close the
    /// connection without answering: the client cannot know the outcome.
    ResetAfterProcessing,
    /// Process the request, then wait this long before answering (the client may time out
    /// although the server already rotated).
    DelayAfterProcessing(Duration),
    /// Answer with this status and this exact body as `application/json` (garbage, a
    /// 200-with-error body, a response without `access_token`…).
    Body {
        /// HTTP status.
        status: u16,
        /// The body, sent verbatim.
        body: String,
    },
}

impl Fault {
    /// Whether the request is processed before the fault shows.
    pub(crate) fn processes_request(&self) -> bool {
        matches!(self, Fault::Delay(_) | Fault::ResetAfterProcessing | Fault::DelayAfterProcessing(_))
    }
}

/// What the `iss` parameter of redirects to the client carries (RFC 9207).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssParam {
    /// The server's issuer ([`DemoProvider::issuer`](crate::DemoProvider::issuer)).
    Issuer,
    /// No `iss` parameter.
    Omit,
    /// This value instead of the issuer (a mix-up attack).
    Value(String),
}
