//! Configuration (README "Configuration", docs/operations.md): command-line flags override
//! environment variables, which override an optional TOML config file, which overrides the
//! defaults. Each resolved value remembers nothing of where it came from except through
//! `patchbay serve`'s start-up log line.
//!
//! The master key itself is a secret: it may come from `PATCHBAY_MASTER_KEY` but never from a
//! flag (flags are visible in `ps`, docs/security.md S-07) and never from the config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use patchbay_server::TrustedProxies;
use secrecy::SecretString;
use serde::Deserialize;

/// Options shared by every command that opens the data directory.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// TOML config file (keys as below, snake_case).
    #[arg(long, env = "PATCHBAY_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Bind address [default: 127.0.0.1:8080].
    #[arg(long, env = "PATCHBAY_LISTEN", global = true)]
    pub listen: Option<String>,
    /// External base URL; the OAuth redirect URI is {PUBLIC_URL}/oauth/callback [default: http://{listen}].
    #[arg(long, env = "PATCHBAY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Data directory (SQLite file, generated master key) [default: ./patchbay-data].
    #[arg(long, env = "PATCHBAY_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:///path or postgres://… [default: sqlite://{DATA_DIR}/patchbay.db].
    #[arg(long, env = "PATCHBAY_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Master key file [default: {DATA_DIR}/master.key, created 0600 on first start].
    #[arg(long, env = "PATCHBAY_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Extra provider YAML files, loaded after the built-in catalog.
    #[arg(long, env = "PATCHBAY_PROVIDERS_DIR", global = true)]
    pub providers_dir: Option<PathBuf>,
    /// Allow provider URLs on loopback/private networks (tests, demo, on-premises providers).
    #[arg(long, env = "PATCHBAY_ALLOW_PRIVATE_NETWORKS", global = true)]
    pub allow_private_networks: Option<bool>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "PATCHBAY_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// First delay in milliseconds before retrying a failed revocation at a provider [default: 5000].
    #[arg(long, env = "PATCHBAY_REVOCATION_RETRY_MS", global = true, hide = true)]
    pub revocation_retry_ms: Option<u64>,
    /// Milliseconds between scheduler passes (refresh, keep-alive, warnings, webhooks) [default: 1000].
    #[arg(long, env = "PATCHBAY_SCHEDULER_INTERVAL_MS", global = true, hide = true)]
    pub scheduler_interval_ms: Option<u64>,
    /// Days lifecycle events are kept (the audit trail is kept forever) [default: 90].
    #[arg(long, env = "PATCHBAY_EVENT_RETENTION_DAYS", global = true)]
    pub event_retention_days: Option<u32>,
    /// Milliseconds a refresh lease lasts [default: 60000]; keep it above the 20 s request timeout.
    #[arg(long, env = "PATCHBAY_REFRESH_LEASE_MS", global = true, hide = true)]
    pub refresh_lease_ms: Option<u64>,
    /// Test failpoint: milliseconds to pause after taking a refresh lease, before the request leaves.
    #[arg(long, env = "PATCHBAY_FAILPOINT_REFRESH_DELAY_MS", global = true, hide = true)]
    pub failpoint_refresh_delay_ms: Option<u64>,
    /// Largest request or response body the proxy streams through, in bytes [default: 33554432].
    #[arg(long, env = "PATCHBAY_PROXY_MAX_BODY_BYTES", global = true)]
    pub proxy_max_body_bytes: Option<usize>,
    /// Entries of the runtime cache (API tokens, connections; 0 disables it) [default: 20000].
    #[arg(long, env = "PATCHBAY_RUNTIME_CACHE_ENTRIES", global = true)]
    pub runtime_cache_entries: Option<usize>,
    /// Milliseconds a team data-key rotation waits for in-flight writes before its last pass [default: 5000].
    #[arg(long, env = "PATCHBAY_DATA_KEY_SETTLE_MS", global = true, hide = true)]
    pub data_key_settle_ms: Option<u64>,
    /// Reverse proxies whose X-Forwarded-For names the client for the sign-in rate limit:
    /// comma-separated networks or addresses, e.g. `10.0.0.0/8,2001:db8::1` [default: none].
    #[arg(long, env = "PATCHBAY_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
}

/// The config file's shape; unknown keys are errors.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    master_key_file: Option<PathBuf>,
    providers_dir: Option<PathBuf>,
    allow_private_networks: Option<bool>,
    log_format: Option<String>,
    trusted_proxies: Option<String>,
}

/// Where the master key comes from, resolved.
#[derive(Debug, Clone)]
pub enum MasterKey {
    /// `PATCHBAY_MASTER_KEY`.
    Env(SecretString),
    /// A key file.
    File(PathBuf),
}

