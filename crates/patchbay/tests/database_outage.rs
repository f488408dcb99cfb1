//! A sick database (issue 18, first part): while PostgreSQL is down, requests answer within about
//! a second with 503 `database_unavailable` and `Retry-After` (never a 500, never a 10 s hang),
//! `/readyz` says why, nothing stored is lost, and the node serves again by itself once the
//! database is back. Runs on a PostgreSQL cluster of its own, so stopping it harms no other test;
//! skipped (with a note) when the test run has no PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use patchbay_testkit::{OwnPostgres, PatchbayOptions, PatchbayProcess, postgres_test_url};
use serde_json::json;

#[tokio::test]
async fn a_stopped_database_answers_503_at_once_and_the_node_recovers_by_itself() {
    if postgres_test_url().is_none() {
        eprintln!("skipped: this run has no PostgreSQL (scripts/test starts one unless PATCHBAY_TEST_POSTGRES=0)");
        return;
    }
    let Some(pg) = OwnPostgres::start() else {
        eprintln!("skipped: the PostgreSQL 15 server binaries are not installed");
        return;
    };
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
