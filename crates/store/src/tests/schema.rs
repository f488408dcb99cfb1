//! The two engines' migrations describe one schema: the same migration names, and after
//! migrating, the same tables with the same columns (types differ by design and are not compared).

use std::collections::{BTreeMap, BTreeSet};

use super::stores;
use crate::{Engine, Pool, Store};

#[test]
fn both_engines_have_the_same_migrations() {
    assert_eq!(Store::migration_names(Engine::Sqlite), Store::migration_names(Engine::Postgres));
}

type Columns = BTreeMap<String, BTreeSet<String>>;

/// Table → column names of a migrated database, without sqlx's own bookkeeping table.
async fn columns(store: &Store) -> Columns {
    let rows: Vec<(String, String)> = match &store.pool {
        Pool::Sqlite(p) => sqlx::query_as(
            "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Pool::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    let mut out = Columns::new();
    for (table, column) in rows {
        out.entry(table).or_default().insert(column);
    }
    out
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_tables_and_columns() {
    let stores = stores().await;
    let sqlite = columns(&stores[0].0).await;
    assert!(sqlite.get("connections").is_some_and(|c| c.contains("generation")), "{sqlite:?}");
    let Some((pg, _)) = stores.get(1) else {
        eprintln!("PATCHBAY_TEST_DATABASE_URL is not set: the PostgreSQL schema is compared in the PostgreSQL pass");
        return;
    };
    let pg = columns(pg).await;
    for table in sqlite.keys().chain(pg.keys()).collect::<BTreeSet<_>>() {
        assert_eq!(sqlite.get(table), pg.get(table), "columns of table `{table}` (SQLite left, PostgreSQL right)");
    }
}
