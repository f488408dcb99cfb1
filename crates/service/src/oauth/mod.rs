//! OAuth 2.0 consent flows (docs/api.md "The consent flow", docs/security.md O-01…O-20): starting
//! one (`start`) and completing it at the callback (`callback`).
//!
//! A flow is a database row keyed by the SHA-256 of its state (≥256 random bits), so it survives
//! a restart and completes on any node; the callback consumes it with one `DELETE … RETURNING`,
//! so a replayed or concurrent callback finds nothing and no second code exchange happens. The
//! row names the provider, team, connection and requested scopes: the code is only ever
//! exchanged at that provider's token endpoint. Every failure at the callback leaves the stored
//! credential untouched and sends the user back with an outcome they can act on.
//!
//! Which OAuth client a connection uses is decided in `secrets`; storing a grant and renewing
//! client-credentials tokens belong to `lifecycle`; creating and reauthorizing connections
//! (which start flows) to `connections`.

mod callback;
mod issuer;
mod outcome;
mod pin;
mod start;

pub use callback::{CallbackQuery, Landing};
pub(crate) use issuer::IssuerCache;
pub use outcome::CallbackOutcome;
pub use start::{AuthorizeStart, EXPIRED_FLOW_KEPT, FLOW_TTL, ReauthorizeRequest, session_binding};
pub(crate) use start::{FlowKind, FlowStart};
