//! Test-only helpers for Patchbay (a dev-dependency, never shipped):
//!
//! - [`MockProvider`]: a real loopback HTTP server playing an API-key / basic-auth third-party
//!   service, with fault knobs (failures, delays, revoked keys) and a ledger of every request;
//!   it also writes provider files pointing at itself.
//! - [`PatchbayProcess`]: the real `patchbay` binary as a child process with a temporary data
//!   directory, a free port, captured logs, admin commands and a JSON [`PatchbayClient`].
//! - [`RouterClient`]: the same JSON client, sending requests in-process into an axum router
//!   (`Router::oneshot`), for service-level tests that own the service and its clock.
//! - [`canary`] and [`scan_dir_for`] / [`scan_dir_for_encoded`]: prove a secret never lands in a
//!   file (database, WAL, logs).
//! - [`fresh_postgres_database`]: an empty database on the PostgreSQL test cluster, when
//!   `scripts/test` started one; [`OwnPostgres`]: a cluster of a test's own that it may stop and
//!   start (outage tests).

mod mock;
mod own_postgres;
mod postgres;
mod process;
mod router;
mod secrets;

pub use mock::{MockAuth, MockProvider, RecordedRequest};
pub use own_postgres::OwnPostgres;
pub use postgres::{TEST_DATABASE_URL_ENV, fresh_postgres_database, postgres_test_url};
pub use process::{PatchbayClient, PatchbayOptions, PatchbayProcess, READY_TIMEOUT, TERMINATE_TIMEOUT, free_port};
pub use router::{RouterClient, read as read_response};
pub use secrets::{canary, encodings_of, scan_dir_for, scan_dir_for_encoded};
