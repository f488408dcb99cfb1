//! PostgreSQL for tests: `scripts/test` with `PATCHBAY_TEST_POSTGRES=1` starts a throwaway
//! PostgreSQL 15 cluster and exports [`TEST_DATABASE_URL_ENV`]; these helpers hand each test its
//! own empty database on it. Without the variable they return `None` and the test skips its
//! PostgreSQL half.

use sqlx::Connection as _;

/// The variable holding the URL of the test cluster's `patchbay_test` database
/// (a superuser, trust authentication, loopback only).
pub const TEST_DATABASE_URL_ENV: &str = "PATCHBAY_TEST_DATABASE_URL";

/// `PATCHBAY_TEST_DATABASE_URL`, when set and not empty.
pub fn postgres_test_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_ENV).ok().filter(|s| !s.trim().is_empty())
}

/// Creates a new, empty database `patchbay_t_<random hex>` on the test cluster and returns its
/// URL, or `None` when no cluster is configured.
///
/// # Panics
/// When a cluster is configured but cannot be reached or refuses `CREATE DATABASE`.
pub async fn fresh_postgres_database() -> Option<String> {
    let base = postgres_test_url()?;
    let mut url = reqwest::Url::parse(&base).unwrap_or_else(|e| panic!("{TEST_DATABASE_URL_ENV} is not a URL: {e}"));
    let name = format!("patchbay_t_{}", &crate::canary("x")["CANARY-x-".len()..]);
    let mut conn =
        sqlx::PgConnection::connect(&base).await.unwrap_or_else(|e| panic!("connect to {TEST_DATABASE_URL_ENV}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = conn.close().await;
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}
