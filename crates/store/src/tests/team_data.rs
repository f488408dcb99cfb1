//! Everything a team owns (`sealed.rs`, `team_delete.rs`): its sealed fields in all five columns,
//! replaced only while unchanged; a data key destroyed only when no field names it; and the
//! team's deletion, which leaves no row of it behind but its audit trail (and touches no other
//! team).

use std::collections::BTreeSet;

use patchbay_domain::ids::{ConnectionId, TeamId, TokenId, UserId};
use patchbay_domain::principal::Role;
use patchbay_domain::scope::ScopeSet;
use time::Duration;

use super::{connection, now, stores, team};
use crate::*;

/// A field ciphertext's shape: format 1, the key id, then 28 bytes (nonce and tag) tagged `n`.
fn blob(key_id: u32, n: u8) -> Vec<u8> {
    let mut b = vec![1];
    b.extend_from_slice(&key_id.to_be_bytes());
    b.extend(std::iter::repeat_n(n, 28));
    b
}

fn key(team: &TeamId, key_id: u32) -> TeamKeyRow {
    TeamKeyRow { team_id: team.clone(), key_id, master_version: 1, wrapped: vec![9; 61] }
}

/// Runs a statement with text parameters (casts in the SQL make the other types).
async fn exec(store: &Store, sql: &str, binds: &[&str]) {
    with_pool!(store, p => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(p).await.map(|_| ())
    })
    .unwrap();
}

async fn count(store: &Store, table: &str, condition: &str, team: &TeamId) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
    with_pool!(store, p => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(team.as_str()).fetch_one(p).await)
        .unwrap()
}

