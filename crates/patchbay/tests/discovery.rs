//! Connect a server by its URL through the real binary (issue 16): `patchbay providers
//! discover` against Demo Cloud's protected resource, then a connection that consents,
//! refreshes, is deleted (revoked at the server), and the provider deleted with the CLI.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{BIN, oauth};
use patchbay_demo_provider::DemoOptions;
use serde_json::{Value, json};

fn cli(w: &oauth::OAuthWorld, token: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("providers")
        .args(args)
        .env("PATCHBAY_URL", w.app.url())
        .env("PATCHBAY_TOKEN", token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

// Multi-threaded: the CLI runs as a blocking child process while Demo Cloud, on this runtime,
// must keep answering it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_only_a_url_the_cli_and_api_give_a_refreshing_revocable_connection() {
    let w = oauth::start(DemoOptions::default(), None, Vec::new()).await;
    let admin = w.app.create_token(&w.team, "admin").await;
    let resource = w.demo.resource_url();

    let out = cli(&w, &admin, &["discover", &resource, "--id", "items", "--name", "Demo items"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((p["id"].as_str(), p["display_name"].as_str()), (Some("items"), Some("Demo items")));
    assert_eq!(p["discovered"]["registered_client"], true);
    // The registered client secret is sealed: in no file of the data directory (the SQLite
    // database, its WAL) in any encoding, and in no log line.
    let secret = w.demo.registered_clients()[0].client_secret.clone();
    assert!(patchbay_testkit::scan_dir_for_encoded(w.app.data_dir(), secret.as_bytes()).is_empty());
    assert!(!w.app.logs().contains(&secret));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret));
    let again = cli(&w, &admin, &["discover", &resource, "--id", "items"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("409"), "{:?}", again);

    // Short-lived access tokens, so the next token call refreshes.
    w.demo.set_access_token_ttl(Duration::from_secs(1));
    let id = w.connect(json!({"provider": "items", "scopes": ["items:read"]})).await;
    assert_eq!(w.connection(&id).await["status"], "active");
    w.demo.set_access_token_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Refreshed exactly once, by the scheduler or by this call, whichever came first.
    let token = format!("/v1/connections/{id}/token");
    let (status, t) = w.runtime.post(&token, &json!({})).await;
    assert_eq!(status, 200, "{t}");
    assert!(w.demo.is_access_token_valid(t["access_token"].as_str().unwrap()));
    assert_eq!(w.runtime.post(&token, &json!({})).await.0, 200);
    assert_eq!(w.demo.refresh_grant_count(), 1, "refreshed exactly once");
    let resource = w.demo.resource_url();
    assert!(w.demo.token_requests().iter().all(|r| r.resource.as_deref() == Some(resource.as_str())));
    let (status, items) = w.runtime.get(&format!("/v1/connections/{id}/proxy/items")).await;
    assert_eq!(status, 200, "{items}");

    let in_use = cli(&w, &admin, &["delete", "items"]);
    assert!(!in_use.status.success(), "a provider in use stays");
    let (status, receipt) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert!(!w.demo.revocations().is_empty(), "revoked at the server on delete");
    let deleted = cli(&w, &admin, &["delete", "items"]);
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    let (_, list) = w.member.get("/v1/providers").await;
    assert!(list["items"].as_array().unwrap().iter().all(|p| p["id"] != "items"));
}
