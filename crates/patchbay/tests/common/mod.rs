//! Shared set-up of the black-box tests: a mock provider on loopback, a real `patchbay serve`
//! process using it, and two teams with tokens of every role. [`ProcessWorld`] is the part every
//! process world shares (the engine, the process, team `acme` and its clients); [`World`] adds
//! the mock provider, [`oauth::OAuthWorld`] Demo Cloud. [`test_app::TestApp`] is the in-process
//! counterpart.

#![allow(dead_code)]

pub mod oauth;
pub mod test_app;

use patchbay_testkit::{MockProvider, PatchbayClient, PatchbayOptions, PatchbayProcess};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A running Patchbay wired to a mock provider.
pub struct World {
    pub mock: MockProvider,
    pub providers: TempDir,
    pub app: PatchbayProcess,
    pub team: String,
    pub admin: PatchbayClient,
    pub member: PatchbayClient,
    pub viewer: PatchbayClient,
    pub runtime: PatchbayClient,
    pub other_team: PatchbayClient,
}

pub const BIN: &str = env!("CARGO_BIN_EXE_patchbay");

/// A `patchbay serve` process on this run's engine with team `acme` and a client per role.
pub struct ProcessWorld {
    pub app: PatchbayProcess,
    pub team: String,
    pub admin: PatchbayClient,
    pub member: PatchbayClient,
    pub viewer: PatchbayClient,
    pub runtime: PatchbayClient,
}

impl ProcessWorld {
    /// Starts the binary with `providers` as its providers directory and `extra_env` (plus the
    /// engine's), then creates team `acme` and its admin, member, viewer and runtime tokens.
    pub async fn start(providers: &std::path::Path, mut extra_env: Vec<(String, String)>) -> ProcessWorld {
        extra_env.extend(engine_env().await);
        let app = PatchbayProcess::start(
            BIN,
            PatchbayOptions { providers_dir: Some(providers.to_path_buf()), extra_env, data_dir: None },
        )
        .await;
        let team = app.create_team("acme").await;
        let admin = app.client(&app.create_token(&team, "admin").await);
        let member = app.client(&app.create_token(&team, "member").await);
        let viewer = app.client(&app.create_token(&team, "viewer").await);
        let runtime = app.client(&app.create_token(&team, "runtime").await);
        ProcessWorld { app, team, admin, member, viewer, runtime }
    }
}

impl World {
    pub async fn start() -> World {
        Self::start_with(Vec::new()).await
    }

    pub async fn start_with(extra_env: Vec<(String, String)>) -> World {
        let mock = MockProvider::start().await;
        let providers = mock.write_providers_dir();
        let ProcessWorld { app, team, admin, member, viewer, runtime } =
            ProcessWorld::start(providers.path(), extra_env).await;
        let other = app.create_team("globex").await;
        let other_team = app.client(&app.create_token(&other, "admin").await);
        World { mock, providers, app, team, admin, member, viewer, runtime, other_team }
    }

    /// Creates a verified bearer-key connection and returns its JSON.
    pub async fn bearer_connection(&self, key: &str, account: &str, name: Option<&str>) -> Value {
        self.mock.add_key(key, account);
        let (status, body) = self
            .member
            .post("/v1/connections", &json!({"provider": "mock-bearer", "name": name, "credentials": {"api_key": key}}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["connection"].clone()
    }
}

/// The `error.code` of an error envelope.
pub fn code(body: &Value) -> &str {
    body.pointer("/error/code").and_then(Value::as_str).unwrap_or("<no error code>")
}

/// The `error.message` of an error envelope.
pub fn message(body: &Value) -> &str {
    body.pointer("/error/message").and_then(Value::as_str).unwrap_or("<no error message>")
}

/// Whether this run puts every Patchbay process on PostgreSQL (`PATCHBAY_TEST_ENGINE=postgres`,
/// set by `scripts/test` for its second pass).
pub fn on_postgres() -> bool {
    std::env::var("PATCHBAY_TEST_ENGINE").as_deref() == Ok("postgres")
}

/// The environment that selects this run's engine: a fresh PostgreSQL database per process
/// under `PATCHBAY_TEST_ENGINE=postgres`, else nothing (the SQLite default).
pub async fn engine_env() -> Vec<(String, String)> {
    if !on_postgres() {
        return Vec::new();
    }
    let url = patchbay_testkit::fresh_postgres_database()
        .await
        .expect("PATCHBAY_TEST_ENGINE=postgres needs PATCHBAY_TEST_DATABASE_URL (scripts/test starts a cluster)");
    vec![("PATCHBAY_DATABASE_URL".into(), url)]
}

/// Skips a test that edits the SQLite file directly, saying so.
pub fn sqlite_only(test: &str) -> bool {
    if on_postgres() {
        eprintln!("{test}: SQLite only (it reads or edits the database file directly); covered by the SQLite pass");
        return true;
    }
    false
}

/// Direct database access for assertions, on either engine.
pub enum TestDb {
    /// The process's SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// The process's PostgreSQL database.
    Postgres(sqlx::PgPool),
}

impl TestDb {
    /// Opens the database a Patchbay process uses.
    pub async fn open(app: &PatchbayProcess) -> TestDb {
        match app.env().iter().find(|(k, _)| k == "PATCHBAY_DATABASE_URL") {
            Some((_, url)) => TestDb::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
            None => TestDb::Sqlite(
                sqlx::SqlitePool::connect(&format!("sqlite://{}", app.data_dir().join("patchbay.db").display()))
                    .await
                    .unwrap(),
            ),
        }
    }

    /// Runs a statement without parameters.
    pub async fn execute(&self, sql: &'static str) {
        match self {
            TestDb::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            TestDb::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap()
    }

    /// Runs a `SELECT COUNT(*) …` without parameters.
    pub async fn count(&self, sql: &'static str) -> i64 {
        match self {
            TestDb::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            TestDb::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap()
    }
}