/// A team with a row in every table it can own, and one sealed field (key `key_id`) in each of
/// the five sealed columns. Returns the connection's id.
async fn populate(store: &Store, t: &TeamId, key_id: u32) -> ConnectionId {
    let c = connection(t, "Everything");
    let secrets = vec![("access_token".to_owned(), blob(key_id, 1))];
    store.insert_connection(NewConnection { connection: &c, secrets: &secrets }).await.unwrap();
    let flow = FlowRow {
        state_hash: format!("state-{}", ConnectionId::generate()),
        team_id: t.clone(),
        connection_id: c.id.clone(),
        provider: "democloud".into(),
        kind: "create".into(),
        requested_scopes: ScopeSet::parse("items:read", " "),
        redirect_uri: "https://patchbay.example/oauth/callback".into(),
        pkce_verifier: Some(blob(key_id, 2)),
        binding: None,
        allow_account_change: false,
        actor: "token:ci".into(),
        return_to: None,
        created_at: now(),
        expires_at: now() + Duration::minutes(10),
    };
    store.insert_flow(&flow).await.unwrap();
    store.insert_connect_session(&super::connect_session(t)).await.unwrap();
    let binding = format!("session-{}", ConnectionId::generate());
    let receipt = KeptReceipt {
        session_binding: &binding,
        team_id: t,
        connection_id: c.id.as_str(),
        body: "{}",
        expires_at: now() + Duration::minutes(15),
    };
    store.keep_receipt(&receipt, now()).await.unwrap();
    let revocation = PendingRevocation {
        id: 0,
        team_id: t.clone(),
        connection_id: c.id.to_string(),
        provider: "democloud".into(),
        settings: "{}".into(),
        hint: "refresh_token".into(),
        token: blob(key_id, 3),
        client_secret: Some(blob(key_id, 4)),
        attempts: 1,
        give_up_at: now() + Duration::hours(24),
        grant_id: None,
    };
    store.insert_pending_revocation(&revocation, now(), "503").await.unwrap();
    let hook = WebhookRow {
        id: format!("whk_{}", &t.as_str()[5..]),
        team_id: t.clone(),
        url: "https://hooks.example/x".into(),
        secret: blob(key_id, 5),
        event_types: vec![],
        created_at: now(),
    };
    store.insert_webhook(&hook).await.unwrap();
    let discovered = crate::TeamProviderRow {
        // Ids are per team; a distinct one keeps "not through another team" meaningful.
        id: format!("items-{}", &t.as_str()[5..17]),
        definition: "{}".into(),
        source_url: "https://items.example/api".into(),
        registered: true,
        client_secret: Some(blob(key_id, 6)),
        discovered_at: now(),
    };
    assert!(store.insert_team_provider(t, &discovered).await.unwrap());
    let event = store.insert_event(t, Some(&c.id), "connection.created", now(), &serde_json::json!({})).await.unwrap();
    store.queue_deliveries(t, event, "connection.created", now()).await.unwrap();
    let scenario = format!("scn_{}", &t.as_str()[5..]);
    let ms = now().unix_timestamp().to_string();
    exec(store, "INSERT INTO scenarios (id, team_id, name, created_at, updated_at) VALUES ($1, $2, 's', CAST($3 AS BIGINT), CAST($3 AS BIGINT))", &[&scenario, t.as_str(), &ms]).await;
    exec(
        store,
        "INSERT INTO scenario_steps (scenario_id, position, module, connection_id) VALUES ($1, 0, 'm', $2)",
        &[&scenario, c.id.as_str()],
    )
    .await;
    exec(store, "INSERT INTO connection_grants (team_id, connection_id, obtained_at, state) VALUES ($1, $2, CAST($3 AS BIGINT), 'current')", &[t.as_str(), c.id.as_str(), &ms]).await;
    let user = UserRow {
        id: UserId::generate(),
        team_id: t.clone(),
        login: format!("{}@example.test", &t.as_str()[5..17]),
        password_hash: "$argon2id$unused".into(),
        role: Role::Admin,
    };
    store.create_user(&user, now()).await.unwrap();
    let session = WebSessionRow {
        team_id: t.clone(),
        user_id: user.id.clone(),
        login: user.login.clone(),
        role: Role::Admin,
        csrf_token: "csrf".into(),
        created_at: now(),
        last_seen_at: now(),
        expires_at: now() + Duration::hours(1),
    };
    store.create_web_session(format!("digest-{}", t.as_str()).as_bytes(), &session).await.unwrap();
    let token = TokenRow {
        id: TokenId::generate(),
        team_id: t.clone(),
        name: "ci".into(),
        role: Role::Admin,
        binding: None,
        expires_at: None,
        last_used_at: None,
    };
    store.create_token(&token, format!("token-{}", t.as_str()).as_bytes(), now()).await.unwrap();
    store.insert_team_key(&key(t, key_id), now()).await.unwrap();
    c.id
}