/// Fully resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bind address.
    pub listen: SocketAddr,
    /// External base URL without trailing slash.
    pub public_url: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Master key source.
    pub master_key: MasterKey,
    /// Extra providers directory.
    pub providers_dir: Option<PathBuf>,
    /// Whether private networks are allowed for provider URLs.
    pub allow_private_networks: bool,
    /// `text` or `json`.
    pub log_format: String,
    /// First delay before retrying a failed revocation.
    pub revocation_retry_base: std::time::Duration,
    /// Time between scheduler passes.
    pub scheduler_interval: std::time::Duration,
    /// How long events are kept.
    pub event_retention_days: u32,
    /// Refresh lease length.
    pub refresh_lease: std::time::Duration,
    /// Test failpoint (see the flag).
    pub failpoint_refresh_delay: Option<std::time::Duration>,
    /// The proxy's body cap.
    pub proxy_max_body_bytes: usize,
    /// Entries of the runtime cache (0: disabled).
    pub runtime_cache_entries: usize,
    /// Proxies whose `X-Forwarded-For` is honoured by the sign-in rate limit.
    pub trusted_proxies: TrustedProxies,
    /// A data-key rotation's pause before its last pass.
    pub data_key_settle: std::time::Duration,
}

impl Config {
    /// Resolves flags/env (already merged by clap) over the config file over defaults.
    pub fn resolve(args: &ConfigArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("config file {} is invalid", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen_text = args.listen.clone().or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("PATCHBAY_LISTEN `{listen_text}` is not an address: write e.g. 127.0.0.1:8080"))?;
        let public_url = args.public_url.clone().or(file.public_url).unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&public_url).with_context(|| {
            format!("PATCHBAY_PUBLIC_URL `{public_url}` is not a URL: write e.g. https://patchbay.example.com")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() || parsed.fragment().is_some() {
            bail!("PATCHBAY_PUBLIC_URL `{public_url}` must be an http(s) base URL without query or fragment");
        }
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("./patchbay-data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("patchbay.db").display()));
        let master_key = match std::env::var("PATCHBAY_MASTER_KEY") {
            Ok(v) if !v.trim().is_empty() => MasterKey::Env(SecretString::from(v)),
            _ => MasterKey::File(
                args.master_key_file.clone().or(file.master_key_file).unwrap_or_else(|| data_dir.join("master.key")),
            ),
        };
        let log_format = args.log_format.clone().or(file.log_format).unwrap_or_else(|| "text".to_owned());
        if !matches!(log_format.as_str(), "text" | "json") {
            bail!("PATCHBAY_LOG_FORMAT `{log_format}` is unknown: use text or json");
        }
        let trusted_proxies =
            TrustedProxies::parse(args.trusted_proxies.as_deref().or(file.trusted_proxies.as_deref()).unwrap_or(""))
                .map_err(anyhow::Error::msg)?;
        Ok(Config {
            listen,
            public_url,
            data_dir,
            database_url,
            master_key,
            providers_dir: args.providers_dir.clone().or(file.providers_dir),
            allow_private_networks: args.allow_private_networks.or(file.allow_private_networks).unwrap_or(false),
            log_format,
            revocation_retry_base: std::time::Duration::from_millis(args.revocation_retry_ms.unwrap_or(5000).max(10)),
            scheduler_interval: std::time::Duration::from_millis(args.scheduler_interval_ms.unwrap_or(1000).max(10)),
            event_retention_days: args.event_retention_days.unwrap_or(90).max(1),
            refresh_lease: std::time::Duration::from_millis(args.refresh_lease_ms.unwrap_or(60_000).max(100)),
            failpoint_refresh_delay: args.failpoint_refresh_delay_ms.map(std::time::Duration::from_millis),
            proxy_max_body_bytes: args.proxy_max_body_bytes.unwrap_or(32 * 1024 * 1024).max(1024),
            runtime_cache_entries: args.runtime_cache_entries.unwrap_or(20_000),
            trusted_proxies,
            data_key_settle: std::time::Duration::from_millis(args.data_key_settle_ms.unwrap_or(5000)),
        })
    }

    /// The SQLite database file, when the database is SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = &self.database_url;
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// Creates the data directory (0700) when the database lives in it.
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        if self.database_url.starts_with("sqlite:") || matches!(self.master_key, MasterKey::File(_)) {
            create_private_dir(&self.data_dir)?;
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_defaults_fill_the_rest() {
        let dir = std::env::temp_dir().join(format!("pb-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\n").unwrap();
        let args =
            ConfigArgs { config: Some(file.clone()), listen: Some("127.0.0.1:9001".into()), ..Default::default() };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen.port(), 9001, "flag beats file");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"), "file beats default");
        assert_eq!(c.database_url, "sqlite:///tmp/x/patchbay.db");
        assert_eq!(c.public_url, "http://127.0.0.1:9001");

        std::fs::write(&file, "listn = \"x\"\n").unwrap();
        let err = Config::resolve(&ConfigArgs { config: Some(file), ..Default::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field `listn`"), "{err:#}");
    }

    #[test]
    fn bad_values_are_explained() {
        let err = Config::resolve(&ConfigArgs { listen: Some("nope".into()), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("is not an address"), "{err}");
        let err =
            Config::resolve(&ConfigArgs { public_url: Some("ftp://x".into()), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("http(s) base URL"), "{err}");
        let err = Config::resolve(&ConfigArgs { trusted_proxies: Some("10.0.0.0/8, lb".into()), ..Default::default() })
            .unwrap_err();
        assert!(err.to_string().contains("PATCHBAY_TRUSTED_PROXIES: `lb` is not an address"), "{err}");
        let ok = Config::resolve(&ConfigArgs { trusted_proxies: Some("10.0.0.0/8".into()), ..Default::default() });
        assert!(ok.unwrap().trusted_proxies.contains("10.1.2.3".parse().unwrap()));
    }
}
