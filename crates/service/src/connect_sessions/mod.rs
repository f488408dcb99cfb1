//! Connect sessions: another product (the *platform*) puts "Add connection" in front of its own
//! users (*end users*) without giving them a Patchbay account (docs/embedding.md). The platform's
//! backend creates a session for one end user with what the hosted page may do; the answer
//! carries a single-purpose token and the page's URL.
//!
//! - `input`: the pure request rules (origins, the return URL, the lifetime), no I/O;
//! - `create`: `create_connect_session`, which checks every limit before it stores anything;
//! - `page`: what the hosted page does (token → cookie, the visit, saving the one connection,
//!   completing the session after consent);
//! - `expiry`: the background sweep that audits every session that ran out unused.
//!
//! Invariants: the token is 256 random bits, stored only as its SHA-256 digest and shown once;
//! a session belongs to the creator's team and can never name another team's connection; a bad
//! request stores nothing. Calls `access`, `audit`, `connections`, `oauth` and `sessions`; only the
//! server calls it.

mod create;
mod expiry;
mod input;
mod page;

pub use create::{ConnectSessionCreated, CreateConnectSession};
pub use expiry::run_expiry_worker;
pub use input::{DEFAULT_LIFETIME, MAX_LIFETIME, MIN_LIFETIME};
pub use page::{ConnectSave, ConnectVisit, LANDING_PATH, Opening, Saved, VisitState};
