//! Patchbay's database: one [`Store`] over SQLite (the embedded default) or PostgreSQL.
//!
//! The URL scheme picks the engine and an unknown scheme is an error, never a silently created
//! SQLite file. Queries are written once with `$N` placeholders, which both engines accept, and
//! run on whichever pool is open through [`with_pool!`]. Each engine has its own migration
//! directory with identical file names, embedded in the binary and applied at start.
//!
//! Every finder that touches team data takes the [`TeamId`](patchbay_domain::ids::TeamId): a
//! connection of another team is indistinguishable from a missing one (docs/security.md T-01).
//!
//! SQLite runs in WAL mode with `synchronous=FULL` so a committed token survives a power cut
//! before it is handed out (docs/security.md R-01, persist before use).

mod audit;
mod connect_sessions;
mod connections;
mod error;
mod grants;
mod keys;
mod lifecycle;
mod oauth;
mod receipts;
mod scenarios;
mod sealed;
mod sessions;
mod team_delete;
mod team_providers;
mod teams;
mod time_col;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use audit::{AuditEntry, AuditQuery, AuditRecord, NewAuditEntry};
pub use connect_sessions::{ConnectSessionRow, ExpiredConnectSession};
pub use connections::{NewConnection, StaticCredentialUpdate};
pub use error::StoreError;
pub use grants::GrantRow;
pub use keys::TeamKeyRow;
pub use lifecycle::{EventQuery, EventRow, Lifecycle, RefreshFailure, RefreshWrite};
pub use oauth::{CredentialUpdate, FlowRow, GrantRecord, PendingRevocation, SupersededRevocation};
pub use receipts::KeptReceipt;
pub use scenarios::Usage;
pub use sealed::{SealedAt, SealedField};
pub use sessions::WebSessionRow;
pub use team_delete::{KEPT_TABLES, TEAM_TABLES};
pub use team_providers::TeamProviderRow;
pub use teams::{TeamRow, TokenRow, UserRow};
pub use webhooks::{DueDelivery, WebhookRow};

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same query code on whichever engine the store has open. The body is expanded once
/// per engine, so each arm is type-checked against its own driver.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.engine())
    }
}

/// How long a PostgreSQL statement waits for a pooled connection before the store reports
/// [`StoreError::Unavailable`].
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database at `url` (`sqlite://path` or `postgres://…`), creating a SQLite file
    /// when missing. Does not migrate; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let pool = if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "the SQLite URL has no file path: write sqlite:///path/to/patchbay.db".into(),
                ));
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
                .map_err(|e| StoreError::BadUrl(format!("cannot read the SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed credential write is on disk before the call returns.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(format!("cannot read the PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                // A request waits at most this long for a connection, then answers 503
                // database_unavailable: while the server is down or failing over, callers get a
                // quick, retryable answer instead of a 10 s hang (see docs/operations.md).
                .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            Pool::Postgres(pool)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::BadUrl(format!(
                "unsupported database URL scheme `{scheme}`: use sqlite:///path/to/patchbay.db or postgres://user@host/db"
            )));
        };
        Ok(Store { pool })
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the embedded migrations of this engine (idempotent; safe when several nodes
    /// start together, as sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        }
        .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Names of the embedded migrations per engine (a test keeps the two lists identical).
    pub fn migration_names(engine: Engine) -> Vec<String> {
        let m = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.iter().map(|m| format!("{}_{}", m.version, m.description)).collect()
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes the pools (graceful shutdown).
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }
}

#[cfg(test)]
mod tests;
