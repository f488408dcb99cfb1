//! `patchbay`: the one binary (README "Commands") — server, bootstrap commands on the database,
//! key management, catalog tools and an HTTP client of the API.

mod cli_admin;
mod cli_connections;
mod cli_keys;
mod cli_providers;
mod demo;
mod demo_state;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
// The composition root and the configuration live in the library (so in-process tests can build
// the service); the binary's modules reach them as `crate::app` / `crate::config`.
use patchbay::{app, config};

use crate::config::ConfigArgs;

/// Patchbay: the connections service for workflow automation.
#[derive(Debug, Parser)]
#[command(name = "patchbay", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The configuration of a command that opens the data directory or the catalog. The client
/// (`connections`) has none of it: it talks to a server by URL.
#[derive(Debug, Args)]
struct Local {
    #[command(flatten)]
    config: ConfigArgs,
}

/// A command group with the configuration (accepted before or after the subcommand).
#[derive(Debug, Args)]
struct Group<C: Subcommand> {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: C,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API, OAuth callback and background workers.
    Serve(Local),
    /// Serve plus the built-in Demo Cloud OAuth provider and a demo user: the whole flow offline.
    Demo(Local),
    /// Apply database migrations and exit (serve also does this at start).
    Migrate(Local),
    /// Bootstrap (and delete) teams, users and API tokens directly on the database.
    Admin(Group<cli_admin::AdminCommand>),
    /// Master key ring: status and rotation; rotation of a team's data key.
    Keys(Group<cli_keys::KeysCommand>),
    /// The provider catalog: list and validate provider files; connect an OAuth server by URL.
    Providers(Group<cli_providers::ProvidersCommand>),
    /// Manage connections through the HTTP API (token from PATCHBAY_TOKEN).
    Connections(cli_connections::ConnectionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(Local { config }) => {
            let config = config::Config::resolve(&config)?;
            logging::init(&config.log_format, "info");
            serve::run(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(Local { config }) => {
            let config = config::Config::resolve(&config)?;
            logging::init(&config.log_format, "info");
            demo::run(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(Local { config }) => {
            let config = config::Config::resolve(&config)?;
            logging::init(&config.log_format, "warn");
            app::check_installation(&config, app::Installation::MayCreate)?;
            app::open_store(&config).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(Group { config, command }) => {
            let config = config::Config::resolve(&config)?;
            logging::init(&config.log_format, "warn");
            cli_admin::run(&config, command).await
        }
        Command::Keys(Group { config, command }) => {
            let config = config::Config::resolve(&config)?;
            logging::init(&config.log_format, "warn");
            cli_keys::run(&config, command).await
        }
        Command::Providers(Group { config, command }) => {
            logging::init("text", "warn");
            cli_providers::run(&config, command).await
        }
        Command::Connections(args) => {
            logging::init("text", "warn");
            cli_connections::run(args).await
        }
    }
}
