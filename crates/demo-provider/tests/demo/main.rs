//! Demo Cloud over real HTTP on loopback: the consent flow, the grants, revocation, the resource
//! API, every fault knob and the provider file.

mod api;
mod authorize;
mod common;
mod consent_page;
mod faults;
mod provider_yaml;
mod refresh;
mod registration;
mod revoke;
mod token;
