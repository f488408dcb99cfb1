//! `patchbay keys …`: master key ring status and online rotation. Running servers pick up a
//! rotated key file without a restart (they re-read it before wrapping a new data key).

use std::process::ExitCode;

use clap::Subcommand;

use crate::app;
use crate::config::Config;

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Show key ring versions, the active one, data keys per version, and whether it is sealed.
    Status,
    /// Add a master-key version and re-wrap every data key under it.
    Rotate,
}

/// Runs a keys command.
pub async fn run(config: &Config, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    let patchbay = app::build(config).await?;
    let code = match cmd {
        KeysCommand::Status => {
            let status = patchbay.keys.status(&patchbay.store).await?;
            println!("source:  {}", status.source);
            match &status.sealed {
                Some(reason) => println!("state:   SEALED: {reason}"),
                None => println!("state:   unsealed"),
            }
            println!(
                "versions: {:?} (active: {})",
                status.versions,
                status.active_version.map_or("-".into(), |v| v.to_string())
            );
            for (version, count) in &status.data_keys_by_version {
                println!("  v{version}: {count} team data key(s)");
            }
            if status.sealed.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        KeysCommand::Rotate => {
            let report = patchbay.keys.rotate(&patchbay.store, time::OffsetDateTime::now_utc()).await?;
            println!("new active master-key version: v{}", report.new_version);
            println!("re-wrapped data keys: {}", report.rewrapped);
            if !report.retired.is_empty() {
                println!("retired unused versions: {:?}", report.retired);
            }
            println!("back up the key file now: it is needed to read every secret");
            ExitCode::SUCCESS
        }
    };
    patchbay.store.close().await;
    Ok(code)
}
