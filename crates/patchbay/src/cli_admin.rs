//! `patchbay admin …`: bootstrap directly on the database. The data directory is initialised
//! exactly as `serve` would (database, migrations, master key), so these work before the first
//! `serve`. Passwords are read from stdin, never from argv (docs/security.md S-07).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use patchbay_domain::principal::Role;
use patchbay_domain::provider::Lifetime;
use patchbay_service::NewToken;
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
    /// Create an API token; prints only the token. A runtime token can be bound to scenarios
    /// or connections (least privilege); without either it acts for the whole team.
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
        /// Bind a runtime token to this scenario id (repeatable): it may run its steps only.
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        /// Bind a runtime token to this connection id (repeatable).
        #[arg(long = "connection")]
        connections: Vec<String>,
        /// Expire the token after this long: `90d`, `12h`, `30m`, `3600s` (60 s to 400 days).
        #[arg(long)]
        expires_in: Option<String>,
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
    /// Delete a team for good: revoke its connections at their providers, delete all its data
    /// and destroy its data keys, so no copy of its secrets can be opened again. The audit trail
    /// is kept.
    DeleteTeam {
        /// Team id or name.
        team: String,
        /// The team's exact name, to confirm (nothing happens without it).
        #[arg(long)]
        confirm: Option<String>,
        /// Do not revoke at the providers first (e.g. while the master key is lost).
        #[arg(long)]
        no_revoke: bool,
    },
}

/// Runs an admin command.
pub async fn run(config: &Config, cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let need = match cmd {
        AdminCommand::CreateTeam { .. } | AdminCommand::CreateUser { .. } | AdminCommand::CreateToken { .. } => {
            app::Installation::MayCreate
        }
        AdminCommand::ListTokens { .. }
        | AdminCommand::RevokeToken { .. }
        | AdminCommand::ListTeams
        | AdminCommand::DeleteTeam { .. } => app::Installation::MustExist,
    };
    app::check_installation(config, need)?;
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
        AdminCommand::CreateToken { team, role, name, scenarios, connections, expires_in } => {
            let expires_in = expires_in
                .map(|text| Lifetime::parse(&text).map(|l| l.seconds))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--expires-in: {e}"))?;
            let new = NewToken {
                role,
                name,
                scenarios: (!scenarios.is_empty()).then_some(scenarios),
                connections: (!connections.is_empty()).then_some(connections),
                expires_in,
            };
            let (_row, secret) = patchbay.create_token_with(&team, new, "system").await?;
            println!("{}", secret.expose_secret());
        }
        AdminCommand::ListTokens { team } => {
            for (token, created) in patchbay.list_tokens(&team).await? {
                let limits = match &token.binding {
                    None => "team-wide".to_owned(),
                    Some(b) => {
                        let ids: Vec<String> = b
                            .scenarios
                            .iter()
                            .map(|s| s.to_string())
                            .chain(b.connections.iter().map(|c| c.to_string()))
                            .collect();
                        format!("bound:{}", ids.join(","))
                    }
                };
                let expires = token.expires_at.map_or_else(|| "never".to_owned(), |t| t.to_string());
                println!("{}\t{}\t{}\t{created}\t{limits}\texpires:{expires}", token.id, token.role, token.name);
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
        AdminCommand::DeleteTeam { team, confirm, no_revoke } => {
            let code = delete_team(&patchbay, &team, confirm.as_deref(), !no_revoke).await;
            patchbay.close().await;
            return code;
        }
    }
    patchbay.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `admin delete-team`: refuses without the exact name (saying what would be deleted), then
/// prints what happened to each connection at its provider.
async fn delete_team(
    patchbay: &patchbay_service::Patchbay,
    team: &str,
    confirm: Option<&str>,
    revoke: bool,
) -> anyhow::Result<ExitCode> {
    let Some(confirm) = confirm else {
        let row = patchbay.find_team(team).await?;
        eprintln!(
            "error: this deletes team `{}` ({}) for good: its connections (revoked at their providers first), users, \
             tokens, scenarios, webhooks and events, and destroys its data keys. Nothing was changed. To go ahead, \
             repeat its name: patchbay admin delete-team {} --confirm '{}'",
            row.name, row.id, row.id, row.name
        );
        return Ok(ExitCode::FAILURE);
    };
    let report = patchbay.delete_team(team, confirm, revoke).await.map_err(|e| match e {
        patchbay_service::ServiceError::Sealed(m) => anyhow::anyhow!("{m} (--no-revoke)"),
        e => e.into(),
    })?;
    for c in &report.connections {
        println!("connection {} ({}, {})", c.id, c.name, c.provider);
        for r in &c.revocation {
            println!("  {}: {}: {}", r.credential, r.outcome.as_str(), r.detail);
        }
    }
    let rows: Vec<String> = report.rows.iter().map(|(t, n)| format!("{t}={n}")).collect();
    println!("deleted team {} ({}): {}", report.name, report.team_id, rows.join(" "));
    println!("its data keys are destroyed: no copy of its secrets can be opened again");
    if report.still_valid_at_providers > 0 {
        println!(
            "{} credential(s) may still work at their providers: revoke them there by hand",
            report.still_valid_at_providers
        );
    }
    Ok(ExitCode::SUCCESS)
}
