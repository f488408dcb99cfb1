//! `patchbay demo`: `serve` plus the Demo Cloud OAuth provider on loopback, a demo team, a demo
//! user and an admin token, so the whole flow works offline in a browser.
//!
//! Demo Cloud's client secret and grants, and the demo user's password, are kept in the data
//! directory (`demo_state`), so a restart keeps every Demo Cloud connection working and the same
//! password. The password is `PATCHBAY_DEMO_PASSWORD` when set, else the saved one, else a fresh
//! random one (saved).

use patchbay_demo_provider::{DemoOptions, DemoProvider, ProviderYamlOptions};
use patchbay_domain::principal::Role;
use patchbay_service::ServiceError;
use secrecy::{ExposeSecret, SecretString};

use crate::app;
use crate::config::Config;
use crate::demo_state;
use crate::serve;

/// Login of the demo user.
pub const DEMO_LOGIN: &str = "demo@patchbay.local";
const DEMO_TEAM: &str = "Demo team";

fn random_secret(bytes: usize) -> String {
    patchbay_domain::random::token(bytes)
}

/// The demo user's password and whether it is the one of an earlier run.
fn demo_password(state: &mut demo_state::DemoState) -> (SecretString, bool) {
    if let Ok(p) = std::env::var("PATCHBAY_DEMO_PASSWORD") {
        return (SecretString::from(p), false);
    }
    match &state.password {
        Some(saved) => (SecretString::from(saved.clone()), true),
        None => {
            let fresh = random_secret(12);
            state.password = Some(fresh.clone());
            (SecretString::from(fresh), false)
        }
    }
}

/// Starts Demo Cloud with the saved client secret and grants (fresh ones on the first run).
async fn start_demo_cloud(state: &mut demo_state::DemoState) -> anyhow::Result<DemoProvider> {
    let client_secret = state.client_secret.get_or_insert_with(|| random_secret(24)).clone();
    let demo =
        DemoProvider::start(DemoOptions { client_id: "patchbay-demo".into(), client_secret, ..DemoOptions::default() })
            .await;
    if let Some(grants) = &state.democloud {
        demo.import_state(&grants.to_string()).map_err(|e| anyhow::anyhow!("the saved Demo Cloud state: {e}"))?;
    }
    Ok(demo)
}

/// Runs the demo until a shutdown signal.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // Demo Cloud listens on loopback, which the guarded client refuses unless allowed.
    config.allow_private_networks = true;
    config.ensure_data_dir()?;
    let state_path = demo_state::path_in(&config.data_dir);
    let mut state = demo_state::load(&state_path)?;
    let demo = start_demo_cloud(&mut state).await?;
    let yaml =
        demo.provider_yaml("democloud", ProviderYamlOptions { grant_lifetime: Some("60d"), ..Default::default() });
    let patchbay = app::build_with(&config, &[("democloud (built-in demo)".to_owned(), yaml)]).await?;

    let team = match patchbay.find_team(DEMO_TEAM).await {
        Ok(team) => team,
        Err(ServiceError::NotFound(_)) => patchbay.create_team(DEMO_TEAM).await?,
        Err(e) => return Err(e.into()),
    };
    let (password, unchanged) = demo_password(&mut state);
    patchbay.set_user(team.id.as_str(), DEMO_LOGIN, &password, Role::Admin).await?;
    let (_, token) = patchbay.create_token(team.id.as_str(), Role::Admin, "demo").await?;
    demo_state::save_grants(&state_path, &mut state, &demo)?;

    println!();
    println!("  Patchbay demo is running: open {}/", config.public_url);
    let note = if unchanged { " (unchanged since the last run)" } else { "" };
    println!("  Sign in as {DEMO_LOGIN} with password {}{note}", password.expose_secret());
    println!("  API token (admin), for the CLI and curl:");
    println!("    export PATCHBAY_URL={}", config.public_url);
    println!("    export PATCHBAY_TOKEN={}", token.expose_secret());
    println!("  Demo Cloud (OAuth provider `democloud`) answers at {}", demo.base_url());
    println!("  Stop with Ctrl-C. Data lives in {}", config.data_dir.display());
    println!();
    let (stop_saving, saving_stop) = tokio::sync::oneshot::channel();
    let saver = tokio::spawn(demo_state::keep_saving(state_path, state, demo.clone(), saving_stop));
    let result = serve::run_app(config, patchbay).await;
    let _ = stop_saving.send(());
    let _ = saver.await;
    demo.shutdown().await;
    result
}
