//! Patchbay's domain: the vocabulary every crate shares (team, connection, provider, credential,
//! scope, scenario, principal) as types, with no I/O.
//!
//! Every other crate speaks in these terms: a [`Connection`](connection::Connection) of a
//! [`TeamId`](ids::TeamId) to a [`Provider`](provider::Provider), holding a
//! [`Credential`](credential::Credential) whose secret parts are [`secrecy`] types.

pub mod category;
pub mod clock;
pub mod connection;
pub mod credential;
pub mod end_user;
pub mod grant_format;
pub mod ids;
pub mod lifetime;
pub mod name;
pub mod principal;
pub mod provider;
pub mod provider_request;
pub mod random;
pub mod scenario;
pub mod scope;

pub use secrecy::{ExposeSecret, SecretString};
