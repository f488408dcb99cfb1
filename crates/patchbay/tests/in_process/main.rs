//! Service-level tests: the whole service built in-process by the composition root on a fixed
//! clock ([`common::test_app::TestApp`]), requests sent through `Router::oneshot`. Time-dependent
//! behaviour (expiry, backoff, scheduling) is tested by advancing the clock, never by sleeping.
//!
//! - `api_hosts`: the request side of the provider format (issue 11): a second API host,
//!   templated headers, setting defaults and choices, providers' endpoints and client state.
//! - `connections`: the API-key connection lifecycle, roles and team isolation, and an OAuth
//!   connection whose access token expires on the clock.
//! - `lifecycle`: the token lifecycle against Demo Cloud in strict rotation mode (moved here
//!   from the process-level `lifecycle.rs`, with the same assertions, the sleeps replaced by
//!   clock advances and the background loop by explicit scheduler passes).
//! - `rough_states`: never-granted connections (`not_connected`), permissions remembered across
//!   a denied consent, partial consent, replacing an API key in place, unverified keys, one new
//!   connection shared by several steps of a scenario.
//! - `security`: account pinning that fails closed, superseded grants revoked, bound runtime
//!   tokens and module API declarations (issue 15).
//! - `team_keys`: rotating a team's data key online, and deleting a team (its grants revoked,
//!   its data keys destroyed).
//! - `connect_pages`: the hosted page of a connect session as the end user's browser sees it.
//! - `connect_sessions`: connect sessions for a platform's end users (issue 17): their limits,
//!   roles, reconnects, the token stored as a digest; connections carrying their end user.
//! - `pending`: never-granted connections: continued under their name, discarded by hand or by
//!   the background job a day after their consent was abandoned.
//! - `discovered`: a provider discovered from a URL (issue 16) used like a built-in one.
//! - `signed_callback`: a provider that signs its callback (Shopify's `hmac`): only a valid
//!   signature over every parameter connects.
//! - `step_up`: a proxied `403 insufficient_scope` recorded as missing scopes, then granted by
//!   extending permissions (issue 16).

#[path = "../common/mod.rs"]
mod common;

mod api_hosts;
mod connect_pages;
mod connect_sessions;
mod connections;
mod discovered;
mod lifecycle;
mod pending;
mod rough_states;
mod security;
mod signed_callback;
mod step_up;
mod team_keys;
