//! A sick database (issue 18, first part): while PostgreSQL is down, requests answer within about
//! a second with 503 `database_unavailable` and `Retry-After` (never a 500, never a 10 s hang),
//! `/readyz` says why, nothing stored is lost, and the node serves again by itself once the
//! database is back; a refresh the provider answered while the database was down is committed
//! once it returns (no grant lost, no superseded token presented). Runs on a PostgreSQL cluster
//! of its own, so stopping it harms no other test; skipped (with a note) when the test run has no
//! PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::oauth::{self, OAuthWorld};
use patchbay_demo_provider::{DemoOptions, DemoProvider, Fault, RotationMode};
use patchbay_testkit::{OwnPostgres, PatchbayOptions, PatchbayProcess, postgres_test_url};
use serde_json::json;

/// A PostgreSQL cluster of this test's own, or `None` (with a note) when the run cannot have one.
fn own_postgres() -> Option<OwnPostgres> {
    if postgres_test_url().is_none() {
        eprintln!("skipped: this run has no PostgreSQL (scripts/test starts one unless PATCHBAY_TEST_POSTGRES=0)");
        return None;
    }
    let pg = OwnPostgres::start();
    if pg.is_none() {
        eprintln!("skipped: the PostgreSQL 15 server binaries are not installed");
    }
    pg
}

#[tokio::test]
async fn a_stopped_database_answers_503_at_once_and_the_node_recovers_by_itself() {
    let Some(pg) = own_postgres() else { return };
    let mock = patchbay_testkit::MockProvider::start().await;
    let providers = tempfile::tempdir().unwrap();
    mock.write_provider_files(providers.path());
    let app = PatchbayProcess::start(
        common::BIN,
        PatchbayOptions {
            providers_dir: Some(providers.path().to_path_buf()),
            extra_env: vec![("PATCHBAY_DATABASE_URL".into(), pg.url())],
            data_dir: None,
        },
    )
    .await;
    let team = app.create_team("acme").await;
    let admin = app.client(&app.create_token(&team, "admin").await);
    let key = patchbay_testkit::canary("outage");
    mock.add_key(&key, "ops@acme.test");
    let (status, created) = admin
        .post("/v1/connections", &json!({"provider": "mock-bearer", "name": "Kept", "credentials": {"api_key": key}}))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap().to_owned();

    pg.stop();

    for path in ["/v1/connections", &format!("/v1/connections/{id}")] {
        let started = Instant::now();
        let response = admin.request(reqwest::Method::GET, path).send().await.unwrap();
        let waited = started.elapsed();
        assert_eq!(response.status().as_u16(), 503, "{path} while the database is down");
        assert_eq!(response.headers()["retry-after"], "2", "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
        assert!(!body["error"]["message"].as_str().unwrap().contains("127.0.0.1"), "no driver detail: {body}");
        assert!(waited < Duration::from_millis(2500), "{path} answered after {waited:?}, not within about a second");
    }
    let (status, body) = admin
        .post("/v1/connections", &json!({"provider": "mock-bearer", "name": "Lost?", "credentials": {"api_key": key}}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("database_unavailable")), "{body}");
    let (status, ready) = app.anonymous_client().get("/readyz").await;
    assert_eq!((status, ready["status"].as_str()), (503, Some("database_unavailable")), "{ready}");

    pg.start_again();

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = admin.get("/v1/connections").await;
        if status == 200 {
            let names: Vec<&str> =
                list["items"].as_array().expect("a list").iter().filter_map(|c| c["name"].as_str()).collect();
            assert_eq!(names, ["Kept"], "the stored connection survived and nothing half-written appeared");
            break;
        }
        assert_eq!(status, 503, "only 503 while the database comes back: {list}");
        assert!(Instant::now() < deadline, "the node did not recover within 15 s of the database");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, ready) = app.anonymous_client().get("/readyz").await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")), "{ready}");
    let (status, verified) = admin.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 200, "{verified}");
}

/// Demo Cloud in strict rotation (a superseded refresh token revokes the family) and a node on
/// `pg`, with the scheduler quiet: refreshes happen only when a runtime call needs one.
async fn strict_world(pg: &OwnPostgres) -> OAuthWorld {
    let demo = DemoProvider::start(DemoOptions {
        refresh_rotation: RotationMode::RotateWithReuseDetection,
        ..DemoOptions::default()
    })
    .await;
    let providers = tempfile::tempdir().unwrap();
    oauth::write_demo_files(&demo, providers.path(), None);
    let app = PatchbayProcess::start(
        common::BIN,
        PatchbayOptions {
            providers_dir: Some(providers.path().to_path_buf()),
            extra_env: vec![
                ("PATCHBAY_DATABASE_URL".into(), pg.url()),
                ("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "3600000".into()),
            ],
            data_dir: None,
        },
    )
    .await;
    let team = app.create_team("acme").await;
    let admin = app.client(&app.create_token(&team, "admin").await);
    let member = app.client(&app.create_token(&team, "member").await);
    let runtime = app.client(&app.create_token(&team, "runtime").await);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    OAuthWorld { demo, _providers: providers, app, team, admin, member, runtime, browser }
}

#[tokio::test]
async fn a_refresh_answered_while_the_database_is_down_is_committed_when_it_returns() {
    let Some(pg) = own_postgres() else { return };
    let w = strict_world(&pg).await;
    w.demo.set_access_token_ttl(Duration::from_secs(1));
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    w.demo.set_access_token_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let account = w.demo.current_account();
    let before = w.demo.live_refresh_tokens(&account);
    assert_eq!(before.len(), 1, "one live refresh token after the consent");

    // The provider rotates at once and holds its answer for 2 s; the database stops meanwhile and
    // comes back 5 s later. The runtime call that needed the refresh waits for all of it.
    w.demo.fail_next_token(1, Fault::DelayAfterProcessing(Duration::from_secs(2)));
    let runtime = w.runtime.clone();
    let path = format!("/v1/connections/{id}/token");
    let pending = tokio::spawn(async move { runtime.post(&path, &json!({})).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.demo.refresh_grant_count() == 0 {
        assert!(Instant::now() < deadline, "the runtime call never sent its refresh");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop();
    tokio::time::sleep(Duration::from_secs(5)).await;
    pg.start_again();

    let (status, issued) = pending.await.unwrap();
    assert_eq!(status, 200, "the call that needed the refresh gets the new token: {issued}");
    let live = w.demo.live_refresh_tokens(&account);
    assert_eq!(live.len(), 1, "{live:?}");
    assert_ne!(live, before, "the provider rotated the refresh token");
    assert!(w.demo.reuse_detections().is_empty(), "no superseded token presented: {:?}", w.demo.reuse_detections());
    assert_eq!(w.connection(&id).await["status"], "active");

    // What was committed is the provider's newest pair: once the provider refuses the access
    // token, the proxy refreshes with the stored refresh token, which must be the live one.
    w.demo.expire_access_tokens();
    let response = w
        .runtime
        .request(reqwest::Method::GET, &format!("/v1/connections/{id}/proxy/api/items"))
        .header("patchbay-module", "democloud.watch_items")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap());
    assert_eq!(w.demo.refresh_grant_count(), 2, "one more refresh, with the committed token");
    assert!(w.demo.reuse_detections().is_empty(), "{:?}", w.demo.reuse_detections());
    for request in w.demo.token_requests().iter().filter(|r| r.grant_type == "refresh_token") {
        let presented = request.refresh_token_presented.as_deref().unwrap_or_default();
        assert!(!presented.is_empty(), "every refresh presented a token");
    }
}
