//! The token lifecycle of a connection (docs/security.md "Token refresh" and R-01…R-12), one
//! job per module, each calling only those listed before it:
//! - `schedule`: the pure policy — when a token is due, the retry backoff, when to look next —
//!   and `start_lifecycle` for a new grant;
//! - `grant`: storing a new grant (the callback, renewal) and the first verify of it;
//! - `refresh`: exactly-once refresh across callers and nodes ([`RuntimeState`]);
//! - `renew`: client-credentials tokens re-obtained when due;
//! - `issue`: the token endpoint's checks and hand-over ([`TokenRequest`], [`IssuedToken`]).
//!
//! This folder calls the floor (`access`, `secrets`, `audit`, `events`) and nothing above it;
//! `oauth`, `connections`, `proxy` and the scheduler call it.

mod grant;
mod issue;
mod refresh;
mod renew;
mod schedule;

pub(crate) use grant::{Grant, granted_or_requested};
pub use issue::{IssuedToken, TokenRequest};
pub use refresh::{RefreshState, RuntimeState};
pub(crate) use schedule::{
    keep_alive_of, last_verified_at, next_action, oauth_reverify_every_of, refresh_due_at, reverify_every_of,
};
