//! `patchbay demo`: `serve` plus the Demo Cloud OAuth provider on loopback, a demo team, a demo
//! user and an admin token, so the whole flow works offline in a browser.
//!
//! Demo Cloud keeps its grants in memory: connections made in an earlier demo run need a
//! Reauthorize after a restart (the UI says so through their failed verify). The demo user's
//! password is `PATCHBAY_DEMO_PASSWORD` when set, else a fresh random one printed at start.

use patchbay_demo_provider::{DemoOptions, DemoProvider, ProviderYamlOptions};
use patchbay_domain::principal::Role;
use patchbay_service::ServiceError;
use secrecy::{ExposeSecret, SecretString};

use crate::app;
use crate::config::Config;
use crate::serve;

/// Login of the demo user.
pub const DEMO_LOGIN: &str = "demo@patchbay.local";
const DEMO_TEAM: &str = "Demo team";

fn random_secret(bytes: usize) -> String {
    patchbay_domain::random::token(bytes)
}

/// Runs the demo until a shutdown signal.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // Demo Cloud listens on loopback, which the guarded client refuses unless allowed.
    config.allow_private_networks = true;
    let demo = DemoProvider::start(DemoOptions {
        client_id: "patchbay-demo".into(),
        client_secret: random_secret(24),
        ..DemoOptions::default()
    })
    .await;
    let yaml =
        demo.provider_yaml("democloud", ProviderYamlOptions { grant_lifetime: Some("60d"), ..Default::default() });
    let patchbay = app::build_with(&config, &[("democloud (built-in demo)".to_owned(), yaml)]).await?;

    let team = match patchbay.find_team(DEMO_TEAM).await {
        Ok(team) => team,
        Err(ServiceError::NotFound(_)) => patchbay.create_team(DEMO_TEAM).await?,
        Err(e) => return Err(e.into()),
    };
    let password = SecretString::from(std::env::var("PATCHBAY_DEMO_PASSWORD").unwrap_or_else(|_| random_secret(12)));
    patchbay.set_user(team.id.as_str(), DEMO_LOGIN, &password, Role::Admin).await?;
    let (_, token) = patchbay.create_token(team.id.as_str(), Role::Admin, "demo").await?;

    println!();
    println!("  Patchbay demo is running: open {}/", config.public_url);
    println!("  Sign in as {DEMO_LOGIN} with password {}", password.expose_secret());
    println!("  API token (admin): {}", token.expose_secret());
    println!("  Demo Cloud (OAuth provider `democloud`) answers at {}", demo.base_url());
    println!("  Stop with Ctrl-C. Data lives in {}", config.data_dir.display());
    println!();
    let result = serve::run_app(config, patchbay).await;
    demo.shutdown().await;
    result
}
