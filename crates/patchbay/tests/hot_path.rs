//! The runtime hot path (issue 13) on real processes, on this run's engine: group-committed audit
//! records are durable before every hand-over under concurrency, a failing batch hands out no
//! secret (token endpoint and proxy), and the runtime cache of one node is invalidated at once by
//! writes on another node sharing the database (two processes on one SQLite file, or two nodes on
//! one PostgreSQL database): a revoked API token, a deleted connection, a reauthorized one.

mod common;

use common::oauth::{self, OAuthWorld};
use common::{BIN, TestDb, on_postgres};
use futures::StreamExt;
use patchbay_demo_provider::DemoOptions;
use patchbay_testkit::{PatchbayClient, PatchbayOptions, PatchbayProcess};
use serde_json::{Value, json};

fn quiet_scheduler() -> Vec<(String, String)> {
    vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "3600000".into())]
}

async fn world() -> OAuthWorld {
    oauth::start(DemoOptions::default(), None, quiet_scheduler()).await
}

fn token_path(id: &str) -> String {
    format!("/v1/connections/{id}/token")
}

/// `n` token calls, `concurrency` at a time; the statuses and bodies.
async fn token_calls(client: &PatchbayClient, id: &str, n: usize, concurrency: usize) -> Vec<(u16, Value)> {
    let path = token_path(id);
    futures::stream::iter(0..n).map(|_| client.post_empty(&path)).buffer_unordered(concurrency).collect().await
}

#[tokio::test]
async fn every_concurrent_hand_over_has_its_durable_audit_row() {
    let mut w = world().await;
    let id = w.connect(json!({"provider": "democloud"})).await;
    let answers = token_calls(&w.runtime, &id, 400, 64).await;
    let handed = answers.iter().filter(|(s, b)| *s == 200 && b["access_token"].is_string()).count();
    assert_eq!(handed, 400, "{:?}", answers.iter().find(|(s, _)| *s != 200));
    // Killed without a chance to flush anything: what was acknowledged must already be on disk.
    w.app.kill();
    let db = TestDb::open(&w.app).await;
    let rows = db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'secret.read' AND detail = 'token'").await;
    assert_eq!(rows, 400, "one durable record per hand-over, no more, no less");
}

/// Makes the database refuse every audit row (a real failure of the batch's statement).
async fn break_audit(db: &TestDb) {
    if on_postgres() {
        db.execute(
            "CREATE FUNCTION hot_path_audit_down() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'audit down'; END $$",
        )
        .await;
        db.execute(
            "CREATE TRIGGER hot_path_audit_down BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION hot_path_audit_down()",
        )
        .await;
    } else {
        db.execute(
            "CREATE TRIGGER hot_path_audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit down'); END",
        )
        .await;
    }
}

async fn repair_audit(db: &TestDb) {
    if on_postgres() {
        db.execute("DROP TRIGGER hot_path_audit_down ON audit_log").await;
    } else {
        db.execute("DROP TRIGGER hot_path_audit_down").await;
    }
}

#[tokio::test]
async fn a_failing_audit_batch_hands_out_no_secret() {
    let w = world().await;
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let (status, good) = w.runtime.post_empty(&token_path(&id)).await;
    assert_eq!(status, 200, "{good}");
    let secret = good["access_token"].as_str().unwrap().to_owned();
    let proxy = format!("/v1/connections/{id}/proxy/api/items");
    assert_eq!(w.runtime.get(&proxy).await.0, 200, "the proxy works (and its connection is cached)");
    let calls_before = w.demo.api_calls().len();

    let db = TestDb::open(&w.app).await;
    break_audit(&db).await;
    let answers = token_calls(&w.runtime, &id, 100, 32).await;
    for (status, body) in &answers {
        assert_eq!(*status, 500, "no record, no secret: {body}");
        assert!(!body.to_string().contains(&secret), "the secret never leaves: {body}");
    }
    let proxied: Vec<(u16, Value)> =
        futures::stream::iter(0..20).map(|_| w.runtime.get(&proxy)).buffer_unordered(8).collect().await;
    assert!(proxied.iter().all(|(s, _)| *s == 500), "{proxied:?}");
    assert_eq!(w.demo.api_calls().len(), calls_before, "no proxied call left without its record");

    repair_audit(&db).await;
    let (status, again) = w.runtime.post_empty(&token_path(&id)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["access_token"], secret.as_str());
}

