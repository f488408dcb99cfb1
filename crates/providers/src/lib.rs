//! Providers: the catalog of third-party service definitions, and the one guarded HTTP client
//! through which Patchbay talks to them.
//!
//! - [`api_url`]: the one way a URL that carries a credential is built (N-03).
//! - [`callback_signature`]: a provider's signature of its own callback (Shopify's `hmac`).
//! - [`catalog`]: built-in YAML files plus `PATCHBAY_PROVIDERS_DIR`, strictly validated
//!   ([`validate`]) after `${VAR}` interpolation; see `docs/providers.md`. `catalog_apps`
//!   checks that files sharing an `oauth_app` agree on it; [`catalog_doc`] renders
//!   `docs/catalog.md` from the files.
//! - [`mask`]: masking a request's secrets, in their common transformations, out of the
//!   provider text Patchbay keeps (S-05).
//! - [`discovery`]: finding an OAuth server from one URL (RFC 8414, RFC 9728) and registering
//!   with it (RFC 7591), over the guarded client.
//! - [`http`]: [`GuardedClient`], which refuses private addresses (checked at connect time),
//!   never follows redirects and bounds time and response size (docs/security.md N-01, N-04).
//! - [`metadata`]: connection metadata captured from token replies, callbacks and follow-up
//!   calls, and the vetted origins among it that may choose an API host (N-03).
//! - [`oauth`]: the OAuth 2.0 client (authorize URL, the three grants, revocation), over the
//!   guarded client.
//! - [`template`]: `{setting}` URL templates that can never move a credential to another host
//!   (N-02, N-03).
//! - [`verify`]: putting a credential on a request and running a provider's verify call;
//!   `header_template` fills `{setting}` / `{client_id}` in a provider's headers (G12).

pub mod api_url;
pub mod callback_signature;
pub mod catalog;
mod catalog_apps;
mod catalog_discovery;
pub mod catalog_doc;
pub mod discovery;
mod header_template;
pub mod http;
mod interpolate;
pub mod mask;
pub mod metadata;
pub mod oauth;
pub mod template;
pub mod validate;
pub mod verify;

pub use api_url::{api_url, api_url_on};
pub use catalog::{Catalog, builtin_files, process_env};
pub use http::{AddressClass, BodyStream, FetchedResponse, GuardOptions, GuardedClient, HttpError, classify_ip};
pub use mask::{Masker, mask_secrets};
pub use template::{TemplateError, join_api_url, render_for, render_path, render_url};
pub use validate::{CatalogError, CatalogErrors};
pub use verify::{VerifyOutcome, apply_connection_credential, apply_credential, verify_credential};
