//! `patchbay providers …`: list the catalog and validate provider files (non-zero exit on any
//! error, each error naming file, line and field).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use patchbay_providers::Catalog;

use crate::config::{Config, ConfigArgs};

/// Provider subcommands.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// List the catalog (built-ins plus PATCHBAY_PROVIDERS_DIR; `--demo` adds Demo Cloud).
    List {
        /// Print JSON (an array of {id, auth_mode, display_name, scopes, modules}).
        #[arg(long)]
        json: bool,
        /// Include Demo Cloud (`democloud`), which `patchbay demo` loads.
        #[arg(long)]
        demo: bool,
    },
    /// Validate provider files.
    Validate {
        /// YAML files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a providers command.
pub fn run(args: &ConfigArgs, cmd: ProvidersCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProvidersCommand::List { json, demo } => {
            let config = Config::resolve(args)?;
            let extra = if demo { vec![demo_cloud_file()] } else { Vec::new() };
            let catalog = crate::app::load_catalog_with(&config, &extra)?;
            if json {
                let list: Vec<serde_json::Value> = catalog.list().map(|p| provider_json(p)).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<20} {:<26} NAME", "ID", "AUTH");
            for p in catalog.list() {
                println!("{:<20} {:<26} {}", p.id, p.auth_mode.as_str(), p.display_name);
            }
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCommand::Validate { files } => {
            let env = |name: &str| std::env::var(name).ok();
            let mut failed = false;
            for file in &files {
                match Catalog::validate_file(file, &env) {
                    Ok(p) => println!("{}: ok ({}, {})", file.display(), p.id, p.auth_mode.as_str()),
                    Err(errors) => {
                        failed = true;
                        for e in errors {
                            eprintln!("{e}");
                        }
                    }
                }
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}

/// Demo Cloud's provider file as `patchbay demo` loads it (its address is only known once the
/// demo runs; the listing needs the id, modes, scopes and modules, which do not depend on it).
fn demo_cloud_file() -> (String, String) {
    let yaml = patchbay_demo_provider::DemoProvider::provider_yaml_for(
        "http://127.0.0.1:1",
        "patchbay-demo",
        "democloud",
        patchbay_demo_provider::ProviderYamlOptions { grant_lifetime: Some("60d"), ..Default::default() },
    );
    ("democloud (built-in demo)".to_owned(), yaml)
}

fn provider_json(p: &patchbay_domain::provider::Provider) -> serde_json::Value {
    serde_json::json!({
        "id": p.id,
        "display_name": p.display_name,
        "auth_mode": p.auth_mode.as_str(),
        "scopes": p.scopes.keys().collect::<Vec<_>>(),
        "modules": p.modules.keys().map(|m| format!("{}.{m}", p.id)).collect::<Vec<_>>(),
    })
}
