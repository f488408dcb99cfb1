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
        /// Module the connection is for, `provider.module` (repeatable): its scopes are requested.
        #[arg(long = "module")]
        modules: Vec<String>,
        /// Extra scope to request (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
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

/// The API as the client sees it: base URL and token.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl Api {
    /// The client of the server at `url`, with the token of `PATCHBAY_TOKEN`.
    pub(crate) fn from_env(url: &str) -> anyhow::Result<Api> {
        let token = std::env::var("PATCHBAY_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(SecretString::from)
            .context("set PATCHBAY_TOKEN to an API token (create one with `patchbay admin create-token`)")?;
        Ok(Api { http: reqwest::Client::new(), base: url.trim_end_matches('/').to_owned(), token })
    }

    /// Sends a request and prints the JSON answer, or fails with the API's message.
    pub(crate) async fn print(
        &self,
        method: reqwest::Method,
        path: String,
        body: Option<Value>,
    ) -> anyhow::Result<ExitCode> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "HTTP {status}: {}",
                body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message")
            );
        }
        if !body.is_null() {
            println!("{}", serde_json::to_string_pretty(&body)?);
        }
        Ok(ExitCode::SUCCESS)
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: String,
        body: Option<Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret());
        if let Some(b) = body {
            req = req.json(&b);
        }
        Ok(req.send().await?)
    }

    /// `GET path`'s `items`, or nothing when it fails (only for hints).
    async fn items(&self, path: &str) -> Vec<Value> {
        match self.send(reqwest::Method::GET, path.to_owned(), None).await {
            Ok(resp) => {
                resp.json::<Value>().await.ok().and_then(|v| v["items"].as_array().cloned()).unwrap_or_default()
            }
            Err(_) => Vec::new(),
        }
    }
}

