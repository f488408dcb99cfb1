//! `patchbay keys …`: master key ring status and online rotation, and the online rotation of one
//! team's data key. Running servers pick up a rotated key file without a restart (they re-read it
//! before wrapping a new data key), and seal with a team's newest data key at once.

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
    /// Give one team a new data key, re-encrypt its secrets under it and destroy the old key.
    RotateTeam {
        /// Team id or name.
        #[arg(long)]
        team: String,
    },
    /// Copy the key ring to FILE (created 0600, never overwritten) and verify the copy.
    Backup {
        /// Where to write the copy.
        file: std::path::PathBuf,
    },
    /// Check that a key file (a backup) opens this database: every version, every check value.
    Verify {
        /// The key file to check.
        file: std::path::PathBuf,
    },
}

/// Runs a keys command.
pub async fn run(config: &Config, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    // Every keys command works on an existing key ring: a new, empty one would only mislead.
    app::check_installation(config, app::Installation::MustExist)?;
    let patchbay = app::build(config).await?;
    let code = match cmd {
        KeysCommand::Status => {
            let status = patchbay.key_status().await?;
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
            let report = patchbay.rotate_keys().await?;
            println!("new active master-key version: v{}", report.new_version);
            println!("re-wrapped data keys: {}", report.rewrapped);
            if !report.retired.is_empty() {
                println!("retired unused versions: {:?}", report.retired);
            }
            println!("back up the key file now: it is needed to read every secret");
            ExitCode::SUCCESS
        }
        KeysCommand::RotateTeam { team } => {
            let report = patchbay.rotate_team_key_of(&team).await?;
            let verb = if report.resumed { "finished the rotation to" } else { "rotated to" };
            println!("{verb} data key {} of team {team}", report.key_id);
            println!("re-encrypted secret fields: {}", report.reencrypted);
            println!("destroyed data keys: {:?}", report.destroyed);
            if !report.kept.is_empty() {
                println!(
                    "kept data keys {:?}: stored fields still use them ({} cannot be opened, see the log); run rotate-team again",
                    report.kept, report.unreadable
                );
                patchbay.close().await;
                return Ok(ExitCode::FAILURE);
            }
            ExitCode::SUCCESS
        }
        KeysCommand::Backup { file } => {
            let versions = patchbay.backup_keys(&file).await?;
            println!(
                "wrote {} (mode 0600) and verified master-key versions {versions:?} against the database",
                file.display()
            );
            println!("keep it apart from the database backups: together they open every secret");
            ExitCode::SUCCESS
        }
        KeysCommand::Verify { file } => match patchbay.verify_key_file(&file).await {
            Ok(versions) => {
                println!("ok: {} opens this database (master-key versions {versions:?})", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {} does not open this database: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    };
    patchbay.close().await;
    Ok(code)
}
