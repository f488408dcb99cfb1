//! The PostgreSQL test cluster started by `scripts/test` (`PATCHBAY_TEST_POSTGRES=1`): each
//! [`fresh_postgres_database`] call yields a distinct, empty, usable database. Skips without it.

use patchbay_testkit::{fresh_postgres_database, postgres_test_url};
use sqlx::Connection as _;

#[tokio::test]
async fn fresh_databases_are_distinct_and_usable() {
    let Some(first) = fresh_postgres_database().await else {
        assert!(postgres_test_url().is_none());
        eprintln!("PATCHBAY_TEST_DATABASE_URL not set: skipping (scripts/test with PATCHBAY_TEST_POSTGRES=1 sets it)");
        return;
    };
    let second = fresh_postgres_database().await.expect("second database");
    assert_ne!(first, second);
    for url in [&first, &second] {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        let (db, version): (String, String) =
            sqlx::query_as("SELECT current_database(), current_setting('server_version')")
                .fetch_one(&mut conn)
                .await
                .expect("query");
        assert!(url.ends_with(&format!("/{db}")), "{url} vs {db}");
        assert!(version.starts_with("15"), "PostgreSQL 15 expected, got {version}");
        let (tables,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut conn)
            .await
            .expect("count tables");
        assert_eq!(tables, 0, "a fresh database is empty");
    }
}
