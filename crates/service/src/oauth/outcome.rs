//! How a consent flow ended ([`CallbackOutcome`]): the word the landing page is told and the
//! audit outcome it is recorded with. Below both `pin` (which refuses with one) and `callback`.

use crate::audit::AuditOutcome;
use crate::words::word_enum;

word_enum! {
    /// How a consent flow ended, as the page the browser lands on is told (the fixed word of
    /// `?outcome=`; the page renders a fixed banner for it, never text from the URL).
    pub enum CallbackOutcome {
        /// The grant was stored.
        Connected = "connected",
        /// The grant was stored but covers less than the flow asked for; the rest stays in the
        /// connection's requested scopes and the page says what is missing.
        Partial = "partial",
        /// The user denied consent at the provider.
        Denied = "denied",
        /// The provider answered with an error, sent no code, or the exchange failed.
        Error = "error",
        /// A reauthorization granted access for another account; nothing was changed.
        AccountMismatch = "account_mismatch",
        /// A reauthorization's account could not be confirmed (the verify failed or named no
        /// account); nothing was changed.
        AccountUnverified = "account_unverified",
    }
}

impl CallbackOutcome {
    /// How the flow's audit record ends.
    pub(super) fn audited(self) -> AuditOutcome {
        match self {
            CallbackOutcome::Connected | CallbackOutcome::Partial => AuditOutcome::Ok,
            CallbackOutcome::Denied => AuditOutcome::Denied,
            CallbackOutcome::Error => AuditOutcome::Error,
            CallbackOutcome::AccountMismatch => AuditOutcome::AccountMismatch,
            CallbackOutcome::AccountUnverified => AuditOutcome::AccountUnverified,
        }
    }
}
