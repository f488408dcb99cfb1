//! Demo Cloud: a real OAuth 2.0 authorization server and a tiny resource API on loopback.
//!
//! It serves two purposes:
//!
//! 1. `patchbay demo` runs it in-process, so the whole consent flow (consent page with **Allow**
//!    and **Deny**, code exchange, refresh, revocation, API calls) works offline in a browser.
//! 2. The test suites use it as *the mock authorization server with fault knobs*, over real HTTP:
//!    every knob of [`DemoProvider`] is thread-safe and takes effect on the next request, and the
//!    ledger records what reached the server so tests can assert on it.
//!
//! Endpoints (all under [`DemoProvider::base_url`]):
//!
//! | endpoint | what it does |
//! |---|---|
//! | `GET /oauth/authorize` | validates the request (RFC 6749 §4.1.1, PKCE S256), renders the consent page |
//! | `POST /oauth/authorize/decision` | the consent form: Allow → `303 redirect_uri?code&state&iss`, Deny → `error=access_denied` |
//! | `POST /oauth/token` | `authorization_code`, `refresh_token`, `client_credentials` grants |
//! | `POST /oauth/revoke` | RFC 7009 revocation |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata (with `registration_endpoint`) |
//! | `POST /register` | RFC 7591 dynamic client registration |
//! | `GET /.well-known/oauth-protected-resource/api` | RFC 9728 metadata of the resource `{base}/api` |
//! | `GET /api/me` | the account behind a bearer token (a 401 names `resource_metadata`) |
//! | `GET`/`POST /api/items`, `DELETE /api/items/{id}` | scoped item API (`items:read`/`items:write`/`items:delete`) |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, ProviderYamlOptions};
//!
//! let demo = DemoProvider::start(DemoOptions::default()).await;
//! demo.set_auto_decision(Some(Decision::Allow));
//! let yaml = demo.provider_yaml("demo-cloud", ProviderYamlOptions::default());
//! assert!(yaml.contains(&demo.base_url()));
//! demo.shutdown().await;
//! # }
//! ```

mod api;
mod authorize;
mod consent;
mod crypto;
mod knobs;
mod ledger;
mod listener;
mod options;
mod provider;
mod registration;
mod scopes;
mod snapshot;
mod state;
mod token;
mod yaml;

pub use knobs::{Decision, Fault, IssParam};
pub use ledger::{
    ApiCallRecord, AuthorizeRecord, ClientAuth, ReuseDetection, ReuseKind, TokenOutcome, TokenRequestRecord,
};
pub use options::{DemoOptions, RotationMode, TokenEndpointAuth};
pub use provider::DemoProvider;
pub use registration::REGISTERED_CLIENT_PREFIX;
pub use scopes::{DEFAULT_ACCOUNT, DEFAULT_CLIENT_ID, SCOPES, scope_description};
pub use state::RegisteredClient;
pub use yaml::ProviderYamlOptions;

/// Prefix of every access token the server issues (`dat_…`).
pub const ACCESS_TOKEN_PREFIX: &str = "dat_";
/// Prefix of every refresh token the server issues (`drt_…`).
pub const REFRESH_TOKEN_PREFIX: &str = "drt_";
/// Prefix of every authorization code the server issues (`dac_…`).
pub const CODE_PREFIX: &str = "dac_";
