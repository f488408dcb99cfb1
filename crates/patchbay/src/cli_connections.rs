//! `patchbay connections …`: an HTTP client of the API. The token comes from `PATCHBAY_TOKEN`
//! (never a flag: argv is visible to every user of the machine), and secrets for `create` and
//! `update-credential` are read from stdin.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// Connection client options.
#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    /// Base URL of the Patchbay server.
    #[arg(long, env = "PATCHBAY_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Print raw JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: ConnectionsCommand,
}

#[derive(Debug, Subcommand)]
enum ConnectionsCommand {
    /// List the team's connections.
    List {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one connection.
    Show {
        /// Connection id.
        id: String,
    },
    /// Create an API-key or basic-auth connection; the credential JSON object
    /// (`{"api_key": "..."}` or `{"username": "...", "password": "..."}`) is read from stdin.
    Create {
        /// Provider id.
        provider: String,
        /// Name (default "My {provider} connection").
        #[arg(long)]
        name: Option<String>,
        /// Advanced setting KEY=VALUE (repeatable; non-secret settings only).
        #[arg(long = "setting", value_parser = parse_setting)]
        settings: Vec<(String, String)>,
        /// Save without verifying the credential first.
        #[arg(long)]
        no_verify: bool,
    },
    /// Replace the API key or password of a connection in place (same id, name and scenarios);
    /// the credential JSON object is read from stdin, as for `create`. The new one is verified
    /// with the provider first: a rejected one changes nothing.
    UpdateCredential {
        /// Connection id.
        id: String,
        /// Save without verifying the new credential first.
        #[arg(long)]
        no_verify: bool,
    },
    /// Rename a connection.
    Rename {
        /// Connection id.
        id: String,
        /// New name.
        name: String,
    },
    /// Start a new consent flow for an OAuth connection (same id); prints the URL to open.
    Reauthorize {
        /// Connection id.
        id: String,
        /// Modules whose scopes to add (repeatable, `provider.module`).
        #[arg(long = "module")]
        modules: Vec<String>,
        /// Accept a grant for a different account than the stored one.
        #[arg(long)]
        allow_account_change: bool,
    },
    /// Verify a connection with the provider.
    Verify {
        /// Connection id.
        id: String,
    },
    /// Delete a connection (revoked at the provider where supported); prints the receipt.
    Delete {
        /// Connection id.
        id: String,
    },
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// Reads the credential JSON object from stdin (never from argv: it is visible to every user).
fn read_credentials() -> anyhow::Result<Value> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read the credential JSON from stdin")?;
    let credentials: Value = serde_json::from_str(input.trim()).map_err(|_| {
        anyhow::anyhow!(
            "stdin must be a JSON object like {{\"api_key\": \"...\"}} or {{\"username\": \"...\", \"password\": \"...\"}}"
        )
    })?;
    input.clear();
    Ok(credentials)
}

/// An API error message in the CLI's words: the API's `"verify": false` is `--no-verify` here.
fn cli_message(message: &str) -> String {
    message.replace(" (send \"verify\": false)", " (run it again with --no-verify)")
}

/// The STATUS column: `active (not verified)` for a credential saved without a check.
fn status_text(c: &Value) -> String {
    let status = c["status"].as_str().unwrap_or("");
    if c["unverified"].as_bool() == Some(true) { format!("{status} (not verified)") } else { status.to_owned() }
}

/// Runs a connections command against the API.
pub async fn run(args: ConnectionsArgs) -> anyhow::Result<ExitCode> {
    let token = std::env::var("PATCHBAY_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
        .context("set PATCHBAY_TOKEN to an API token (create one with `patchbay admin create-token`)")?;
    let base = args.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut req = client.request(method, format!("{base}{path}")).bearer_auth(token.expose_secret());
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let (resp, table) = match args.command {
        ConnectionsCommand::List { provider, status } => {
            let mut query = Vec::new();
            if let Some(p) = provider {
                query.push(format!("provider={p}"));
            }
            if let Some(s) = status {
                query.push(format!("status={s}"));
            }
            let qs = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
            (send(reqwest::Method::GET, format!("/v1/connections{qs}"), None).await?, true)
        }
        ConnectionsCommand::Show { id } => {
            (send(reqwest::Method::GET, format!("/v1/connections/{id}"), None).await?, false)
        }
        ConnectionsCommand::Create { provider, name, settings, no_verify } => {
            let credentials = read_credentials()?;
            let settings: serde_json::Map<String, Value> =
                settings.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let body = json!({"provider": provider, "name": name, "settings": settings, "credentials": credentials, "verify": !no_verify});
            (send(reqwest::Method::POST, "/v1/connections".into(), Some(body)).await?, false)
        }
        ConnectionsCommand::UpdateCredential { id, no_verify } => {
            let body = json!({"credentials": read_credentials()?, "verify": !no_verify});
            (send(reqwest::Method::PUT, format!("/v1/connections/{id}/credentials"), Some(body)).await?, false)
        }
        ConnectionsCommand::Rename { id, name } => {
            (send(reqwest::Method::PATCH, format!("/v1/connections/{id}"), Some(json!({"name": name}))).await?, false)
        }
        ConnectionsCommand::Reauthorize { id, modules, allow_account_change } => {
            let body = json!({"modules": modules, "allow_account_change": allow_account_change});
            (send(reqwest::Method::POST, format!("/v1/connections/{id}/reauthorize"), Some(body)).await?, false)
        }
        ConnectionsCommand::Verify { id } => {
            (send(reqwest::Method::POST, format!("/v1/connections/{id}/verify"), None).await?, false)
        }
        ConnectionsCommand::Delete { id } => {
            (send(reqwest::Method::DELETE, format!("/v1/connections/{id}"), None).await?, false)
        }
    };
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message");
        bail!("HTTP {status}: {}", cli_message(message));
    }
    if table && !args.json {
        println!("{:<37} {:<30} {:<12} {:<22} ACCOUNT", "ID", "NAME", "PROVIDER", "STATUS");
        for c in body["items"].as_array().into_iter().flatten() {
            println!(
                "{:<37} {:<30} {:<12} {:<22} {}",
                c["id"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap_or(""),
                c["provider"].as_str().unwrap_or(""),
                status_text(c),
                c["account"].as_str().unwrap_or("-"),
            );
        }
    } else {
        println!("{}", serde_json::to_string_pretty(&body)?);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_hint_becomes_the_cli_flag() {
        let api = "could not verify the credential: timeout. Nothing was saved: retry later, or save it without verifying (send \"verify\": false)";
        let cli = cli_message(api);
        assert!(cli.ends_with("save it without verifying (run it again with --no-verify)"), "{cli}");
        assert!(!cli.contains("\"verify\""), "{cli}");
        assert_eq!(cli_message("no connection `x` in your team"), "no connection `x` in your team");
    }

    #[test]
    fn an_unverified_connection_is_not_listed_as_plain_active() {
        assert_eq!(status_text(&json!({"status": "active", "unverified": true})), "active (not verified)");
        assert_eq!(status_text(&json!({"status": "active", "unverified": false})), "active");
    }
}