#[tokio::test]
async fn the_proxy_writes_one_record_per_call_and_streams_large_bodies() {
    let w = world().await;
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let proxy = format!("/v1/connections/{id}/proxy/api/items");
    for _ in 0..5 {
        assert_eq!(w.runtime.get(&proxy).await.0, 200);
    }
    let (status, audit) = w.admin.get(&format!("/v1/audit?connection={id}&limit=100")).await;
    assert_eq!(status, 200, "{audit}");
    let items = audit["items"].as_array().unwrap();
    let proxy_records: Vec<&Value> = items.iter().filter(|e| e["action"] == "proxy.call").collect();
    assert_eq!(proxy_records.len(), 5, "{audit}");
    assert!(proxy_records.iter().all(|e| e["detail"] == "GET /api/items"), "{audit}");
    assert!(
        !items.iter().any(|e| e["action"] == "secret.read" && e["detail"] == "proxy"),
        "no second record per proxied call: {audit}"
    );
    // A body over the API's 256 KiB limit is streamed through whole: the provider parses it (a
    // truncated JSON body would be a 400) and creates the item.
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.create_item"]})).await;
    let big = json!({"title": "big item", "padding": "x".repeat(600 * 1024)});
    let calls_before = w.demo.api_calls().len();
    let resp = w
        .runtime
        .request(reqwest::Method::POST, &format!("/v1/connections/{id}/proxy/api/items"))
        .header("patchbay-module", "democloud.create_item")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    assert_eq!(w.demo.api_calls().len(), calls_before + 1, "the provider received the large call");
}

/// Two processes on one database: node A (with Demo Cloud and team `acme`) and node B.
struct TwoNodes {
    b: PatchbayProcess,
    a: OAuthWorld,
}

async fn two_nodes() -> TwoNodes {
    let a = world().await;
    let mut env = quiet_scheduler();
    let data_dir = if on_postgres() {
        let url = a.app.env().iter().find(|(k, _)| k == "PATCHBAY_DATABASE_URL").unwrap().1.clone();
        env.push(("PATCHBAY_DATABASE_URL".into(), url));
        env.push(("PATCHBAY_MASTER_KEY_FILE".into(), a.app.data_dir().join("master.key").display().to_string()));
        None
    } else {
        Some(a.app.data_dir().to_path_buf())
    };
    let providers = Some(a._providers.path().to_path_buf());
    let b = PatchbayProcess::start(BIN, PatchbayOptions { providers_dir: providers, extra_env: env, data_dir }).await;
    TwoNodes { b, a }
}

/// Warms node B's cache for `id` with `client` and returns the token it serves.
async fn warm(client: &PatchbayClient, id: &str) -> String {
    let mut token = String::new();
    for _ in 0..3 {
        let (status, body) = client.post_empty(&token_path(id)).await;
        assert_eq!(status, 200, "{body}");
        token = body["access_token"].as_str().unwrap().to_owned();
    }
    token
}

#[tokio::test]
async fn a_token_revoked_on_one_node_is_refused_at_once_on_the_other() {
    let n = two_nodes().await;
    let id = n.a.connect(json!({"provider": "democloud"})).await;
    let secret = n.a.app.create_token_named("acme", "runtime", "revoke-me").await;
    let on_b = n.b.client(&secret);
    warm(&on_b, &id).await;
    let listing = n.a.app.admin(&["list-tokens", "--team", "acme"]).await;
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    let token_id = listing.lines().find(|l| l.ends_with("revoke-me") || l.contains("\trevoke-me\t")).unwrap();
    let token_id = token_id.split('\t').next().unwrap().to_owned();
    let out = n.a.app.admin(&["revoke-token", "--team", "acme", &token_id]).await;
    assert!(out.status.success(), "{out:?}");
    let (status, body) = on_b.post_empty(&token_path(&id)).await;
    assert_eq!(status, 401, "node B refuses the revoked token at once: {body}");
    let proxy = format!("/v1/connections/{id}/proxy/api/items");
    assert_eq!(on_b.get(&proxy).await.0, 401, "the proxy too");
    assert_eq!(n.b.client(&n.a.app.create_token("acme", "runtime").await).post_empty(&token_path(&id)).await.0, 200);
}

#[tokio::test]
async fn a_connection_deleted_on_one_node_stops_at_once_on_the_other() {
    let n = two_nodes().await;
    let id = n.a.connect(json!({"provider": "democloud"})).await;
    let on_b = n.b.client(&n.a.app.create_token("acme", "runtime").await);
    warm(&on_b, &id).await;
    let (status, body) = n.a.member.delete(&format!("/v1/connections/{id}")).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let (status, body) = on_b.post_empty(&token_path(&id)).await;
    assert_eq!(status, 404, "node B no longer serves a deleted connection: {body}");
    assert_eq!(on_b.get(&format!("/v1/connections/{id}/proxy/api/items")).await.0, 404);
}

#[tokio::test]
async fn a_connection_reauthorized_on_one_node_is_served_fresh_on_the_other() {
    let n = two_nodes().await;
    let id = n.a.connect(json!({"provider": "democloud"})).await;
    let on_b = n.b.client(&n.a.app.create_token("acme", "runtime").await);
    let old = warm(&on_b, &id).await;
    n.a.extend(&id, json!({})).await;
    let (status, body) = on_b.post_empty(&token_path(&id)).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["access_token"].as_str().unwrap(), old, "node B serves the new grant, not its cached one");
}