#[tokio::test]
async fn sealed_fields_are_found_in_every_column_replaced_while_unchanged_and_keys_destroyed_when_unused() {
    for (store, _dir) in stores().await {
        let t = team(&store, "rekey").await;
        let other = team(&store, "rekey-other").await;
        populate(&store, &t, 1).await;
        populate(&store, &other, 1).await;
        store.insert_team_key(&key(&t, 2), now()).await.unwrap();
        assert_eq!(store.team_keys(&t).await.unwrap().iter().map(|k| k.key_id).collect::<Vec<_>>(), [1, 2]);

        let fields = store.team_sealed_fields(&t).await.unwrap();
        let kinds: BTreeSet<&str> = fields
            .iter()
            .map(|f| match f.at {
                SealedAt::ConnectionSecret { .. } => "secret",
                SealedAt::FlowVerifier { .. } => "flow",
                SealedAt::RevocationToken { .. } => "revocation token",
                SealedAt::RevocationClientSecret { .. } => "revocation client secret",
                SealedAt::WebhookSecret { .. } => "webhook",
                SealedAt::TeamProviderSecret { .. } => "team provider client secret",
            })
            .collect();
        assert_eq!(kinds.len(), 6, "every sealed column: {fields:?}");
        assert_eq!(fields.len(), 6);
        assert!(fields.iter().all(|f| f.ciphertext[1..5] == 1u32.to_be_bytes()), "only the team's own fields");

        assert!(!store.destroy_unused_team_key(&t, 1).await.unwrap(), "fields still name key 1");
        assert!(!store.destroy_unused_team_key(&t, 2).await.unwrap(), "the newest key is never destroyed");
        for (i, f) in fields.iter().enumerate() {
            let new = blob(2, 100 + i as u8);
            assert!(!store.replace_sealed_field(&other, f, &new).await.unwrap(), "not through another team");
            assert!(store.replace_sealed_field(&t, f, &new).await.unwrap(), "{f:?}");
            assert!(!store.replace_sealed_field(&t, f, &blob(2, 1)).await.unwrap(), "changed since it was read");
            let left = i + 1 < fields.len();
            assert_eq!(!store.destroy_unused_team_key(&t, 1).await.unwrap(), left, "after {} of 6", i + 1);
        }
        assert_eq!(store.team_keys(&t).await.unwrap().iter().map(|k| k.key_id).collect::<Vec<_>>(), [2]);
        assert!(store.team_sealed_fields(&t).await.unwrap().iter().all(|f| f.ciphertext[1..5] == 2u32.to_be_bytes()));
        assert_eq!(store.team_keys(&other).await.unwrap().len(), 1, "the other team's key is untouched");
        assert!(
            store.team_sealed_fields(&other).await.unwrap().iter().all(|f| f.ciphertext == blob(1, f.ciphertext[5]))
        );
    }
}

/// Every table of the schema, by what a team deletion does with it.
async fn all_tables(store: &Store) -> BTreeSet<String> {
    let rows: Vec<(String,)> = match &store.pool {
        Pool::Sqlite(p) => sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Pool::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn deleting_a_team_leaves_nothing_of_it_but_its_audit_trail() {
    for (store, _dir) in stores().await {
        // A new table must say what a team deletion does with its rows.
        let classified: BTreeSet<String> = TEAM_TABLES
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .chain(KEPT_TABLES.iter().map(|t| (*t).to_owned()))
            .chain(["master_key_checks".to_owned()])
            .collect();
        assert_eq!(all_tables(&store).await, classified, "TEAM_TABLES + KEPT_TABLES + installation-wide tables");

        let t = team(&store, "doomed").await;
        let other = team(&store, "survivor").await;
        populate(&store, &t, 1).await;
        populate(&store, &other, 1).await;
        for (table, condition) in TEAM_TABLES {
            assert!(count(&store, table, condition, &t).await > 0, "the fixture fills {table}");
        }
        let entry = |team| NewAuditEntry {
            team_id: team,
            at: now(),
            actor: "system",
            action: "team.delete",
            connection_id: None,
            outcome: "ok",
            detail: Some("name=doomed"),
        };
        let counts = store.delete_team(&t, &entry(&t)).await.unwrap().expect("the team existed");
        assert!(counts.contains(&("connection_secrets", 1)) && counts.contains(&("team_keys", 1)), "{counts:?}");
        assert!(counts.contains(&("teams", 1)), "{counts:?}");
        for (table, condition) in TEAM_TABLES {
            assert_eq!(count(&store, table, condition, &t).await, 0, "{table} keeps a row of the deleted team");
            assert!(count(&store, table, condition, &other).await > 0, "{table} lost another team's row");
        }
        let trail = store.list_audit(&t, &AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["team.delete"], "written with it");
        assert_eq!(store.find_team(t.as_str()).await.unwrap(), None);
        assert_eq!(store.team_generation(&t).await.unwrap(), None, "cached principals of the team stop matching");
        assert_eq!(store.delete_team(&t, &entry(&t)).await.unwrap(), None, "a second delete finds nothing");
    }
}
