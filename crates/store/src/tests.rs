//! Store conformance tests. They run on SQLite always and on PostgreSQL too when
//! `PATCHBAY_TEST_DATABASE_URL` names a throwaway database (the test script sets it).
//!
//! This module owns the shared fixtures ([`stores`], [`now`], [`team`], [`connection`]) used by
//! every store test, here, in the submodules (one per concern: leases and fencing, consent flows,
//! claim queues, schema) and in `#[cfg(test)]` modules next to the queries (`sessions.rs`).

mod claims;
mod flows;
mod generations;
mod leases;
mod schema;
mod team_data;

use std::collections::BTreeMap;

use patchbay_domain::connection::{Connection, ConnectionStatus, VerifyResult};
use patchbay_domain::ids::{ConnectionId, TeamId, TokenId};
use patchbay_domain::principal::Role;
use patchbay_domain::scope::ScopeSet;
use time::OffsetDateTime;

use crate::*;

/// A migrated store per engine: SQLite in a temp dir (kept alive by the returned `TempDir`), and
/// PostgreSQL when `PATCHBAY_TEST_DATABASE_URL` is set.
pub(crate) async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![(sqlite, Some(dir))];
    if let Ok(url) = std::env::var("PATCHBAY_TEST_DATABASE_URL") {
        let pg = Store::connect(&url).await.unwrap();
        pg.migrate().await.unwrap();
        out.push((pg, None));
    }
    out
}

/// A fixed instant every test measures from.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// A new team with a per-run unique name.
pub(crate) async fn team(store: &Store, name: &str) -> TeamId {
    let id = TeamId::generate();
    // Unique per run so a shared PostgreSQL database can be reused between runs.
    let name = format!("{name}-{}", &id.as_str()[5..13]);
    store.create_team(&TeamRow { id: id.clone(), name, created_at: now() }).await.unwrap();
    id
}

/// An active connection row of `team` (not yet inserted).
pub(crate) fn connection(team: &TeamId, name: &str) -> Connection {
    Connection {
        id: ConnectionId::generate(),
        team_id: team.clone(),
        provider: "stripe".into(),
        name: name.into(),
        status: ConnectionStatus::Active,
        status_reason: None,
        account: Some("acct".into()),
        account_id: None,
        granted_scopes: ScopeSet::parse("read write", " "),
        requested_scopes: ScopeSet::parse("admin", " "),
        settings: BTreeMap::from([("subdomain".to_owned(), "acme".to_owned())]),
        credential_fingerprint: Some("abcd1234".into()),
        expires_at: None,
        reauthorize_by: Some(now()),
        last_verify: None,
        last_authorization: None,
        created_at: now(),
        updated_at: now(),
        end_user: None,
        metadata: Default::default(),
    }
}

/// A connect session of `team` (not yet inserted), its token's digest unique per call.
pub(crate) fn connect_session(team: &TeamId) -> crate::ConnectSessionRow {
    use patchbay_domain::end_user::EndUser;
    use patchbay_domain::ids::ConnectSessionId;
    crate::ConnectSessionRow {
        id: ConnectSessionId::generate().to_string(),
        team_id: team.clone(),
        token_digest: patchbay_domain::random::sha256(patchbay_domain::random::token(32).as_bytes()),
        end_user: EndUser { id: "user-42".into(), display_name: Some("Ada".into()) },
        allowed_providers: vec!["stripe".into()],
        modules: vec![],
        scopes: vec!["read".into()],
        connection_id: None,
        return_url: Some("https://platform.example/done".into()),
        allowed_origins: vec!["https://platform.example".into()],
        created_by: "token:ci (tok_1)".into(),
        created_at: now(),
        expires_at: now() + time::Duration::minutes(30),
        cookie_digest: None,
        csrf_token: None,
        opened_at: None,
        completed_at: None,
        connection_made: None,
    }
}

