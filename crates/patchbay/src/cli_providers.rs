//! `patchbay providers …`: list the catalog and validate provider files (non-zero exit on any
//! error, each error naming file, line and field); and, through the HTTP API like `patchbay
//! connections` (token from `PATCHBAY_TOKEN`), connect an OAuth server by its URL (`discover`),
//! read its metadata again (`rediscover`) and delete it (`delete`).
//!
//! `list` shows the catalog this configuration loads (built-ins plus `PATCHBAY_PROVIDERS_DIR`,
//! with `--demo` Demo Cloud as `patchbay demo` adds it), or, with `--url`, the one a running
//! server loaded (`GET /v1/providers`): the only way to see exactly what that server offers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use patchbay_providers::Catalog;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::{Config, ConfigArgs};

/// Provider subcommands.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// List the catalog: the one this configuration loads (built-ins plus PATCHBAY_PROVIDERS_DIR;
    /// `--demo` adds Demo Cloud), or with `--url` the one a running server loaded.
    List {
        /// Print JSON (an array of {id, auth_mode, display_name, category, scopes, modules,
        /// endpoints, client}).
        #[arg(long)]
        json: bool,
        /// Print the catalog as Markdown, each provider with its category, auth mode, modules and
        /// their scopes (docs/catalog.md is this for the built-ins).
        #[arg(long, conflicts_with_all = ["json", "url"])]
        markdown: bool,
        /// Include Demo Cloud (`democloud`), which `patchbay demo` loads.
        #[arg(long, conflicts_with = "url")]
        demo: bool,
        /// Ask the server at this URL for the catalog it loaded (`GET /v1/providers`, token from
        /// PATCHBAY_TOKEN): Demo Cloud included when it runs as `patchbay demo`.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Validate provider files.
    Validate {
        /// YAML files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Connect an OAuth server by its URL (an issuer, or a protected resource such as an MCP
    /// server) as a provider of your team: discovery, then dynamic registration unless
    /// `--client-id` is given (its secret is read from stdin with `--client-secret-stdin`).
    Discover {
        /// The issuer or resource URL.
        url: String,
        /// Provider id (default from the URL's host and port).
        #[arg(long)]
        id: Option<String>,
        /// Name shown to users (default the URL's host).
        #[arg(long)]
        name: Option<String>,
        /// Your own OAuth client id, for a server without dynamic registration.
        #[arg(long)]
        client_id: Option<String>,
        /// Read that client's secret from stdin (never from argv).
        #[arg(long, requires = "client_id")]
        client_secret_stdin: bool,
        /// Base URL of the Patchbay server.
        #[arg(long, env = "PATCHBAY_URL", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Read a discovered provider's metadata again (its client is kept).
    Rediscover {
        /// Provider id.
        id: String,
        /// Base URL of the Patchbay server.
        #[arg(long, env = "PATCHBAY_URL", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Delete a discovered provider that no connection uses.
    Delete {
        /// Provider id.
        id: String,
        /// Base URL of the Patchbay server.
        #[arg(long, env = "PATCHBAY_URL", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
}

/// Runs one of the API-backed commands (`discover`, `rediscover`, `delete`).
async fn run_remote(cmd: ProvidersCommand) -> anyhow::Result<ExitCode> {
    use reqwest::Method;
    match cmd {
        ProvidersCommand::Discover { url, id, name, client_id, client_secret_stdin, server } => {
            let secret = if client_secret_stdin {
                let mut input = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
                Some(input.trim().to_owned()).filter(|s| !s.is_empty())
            } else {
                None
            };
            let body = serde_json::json!({"url": url, "id": id, "display_name": name, "client_id": client_id,
                "client_secret": secret});
            crate::cli_connections::Api::from_env(&server)?
                .print(Method::POST, "/v1/providers/discover".into(), Some(body))
                .await
        }
        ProvidersCommand::Rediscover { id, server } => {
            crate::cli_connections::Api::from_env(&server)?
                .print(Method::POST, format!("/v1/providers/{id}/rediscover"), None)
                .await
        }
        ProvidersCommand::Delete { id, server } => {
            crate::cli_connections::Api::from_env(&server)?
                .print(Method::DELETE, format!("/v1/providers/{id}"), None)
                .await?;
            println!("deleted provider {id}");
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCommand::List { .. } | ProvidersCommand::Validate { .. } => unreachable!("local commands"),
    }
}

/// Runs a providers command.
pub async fn run(args: &ConfigArgs, cmd: ProvidersCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        cmd @ (ProvidersCommand::Discover { .. }
        | ProvidersCommand::Rediscover { .. }
        | ProvidersCommand::Delete { .. }) => run_remote(cmd).await,
        ProvidersCommand::List { json, markdown, demo, url } => {
            if markdown {
                let config = Config::resolve(args)?;
                let extra = if demo { vec![demo_cloud_file()] } else { Vec::new() };
                let catalog = crate::app::load_catalog_with(&config, &extra)?;
                print!("{}", patchbay_providers::catalog_doc::render_markdown(catalog.list().map(AsRef::as_ref)));
                return Ok(ExitCode::SUCCESS);
            }
            let list = match url {
                Some(url) => served_catalog(&url).await?,
                None => {
                    let config = Config::resolve(args)?;
                    let extra = if demo { vec![demo_cloud_file()] } else { Vec::new() };
                    let catalog = crate::app::load_catalog_with(&config, &extra)?;
                    catalog.list().map(|p| provider_json(p)).collect()
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<20} {:<26} {:<30} CLIENT", "ID", "AUTH", "NAME");
            for p in &list {
                let field = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
                println!(
                    "{:<20} {:<26} {:<30} {}",
                    field("id"),
                    field("auth_mode"),
                    field("display_name"),
                    client_column(&p["client"])
                );
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

/// The catalog a running server loaded, from its `GET /v1/providers`, in the shape of
/// [`provider_json`].
async fn served_catalog(url: &str) -> anyhow::Result<Vec<Value>> {
    let token =
        std::env::var("PATCHBAY_TOKEN").ok().filter(|t| !t.is_empty()).map(SecretString::from).context(
            "set PATCHBAY_TOKEN to an API token of that server (`patchbay demo` prints an export line for it)",
        )?;
    let endpoint = format!("{}/v1/providers", url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .get(&endpoint)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message");
        bail!("{endpoint}: HTTP {status}: {message}");
    }
    let items = body["items"].as_array().with_context(|| format!("{endpoint} did not answer with a provider list"))?;
    Ok(items.iter().map(served_provider_json).collect())
}

/// The CLIENT column: `-` without OAuth, `configured`, or which variables to set.
fn client_column(client: &Value) -> String {
    if client.is_null() {
        return "-".to_owned();
    }
    if client["configured"].as_bool() == Some(true) {
        return "configured".to_owned();
    }
    let vars: Vec<&str> = client["variables"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if vars.is_empty() {
        "not configured (set client_id in its file, or own client)".to_owned()
    } else {
        format!("not configured (set {})", vars.join(", "))
    }
}

/// A provider of `GET /v1/providers` in the shape of [`provider_json`].
fn served_provider_json(p: &Value) -> Value {
    let names = |list: &str, key: &str| -> Vec<Value> {
        p[list].as_array().into_iter().flatten().filter_map(|i| i[key].as_str()).map(Value::from).collect()
    };
    serde_json::json!({
        "id": p["id"],
        "display_name": p["display_name"],
        "auth_mode": p["auth_mode"],
        "category": p["category"],
        "scopes": names("scopes", "scope"),
        "modules": names("modules", "id"),
        "endpoints": p["endpoints"],
        "client": p["client"],
    })
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
        "category": p.category.unwrap_or(patchbay_domain::provider::Category::Other).as_str(),
        "scopes": p.scopes.keys().collect::<Vec<_>>(),
        "modules": p.modules.keys().map(|m| format!("{}.{m}", p.id)).collect::<Vec<_>>(),
        // The same shapes as `GET /v1/providers`, so both listings read alike.
        "endpoints": patchbay_service::views::EndpointsView::new(p),
        "client": patchbay_service::views::ClientView::new(p),
    })
}