/// Runs a connections command against the API.
pub async fn run(args: ConnectionsArgs) -> anyhow::Result<ExitCode> {
    let api = Api::from_env(&args.url)?;
    let is_verify = matches!(args.command, ConnectionsCommand::Verify { .. });
    let table = matches!(args.command, ConnectionsCommand::List { .. });
    let named = named_id(&args.command);
    let resp = send_command(&api, args.command).await?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = cli_message(body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message"));
        let message = message.as_str();
        match failure_hint(&api, named, status, message).await {
            Some(h) => bail!("HTTP {status}: {message}\n{h}"),
            None => bail!("HTTP {status}: {message}"),
        }
    }
    if table && !args.json {
        print_table(&body);
    } else {
        println!("{}", serde_json::to_string_pretty(&body)?);
    }
    // A verify the provider failed is an answer (200), but the check failed: say so in the code.
    if is_verify && body["ok"] != Value::Bool(true) {
        let error = body["error"].as_str().unwrap_or("no reason given");
        eprintln!("error: the check failed: {error}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends the request a command stands for.
async fn send_command(api: &Api, command: ConnectionsCommand) -> anyhow::Result<reqwest::Response> {
    use reqwest::Method;
    match command {
        ConnectionsCommand::List { provider, status } => {
            let mut query = Vec::new();
            if let Some(p) = provider {
                query.push(format!("provider={p}"));
            }
            if let Some(s) = status {
                query.push(format!("status={s}"));
            }
            let qs = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
            api.send(Method::GET, format!("/v1/connections{qs}"), None).await
        }
        ConnectionsCommand::Show { id } => api.send(Method::GET, format!("/v1/connections/{id}"), None).await,
        ConnectionsCommand::Create { provider, name, settings, modules, scopes, no_verify } => {
            let credentials = read_credentials()?;
            let settings: serde_json::Map<String, Value> =
                settings.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let body = json!({"provider": provider, "name": name, "settings": settings, "modules": modules,
                "scopes": scopes, "credentials": credentials, "verify": !no_verify});
            api.send(Method::POST, "/v1/connections".into(), Some(body)).await
        }
        ConnectionsCommand::UpdateCredential { id, no_verify } => {
            let body = json!({"credentials": read_credentials()?, "verify": !no_verify});
            api.send(Method::PUT, format!("/v1/connections/{id}/credentials"), Some(body)).await
        }
        ConnectionsCommand::Rename { id, name } => {
            api.send(Method::PATCH, format!("/v1/connections/{id}"), Some(json!({"name": name}))).await
        }
        ConnectionsCommand::Reauthorize { id, modules, allow_account_change } => {
            let body = json!({"modules": modules, "allow_account_change": allow_account_change});
            api.send(Method::POST, format!("/v1/connections/{id}/reauthorize"), Some(body)).await
        }
        ConnectionsCommand::Verify { id } => api.send(Method::POST, format!("/v1/connections/{id}/verify"), None).await,
        ConnectionsCommand::Delete { id } => api.send(Method::DELETE, format!("/v1/connections/{id}"), None).await,
    }
}

/// "did you mean …?" after an unknown connection id (closest id or name) or provider id.
async fn failure_hint(api: &Api, named: Option<Named>, status: reqwest::StatusCode, message: &str) -> Option<String> {
    match named? {
        Named::Connection(id) if status == reqwest::StatusCode::NOT_FOUND => {
            let list = api.items("/v1/connections").await;
            let known = list.iter().filter_map(|c| {
                let (cid, name) = (c["id"].as_str()?, c["name"].as_str()?);
                Some((format!("{cid} ({name})"), vec![cid.to_owned(), name.to_owned()]))
            });
            did_you_mean(&id, known)
        }
        Named::Provider(id) if status.is_client_error() && message.contains(&format!("`{id}`")) => {
            let list = api.items("/v1/providers").await;
            let known = list.iter().filter_map(|p| p["id"].as_str().map(|pid| (pid.to_owned(), vec![pid.to_owned()])));
            did_you_mean(&id, known)
        }
        _ => None,
    }
}

fn print_table(body: &Value) {
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
}

/// The id a command names, to suggest a close one when the server does not know it.
enum Named {
    Connection(String),
    Provider(String),
}

fn named_id(cmd: &ConnectionsCommand) -> Option<Named> {
    match cmd {
        ConnectionsCommand::Show { id }
        | ConnectionsCommand::Rename { id, .. }
        | ConnectionsCommand::Reauthorize { id, .. }
        | ConnectionsCommand::Verify { id }
        | ConnectionsCommand::UpdateCredential { id, .. }
        | ConnectionsCommand::Delete { id } => Some(Named::Connection(id.clone())),
        ConnectionsCommand::Create { provider, .. } => Some(Named::Provider(provider.clone())),
        ConnectionsCommand::List { .. } => None,
    }
}

/// Edit distance (Levenshtein) of two strings, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// "did you mean …?" for the known entry (label, spellings) closest to `asked`, when one is
/// close enough to be a typo (at most a third of its length away).
fn did_you_mean(asked: &str, known: impl Iterator<Item = (String, Vec<String>)>) -> Option<String> {
    let best = known
        .filter_map(|(label, spellings)| spellings.iter().map(|s| distance(asked, s)).min().map(|d| (d, label)))
        .min_by_key(|(d, _)| *d)?;
    (best.0 <= asked.chars().count().div_ceil(3).max(2)).then(|| format!("did you mean {}?", best.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_the_closest_known_id_and_a_stranger_gets_nothing() {
        let known = || {
            [("democloud".to_owned(), vec!["democloud".to_owned()]), ("github".to_owned(), vec!["github".to_owned()])]
                .into_iter()
        };
        assert_eq!(did_you_mean("demcloud", known()).as_deref(), Some("did you mean democloud?"));
        assert_eq!(did_you_mean("GitHub", known()).as_deref(), Some("did you mean github?"));
        assert_eq!(did_you_mean("salesforce", known()), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

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