#[tokio::test]
async fn unknown_schemes_are_refused_not_created() {
    let err = Store::connect("mysql://localhost/x").await.unwrap_err();
    assert!(err.to_string().contains("unsupported database URL scheme `mysql`"), "{err}");
    let err = Store::connect("patchbay.db").await.unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
}

#[tokio::test]
async fn connections_round_trip_and_stay_in_their_team() {
    for (store, _dir) in stores().await {
        let a = team(&store, "a").await;
        let b = team(&store, "b").await;
        let c = connection(&a, "My Stripe connection");
        let secrets = vec![("api_key".to_owned(), vec![1, 2, 3])];
        store.insert_connection(NewConnection { connection: &c, secrets: &secrets }).await.unwrap();

        assert_eq!(store.get_connection(&a, &c.id).await.unwrap().unwrap(), c);
        assert_eq!(store.get_connection(&b, &c.id).await.unwrap(), None, "other team sees nothing");
        assert!(store.connection_secrets(&b, &c.id).await.unwrap().is_empty());
        assert_eq!(store.connection_secrets(&a, &c.id).await.unwrap(), secrets);
        assert!(!store.rename_connection(&b, &c.id, "x", now()).await.unwrap());
        assert!(!store.delete_connection(&b, &c.id).await.unwrap());

        // Same name in the same team clashes; in another team it is fine.
        let dup = connection(&a, "My Stripe connection");
        let err = store.insert_connection(NewConnection { connection: &dup, secrets: &[] }).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(store.get_connection(&a, &dup.id).await.unwrap().is_none(), "no half-written row");
        let other = connection(&b, "My Stripe connection");
        store.insert_connection(NewConnection { connection: &other, secrets: &[] }).await.unwrap();

        let names = store.connection_names_like(&a, "My Stripe").await.unwrap();
        assert_eq!(names, vec!["My Stripe connection".to_owned()]);

        let result =
            VerifyResult { ok: false, account: None, account_id: None, checked_at: now(), error: Some("401".into()) };
        store.record_verify(&a, &c.id, ConnectionStatus::NeedsReauth, Some("rejected"), &result).await.unwrap();
        let got = store.get_connection(&a, &c.id).await.unwrap().unwrap();
        assert_eq!(got.status, ConnectionStatus::NeedsReauth);
        assert_eq!(got.account.as_deref(), Some("acct"), "a failed verify keeps the account");
        assert_eq!(got.last_verify, Some(result));

        assert!(store.delete_connection(&a, &c.id).await.unwrap());
        assert!(store.get_connection(&a, &c.id).await.unwrap().is_none());
        assert!(store.connection_secrets(&a, &c.id).await.unwrap().is_empty());
        assert_eq!(store.list_connections(&b).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_static_credential_is_replaced_in_place_or_not_at_all() {
    for (store, _dir) in stores().await {
        let a = team(&store, "upd").await;
        let b = team(&store, "upd-other").await;
        let c = Connection {
            status: ConnectionStatus::NeedsReauth,
            status_reason: Some("401".into()),
            ..connection(&a, "Keys")
        };
        store
            .insert_connection(NewConnection { connection: &c, secrets: &[("api_key".to_owned(), vec![1, 1, 1])] })
            .await
            .unwrap();
        let verified = VerifyResult {
            ok: true,
            account: Some("new@acct".into()),
            account_id: None,
            checked_at: now(),
            error: None,
        };
        let new_secret = vec![("api_key".to_owned(), vec![2, 2, 2])];
        let update = StaticCredentialUpdate {
            team: &a,
            id: &c.id,
            secrets: &new_secret,
            status: ConnectionStatus::Active,
            account: Some("new@acct"),
            last_verify: Some(&verified),
            fingerprint: "ffff0000",
            now: now(),
        };
        // Another team's id changes nothing.
        assert!(!store.replace_static_credential(&StaticCredentialUpdate { team: &b, ..update }).await.unwrap());
        // A field that is not stored: refused, and the metadata update is rolled back.
        let wrong = vec![("password".to_owned(), vec![3])];
        assert!(!store.replace_static_credential(&StaticCredentialUpdate { secrets: &wrong, ..update }).await.unwrap());
        assert_eq!(store.get_connection(&a, &c.id).await.unwrap().unwrap(), c, "nothing changed");
        assert_eq!(store.connection_secrets(&a, &c.id).await.unwrap(), vec![("api_key".to_owned(), vec![1, 1, 1])]);

        assert!(store.replace_static_credential(&update).await.unwrap());
        let got = store.get_connection(&a, &c.id).await.unwrap().unwrap();
        assert_eq!((got.status, got.status_reason.clone()), (ConnectionStatus::Active, None));
        assert_eq!(got.account.as_deref(), Some("new@acct"));
        assert_eq!(got.credential_fingerprint.as_deref(), Some("ffff0000"));
        assert_eq!(got.last_verify, Some(verified.clone()));
        assert_eq!((got.id.clone(), got.name.clone()), (c.id.clone(), c.name.clone()), "same id and name");
        assert_eq!(store.connection_secrets(&a, &c.id).await.unwrap(), new_secret, "one row, overwritten");
    }
}

#[tokio::test]
async fn requested_scopes_are_remembered_until_replaced() {
    for (store, _dir) in stores().await {
        let a = team(&store, "req").await;
        let c = connection(&a, "Asked");
        store.insert_connection(NewConnection { connection: &c, secrets: &[] }).await.unwrap();
        assert_eq!(store.get_connection(&a, &c.id).await.unwrap().unwrap().requested_scopes, c.requested_scopes);
        let more = ScopeSet::parse("admin items:write", " ");
        assert!(store.set_requested_scopes(&a, &c.id, &more).await.unwrap());
        assert_eq!(store.get_connection(&a, &c.id).await.unwrap().unwrap().requested_scopes, more);
    }
}

#[tokio::test]
async fn tokens_are_found_by_digest_only() {
    for (store, _dir) in stores().await {
        let t = team(&store, "tok").await;
        let row = TokenRow {
            id: TokenId::generate(),
            team_id: t.clone(),
            name: "ci".into(),
            role: Role::Runtime,
            binding: None,
            expires_at: None,
            last_used_at: None,
        };
        let digest = row.id.as_str().as_bytes().to_vec();
        store.create_token(&row, &digest, now()).await.unwrap();
        assert_eq!(store.find_token(&digest).await.unwrap(), Some(row));
        assert_eq!(store.find_token(b"nope").await.unwrap(), None);
    }
}

#[tokio::test]
async fn audit_pages_newest_first_per_team() {
    for (store, _dir) in stores().await {
        let t = team(&store, "audit").await;
        for i in 0..5 {
            let detail = format!("n{i}");
            store
                .append_audit(&NewAuditEntry {
                    team_id: &t,
                    at: now(),
                    actor: "system",
                    action: "connection.create",
                    connection_id: if i % 2 == 0 { Some("con_x") } else { None },
                    outcome: "ok",
                    detail: Some(&detail),
                })
                .await
                .unwrap();
        }
        let all = store.list_audit(&t, &AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].detail.as_deref(), Some("n4"));
        let page = store
            .list_audit(&t, &AuditQuery { limit: 2, before_id: Some(all[1].id), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(page.iter().map(|e| e.detail.clone().unwrap()).collect::<Vec<_>>(), ["n2", "n1"]);
        let only = store
            .list_audit(&t, &AuditQuery { limit: 10, connection_id: Some("con_x".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(only.len(), 3);
    }
}

#[tokio::test]
async fn key_material_rows() {
    for (store, _dir) in stores().await {
        let t = team(&store, "keys").await;
        let row = TeamKeyRow { team_id: t.clone(), key_id: 1, master_version: 1, wrapped: vec![9; 40] };
        store.insert_team_key(&row, now()).await.unwrap();
        assert!(matches!(store.insert_team_key(&row, now()).await, Err(StoreError::Conflict(_))));
        assert_eq!(store.current_team_key(&t).await.unwrap(), Some(row.clone()));
        let rewrapped = TeamKeyRow { master_version: 2, wrapped: vec![7; 40], ..row.clone() };
        assert!(store.rewrap_team_key(&rewrapped, 1).await.unwrap());
        assert!(!store.rewrap_team_key(&rewrapped, 1).await.unwrap(), "fenced on the old version");
        assert_eq!(store.team_key(&t, 1).await.unwrap(), Some(rewrapped));
    }
}

#[tokio::test]
async fn event_retention_keeps_recent_events_and_pending_deliveries() {
    for (store, _dir) in stores().await {
        let t = team(&store, "events").await;
        let old = now() - time::Duration::days(100);
        let data = serde_json::json!({"k": "v"});
        let stale = store.insert_event(&t, None, "connection.refreshed", old, &data).await.unwrap();
        let awaited = store.insert_event(&t, None, "connection.created", old, &data).await.unwrap();
        let recent = store.insert_event(&t, None, "connection.created", now(), &data).await.unwrap();
        let hook = WebhookRow {
            id: format!("whk_{}", &t.as_str()[5..]),
            team_id: t.clone(),
            url: "https://hooks.example/x".into(),
            secret: vec![1, 2, 3],
            event_types: vec!["connection.created".into()],
            created_at: old,
        };
        store.insert_webhook(&hook).await.unwrap();
        store.queue_deliveries(&t, awaited, "connection.created", old).await.unwrap();
        store.prune_events(now() - time::Duration::days(90)).await.unwrap();
        let left: Vec<i64> = store
            .list_events(&t, &EventQuery { limit: 10, ..Default::default() })
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert!(!left.contains(&stale), "an old event with no pending delivery is pruned");
        assert!(left.contains(&awaited), "an event still owed to a webhook stays");
        assert!(left.contains(&recent));
    }
}

#[tokio::test]
async fn team_providers_are_scoped_by_team_and_kept_while_used() {
    for (store, _dir) in stores().await {
        let (a, b) = (team(&store, "tpa").await, team(&store, "tpb").await);
        let row = TeamProviderRow {
            id: "found".into(),
            definition: "{}".into(),
            source_url: "https://as.example".into(),
            registered: true,
            client_secret: Some(vec![1, 2, 3]),
            discovered_at: now(),
        };
        assert!(store.insert_team_provider(&a, &row).await.unwrap());
        assert!(!store.insert_team_provider(&a, &row).await.unwrap(), "one id per team");
        assert!(store.insert_team_provider(&b, &TeamProviderRow { client_secret: None, ..row.clone() }).await.unwrap());
        assert_eq!(store.team_provider(&a, "found").await.unwrap().as_ref(), Some(&row));
        assert_eq!(store.team_providers(&b).await.unwrap()[0].client_secret, None);
        let later = now() + time::Duration::hours(1);
        assert!(store.update_team_provider(&a, "found", "{\"x\":1}", later).await.unwrap());
        let updated = store.team_provider(&a, "found").await.unwrap().unwrap();
        assert_eq!((updated.definition.as_str(), updated.discovered_at), ("{\"x\":1}", later));
        assert_eq!(updated.client_secret, row.client_secret, "rediscovery keeps the client");

        let mut c = connection(&a, "Uses it");
        c.provider = "found".into();
        store.insert_connection(NewConnection { connection: &c, secrets: &[] }).await.unwrap();
        assert_eq!(store.delete_team_provider(&a, "found").await.unwrap(), Some(false), "in use");
        assert_eq!(store.delete_team_provider(&b, "found").await.unwrap(), Some(true), "b's is unused");
        assert_eq!(store.delete_team_provider(&b, "found").await.unwrap(), None);
        assert!(store.team_provider(&a, "found").await.unwrap().is_some());
    }
}
