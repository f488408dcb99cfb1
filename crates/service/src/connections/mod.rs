//! Connection use-cases for every auth mode, one job per module:
//! - `dto`: the request and answer types (`CreateConnection`, `Created`, `Verified`,
//!   `DeleteReceipt`, `ListFilter`);
//! - `input`: the pure request rules (`validate_return_to`, credential fields, settings split
//!   by secrecy, requested scopes, the effect of a verify outcome);
//! - `create`: create, verifying first or starting the consent flow or obtaining the token;
//! - `manage`: list, get, rename, verify, reauthorize, delete;
//! - `credential`: replace an API key or password in place, verified first.
//! - `pending`: never-granted connections: discard, continue under their name, the discard job.
//! - `setting_values`: settings checked against their declarations (choices, instance URLs).
//!
//! Invariants: a bad request changes nothing stored; a connection and its secrets are written in
//! one transaction; a failing verify keeps the connection and says why; the team always comes
//! from the principal. Calls the floor, `lifecycle`, `oauth` and `revocations`; only `scenarios`
//! and the server call it.

mod create;
mod credential;
mod dto;
mod input;
mod manage;
mod pending;
mod setting_values;

pub use credential::UpdateCredential;
pub use dto::{CreateConnection, Created, DeleteReceipt, ListFilter, Verified};
pub(crate) use input::requested_scopes;
pub use input::validate_return_to;
pub use pending::{ABANDONED_AFTER, run_discard_worker};

pub use crate::access::parse_connection_id;
pub use crate::revocations::RevocationItem;
