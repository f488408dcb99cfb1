//! The conformance kit (dev-only, never linked into the release binary): loopback HTTPS
//! emulations of real services' *documented* OAuth and API behaviour, so every built-in OAuth
//! definition can be run through a full life in CI with its real host names unchanged.
//!
//! - [`tls`]: a throwaway CA per run and the TLS listener.
//! - [`record`]: every request an emulator received, for the harness's assertions.
//! - [`grants`]: codes, access and refresh tokens, rotation and revocation, shared by profiles.
//! - [`profile`]: the [`Profile`] trait and shared wire helpers.
//! - [`profiles`]: one module per service (Google, Microsoft, Slack, Notion, Salesforce,
//!   Dropbox, QuickBooks), each citing the official page of every behaviour it emulates.
//!
//! [`Kit::start`] serves every profile on its own loopback port; [`Kit::resolver`] maps the
//! profiles' host names to those ports and [`Kit::ca_pem`] is the only root a client of the kit
//! should trust. docs/conformance.md says how to add a profile.

pub mod grants;
pub mod profile;
pub mod profiles;
pub mod record;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::response::Response;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub use profile::{ApiCall, Behaviour, Client, ClientAuth, Ctx, Profile};
pub use record::{Ledger, Recorded};

/// One running emulator.
pub struct Service {
    /// What it emulates.
    pub profile: Arc<dyn Profile>,
    /// Its codes and tokens.
    pub ctx: Arc<Ctx>,
    /// What it received.
    pub ledger: Ledger,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("profile", &self.profile.name()).field("addr", &self.addr).finish()
    }
}

impl Service {
    /// The requests received on `host` at `path`.
    pub fn requests_to(&self, host: &str, path: &str) -> Vec<Recorded> {
        self.ledger.to(host, path)
    }

    /// Every request received (since the ledger was last cleared), oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.ledger.all()
    }
}

/// Every profile, running.
#[derive(Debug)]
pub struct Kit {
    authority: tls::Authority,
    services: Vec<Service>,
}

impl Kit {
    /// Starts every profile with `redirect_uris` registered for its client.
    pub async fn start(redirect_uris: &[&str]) -> Kit {
        let authority = tls::Authority::new();
        let mut services = Vec::new();
        for profile in profiles::all() {
            services.push(serve(&authority, profile, redirect_uris).await);
        }
        Kit { authority, services }
    }

    /// The throwaway CA's certificate (PEM): the only root a client of the kit trusts.
    pub fn ca_pem(&self) -> String {
        self.authority.ca_pem()
    }

    /// A resolver sending each profile's hosts to its port. Any other name fails to resolve, so
    /// a client using it can never reach a real service by mistake.
    pub fn resolver(&self) -> Arc<dyn Resolve> {
        let mut map = Vec::new();
        for s in &self.services {
            for host in s.profile.hosts() {
                map.push(((*host).to_owned(), s.addr));
            }
        }
        Arc::new(KitResolver(Arc::new(map)))
    }

    /// Every running emulator.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The emulator named `name`.
    pub fn service(&self, name: &str) -> &Service {
        self.services.iter().find(|s| s.profile.name() == name).unwrap_or_else(|| panic!("no profile {name}"))
    }

    /// The emulator whose token endpoint is on `url`'s host. A URL that takes connection
    /// settings (`https://{subdomain}.zendesk.com/oauth/tokens`) is rendered with each
    /// profile's own [`Profile::settings`] first.
    pub fn for_token_url(&self, url: &str) -> Option<&Service> {
        self.services.iter().find(|s| {
            let mut rendered = url.to_owned();
            for (key, value) in s.profile.settings() {
                rendered = rendered.replace(&format!("{{{key}}}"), value);
            }
            let host = url::Url::parse(&rendered).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
            host.is_some_and(|h| s.profile.token_hosts().contains(&h.as_str()))
        })
    }

    /// A plain client of the kit (the "browser", or a raw client in profile tests): the kit's
    /// resolver, only the kit's CA, no redirects followed.
    pub fn client(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.ca_pem().as_bytes()).expect("CA PEM");
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(self.resolver())
            .tls_certs_only([ca])
            .build()
            .expect("kit client")
    }
}

struct KitResolver(Arc<Vec<(String, SocketAddr)>>);

impl Resolve for KitResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let found = self.0.iter().find(|(h, _)| *h == host).map(|(_, a)| *a);
        Box::pin(async move {
            match found {
                Some(addr) => Ok(Box::new(std::iter::once(addr)) as Addrs),
                None => Err(format!("{host} is not emulated by the conformance kit").into()),
            }
        })
    }
}

async fn serve(authority: &tls::Authority, profile: Arc<dyn Profile>, redirect_uris: &[&str]) -> Service {
    let listener = tls::TlsListener::bind(authority.server_config(profile.hosts())).await.expect("bind loopback");
    let addr = axum::serve::Listener::local_addr(&listener).expect("local address");
    let ctx = Arc::new(Ctx {
        grants: grants::Grants::default(),
        redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
    });
    let ledger = Ledger::default();
    let router = axum::Router::new()
        .fallback(dispatch)
        .with_state((profile.clone(), ctx.clone()))
        .layer(axum::middleware::from_fn_with_state(ledger.clone(), record::record));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Service { profile, ctx, ledger, addr }
}

type DispatchState = (Arc<dyn Profile>, Arc<Ctx>);

async fn dispatch(State((profile, ctx)): State<DispatchState>, Extension(r): Extension<Recorded>) -> Response {
    if !profile.hosts().contains(&r.host.as_str()) {
        return profile::page(421, &format!("{} does not serve {}", profile.name(), r.host));
    }
    profile.handle(&ctx, &r)
}
