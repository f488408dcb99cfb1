//! `patchbay admin …`: bootstrap directly on the database. The data directory is initialised
//! exactly as `serve` would (database, migrations, master key), so these work before the first
//! `serve`. Passwords are read from stdin, never from argv (docs/security.md S-07).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use patchbay_domain::principal::Role;
use secrecy::{ExposeSecret, SecretString};

use crate::app;
use crate::config::Config;

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a team; prints its id.
    CreateTeam {
        /// Team name (unique).
        name: String,
    },
    /// Create a web UI user; the password is read from stdin (one line).
    CreateUser {
        /// Team id or name.
        #[arg(long)]
        team: String,
        /// Login, e.g. an email address.
        #[arg(long)]
        login: String,
        /// Role: admin, member, viewer.
        #[arg(long, default_value = "member")]
        role: Role,
    },
    /// Create an API token; prints only the token.
    CreateToken {
        /// Team id or name.
        #[arg(long)]
        team: String,
        /// Role: admin, member, viewer, runtime.
        #[arg(long)]
        role: Role,
        /// A name to recognise it by in the audit trail.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a team's API tokens (ids, names, roles; never the secrets).
    ListTokens {
        /// Team id or name.
        #[arg(long)]
        team: String,
    },
    /// Revoke an API token by id (`tok_…`, see list-tokens): it stops working at once.
    RevokeToken {
        /// Team id or name.
        #[arg(long)]
        team: String,
        /// Token id.
        id: String,
    },
    /// List teams.
    ListTeams,
}

/// Runs an admin command.
pub async fn run(config: &Config, cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let patchbay = app::build(config).await?;
    match cmd {
        AdminCommand::CreateTeam { name } => {
            let team = patchbay.create_team(&name).await?;
            println!("{}", team.id);
        }
        AdminCommand::CreateUser { team, login, role } => {
            if role == Role::Runtime {
                anyhow::bail!("the runtime role is for API tokens, not users: use --role admin, member or viewer");
            }
            eprintln!("password for {login} (read from stdin):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
            let password = SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned());
            line.clear();
            let user = patchbay.create_user(&team, &login, &password, role).await?;
            drop(password);
            println!("{}", user.id);
        }
        AdminCommand::CreateToken { team, role, name } => {
            let (_row, secret) = patchbay.create_token(&team, role, &name).await?;
            println!("{}", secret.expose_secret());
        }
        AdminCommand::ListTokens { team } => {
            for (token, created) in patchbay.list_tokens(&team).await? {
                println!("{}\t{}\t{}\t{created}", token.id, token.role, token.name);
            }
        }
        AdminCommand::RevokeToken { team, id } => {
            patchbay.revoke_token(&team, &id).await?;
            println!("revoked {id}");
        }
        AdminCommand::ListTeams => {
            for team in patchbay.list_teams().await? {
                println!("{}\t{}", team.id, team.name);
            }
        }
    }
    patchbay.close().await;
    Ok(ExitCode::SUCCESS)
}
