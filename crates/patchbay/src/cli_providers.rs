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
    /// List the catalog (built-ins plus PATCHBAY_PROVIDERS_DIR).
    List,
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
        ProvidersCommand::List => {
            let config = Config::resolve(args)?;
            let catalog = crate::app::load_catalog(&config)?;
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
