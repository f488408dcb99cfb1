//! The composition root: the only place that names concrete adapters and wires them into the
//! service. The binary builds with the system clock; in-process tests build the same service with
//! a clock they control ([`build_with_clock`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use patchbay_domain::clock::{Clock, SystemClock};
use patchbay_providers::{Catalog, GuardOptions, GuardedClient};
use patchbay_service::{KeyService, KeySource, Patchbay, PatchbayParts, ServiceConfig};
use patchbay_store::Store;

use crate::config::{Config, MasterKey};

/// Opens (creating when needed) and migrates the database.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    config.ensure_data_dir()?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    restrict_sqlite_files(&config.database_url);
    Ok(store)
}

/// What a command does to the installation it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installation {
    /// It only reads: refuse when there is no database, rather than create an empty one.
    MustExist,
    /// It may create things: a new database is fine, and is announced on stderr.
    MayCreate,
}

/// Checks the SQLite database against what the command needs before anything is opened:
/// a read-only command refuses a missing database naming the path it looked at; another
/// command announces that it initialises a new data directory. (PostgreSQL: nothing to check
/// here; the server's database must exist anyway.)
pub fn check_installation(config: &Config, need: Installation) -> anyhow::Result<()> {
    let Some(db) = config.sqlite_path() else { return Ok(()) };
    if db.exists() {
        return Ok(());
    }
    match need {
        Installation::MustExist => anyhow::bail!(
            "no Patchbay database at {}: nothing was created. Run this where the server keeps its data \
             (set PATCHBAY_DATA_DIR or --data-dir, or PATCHBAY_DATABASE_URL), or create an installation first \
             (`patchbay migrate`, `patchbay serve`)",
            db.display()
        ),
        Installation::MayCreate => {
            eprintln!("initialised a new data directory at {} (database {})", config.data_dir.display(), db.display());
            Ok(())
        }
    }
}

/// The database holds ciphertexts, token digests and audit records: readable by its owner only,
/// whatever the umask (the data directory is 0700 too, but may have been created by someone else).
fn restrict_sqlite_files(url: &str) {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return };
    let path = path.split('?').next().unwrap_or(path);
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        if std::path::Path::new(&file).exists()
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(file, error = %e, "cannot restrict the database file to its owner");
        }
    }
}

/// Loads the provider catalog: built-ins plus `PATCHBAY_PROVIDERS_DIR`.
pub fn load_catalog(config: &Config) -> anyhow::Result<Catalog> {
    Catalog::load(config.providers_dir.as_deref(), &|name| std::env::var(name).ok())
        .map_err(|errors| anyhow::anyhow!("the provider catalog has errors:\n{errors}"))
}

/// [`load_catalog`] plus extra provider files (`(name, YAML)`), as the demo loads Demo Cloud.
pub fn load_catalog_with(config: &Config, extra_providers: &[(String, String)]) -> anyhow::Result<Catalog> {
    let mut catalog = load_catalog(config)?;
    for (name, text) in extra_providers {
        catalog.add_source(name, text, &|var| std::env::var(var).ok()).map_err(|errors| {
            anyhow::anyhow!(
                "{name} is invalid: {}",
                errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            )
        })?;
    }
    Ok(catalog)
}

/// Builds the whole service: store, key ring (sealed when the key does not match), catalog and
/// the guarded HTTP client.
pub async fn build(config: &Config) -> anyhow::Result<Arc<Patchbay>> {
    build_with(config, &[]).await
}

/// [`build`] with extra provider files (`(name, YAML)`) added after the catalog, as the demo does.
pub async fn build_with(config: &Config, extra_providers: &[(String, String)]) -> anyhow::Result<Arc<Patchbay>> {
    build_with_clock(config, extra_providers, Arc::new(SystemClock)).await
}

/// [`build_with`] on a given clock: every use-case, and the key ring's opening, read time from it.
pub async fn build_with_clock(
    config: &Config,
    extra_providers: &[(String, String)],
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<Patchbay>> {
    build_with_http(config, extra_providers, clock, None).await
}

/// [`build_with_clock`] with the outbound client given instead of made from the configuration
/// (the conformance kit passes one that resolves real host names to its loopback emulators and
/// trusts only its throwaway CA; such a client can only be made in test builds).
pub async fn build_with_http(
    config: &Config,
    extra_providers: &[(String, String)],
    clock: Arc<dyn Clock>,
    http: Option<GuardedClient>,
) -> anyhow::Result<Arc<Patchbay>> {
    let store = open_store(config).await?;
    let mut catalog = load_catalog_with(config, extra_providers)?;
    let source = match &config.master_key {
        MasterKey::Env(v) => KeySource::Env(v.clone()),
        MasterKey::File(p) => KeySource::File(p.clone()),
    };
    let keys = KeyService::open(&store, source, clock.now()).await.context("cannot open the key ring")?;
    let http = match http {
        Some(http) => http,
        None => GuardedClient::new(client_options(config)).context("cannot build the HTTP client")?,
    };
    // `discovery_url` fills endpoints through the same guarded client as every provider call.
    catalog
        .resolve_discovery(&http)
        .await
        .map_err(|errors| anyhow::anyhow!("the provider catalog has errors:\n{errors}"))?;
    let mut service_config = ServiceConfig::new(&config.public_url);
    service_config.revocation_retry_base = config.revocation_retry_base;
    service_config.refresh_lease = time::Duration::try_from(config.refresh_lease).unwrap_or(time::Duration::minutes(1));
    service_config.failpoint_refresh_delay = config.failpoint_refresh_delay;
    service_config.proxy_max_body_bytes = config.proxy_max_body_bytes;
    service_config.runtime_cache_entries = config.runtime_cache_entries;
    service_config.data_key_settle = config.data_key_settle;
    service_config.event_retention = time::Duration::days(i64::from(config.event_retention_days));
    Ok(Arc::new(Patchbay::new(PatchbayParts {
        store,
        catalog: Arc::new(catalog),
        http,
        keys,
        clock,
        config: service_config,
    })))
}

/// The outbound client's limits for `config`.
pub fn client_options(config: &Config) -> GuardOptions {
    GuardOptions {
        allow_private_networks: config.allow_private_networks,
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(20),
        max_response_bytes: 1024 * 1024,
    }
}
