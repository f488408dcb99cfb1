//! `patchbay demo` across a restart: Demo Cloud's client secret and grants and the demo user's
//! password live in the data directory (`demo-state.json`, mode 0600), so a connection made in
//! the first run still verifies and hands out tokens in the second, and the password printed is
//! the same one ("unchanged"). Also what the CLI sees of a running demo: `providers list --url`
//! lists the catalog it loaded, Demo Cloud included.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use common::BIN;
use patchbay_testkit::{PatchbayOptions, PatchbayProcess};
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// A running demo and what its banner said.
struct Demo {
    child: tokio::process::Child,
    password: String,
    password_line: String,
    token: String,
}

async fn start_demo(p: &PatchbayProcess) -> Demo {
    let mut child = p
        .command(["demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut password, mut password_line, mut token) = (String::new(), String::new(), String::new());
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.trim().strip_prefix("Sign in as demo@patchbay.local with password ") {
                password = rest.split_whitespace().next().unwrap().to_owned();
                password_line = line.clone();
            }
            if let Some(rest) = line.trim().strip_prefix("export PATCHBAY_TOKEN=") {
                token = rest.to_owned();
            }
            if line.contains("Stop with Ctrl-C") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read).await.expect("the demo banner within a minute");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{}/healthz", p.url())).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!token.is_empty() && !password.is_empty(), "banner read");
    Demo { child, password, password_line, token }
}

async fn stop(demo: &mut Demo) {
    let pid = demo.child.id().unwrap();
    // SIGTERM: the demo saves its state on the way out.
    assert!(std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(30), demo.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
}

/// Plays the browser at Demo Cloud: opens the consent page, allows, and follows the redirect
/// back to Patchbay's callback.
async fn consent(authorize_url: &str) {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(authorize_url).send().await.unwrap().text().await.unwrap();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker).unwrap_or_else(|| panic!("{name} in {page}")) + marker.len();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    };
    let base = &authorize_url[..authorize_url.find("/oauth/authorize").unwrap()];
    let form = [
        ("request_id", field("request_id")),
        ("nonce", field("nonce")),
        ("account", field("account")),
        ("decision", "allow".to_owned()),
    ];
    let resp = browser.post(format!("{base}/oauth/authorize/decision")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp = browser.get(&back).send().await.unwrap();
    assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_demo_keeps_its_connections_and_password() {
    let p = PatchbayProcess::prepare(BIN, PatchbayOptions::default());
    let mut first = start_demo(&p).await;
    let api = p.client(&first.token);
    let (status, created) = api.post("/v1/connections", &json!({"provider": "democloud", "name": "Kept"})).await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    consent(created["authorize_url"].as_str().unwrap()).await;
    let (status, v) = api.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
    stop(&mut first).await;

    let state = p.data_dir().join("demo-state.json");
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o600);

    let mut second = start_demo(&p).await;
    assert_eq!(second.password, first.password, "the same password");
    assert!(second.password_line.contains("unchanged"), "{}", second.password_line);
    let api = p.client(&second.token);
    let (status, v) = api.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "the connection survived the restart: {v}");
    let (status, c) = api.get(&format!("/v1/connections/{id}")).await;
    assert_eq!((status, c["status"].clone()), (200, json!("active")), "{c}");
    // The runtime path works too: a token from the kept grant.
    let (status, t) = api.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200, "{t}");
    stop(&mut second).await;
}

/// `patchbay providers list ARGS` with `env`, which must succeed; its stdout.
fn providers_list(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(BIN)
        .args(["providers", "list"])
        .args(args)
        .env_remove("PATCHBAY_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_list_asks_a_running_demo_for_what_it_loaded() {
    let p = PatchbayProcess::prepare(BIN, PatchbayOptions::default());
    let mut demo = start_demo(&p).await;
    let url = p.url();
    let token = [("PATCHBAY_TOKEN", demo.token.as_str())];

    // The table and the JSON of the server's catalog: Demo Cloud, which only the demo loads, too.
    let table = providers_list(&["--url", &url], &token);
    assert!(table.lines().any(|l| l.starts_with("democloud ") && l.contains("oauth2") && l.contains("Demo Cloud")));
    assert!(table.lines().any(|l| l.starts_with("stripe ")), "{table}");
    let served: serde_json::Value = serde_json::from_str(&providers_list(&["--url", &url, "--json"], &token)).unwrap();
    let democloud = served.as_array().unwrap().iter().find(|p| p["id"] == "democloud").expect("democloud");
    assert_eq!(democloud["auth_mode"], "oauth2");
    assert!(democloud["modules"].as_array().unwrap().iter().any(|m| m == "democloud.watch_items"), "{democloud}");
    assert!(democloud["scopes"].as_array().unwrap().iter().any(|s| s == "items:read"), "{democloud}");

    // The same shape as the local listing, entry for entry.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let local: serde_json::Value =
        serde_json::from_str(&providers_list(&["--json", "--demo"], &[("PATCHBAY_DATA_DIR", data)])).unwrap();
    let ids = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|p| p["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&served), ids(&local));
    let local_demo = local.as_array().unwrap().iter().find(|p| p["id"] == "democloud").unwrap();
    // Demo Cloud's address is only known once the demo runs: its endpoints differ, the rest not.
    let without_endpoints = |p: &serde_json::Value| {
        let mut p = p.clone();
        p.as_object_mut().unwrap().remove("endpoints");
        p
    };
    assert_eq!(without_endpoints(local_demo), without_endpoints(democloud));
    assert_eq!(democloud["endpoints"]["token_url"], format!("{}/oauth/token", demo_base(democloud)));

    // Without a token, or with a wrong one, it says what to do and fails.
    let out = std::process::Command::new(BIN)
        .args(["providers", "list", "--url", &url])
        .env_remove("PATCHBAY_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set PATCHBAY_TOKEN"), "{out:?}");
    let out = std::process::Command::new(BIN)
        .args(["providers", "list", "--url", &url])
        .env("PATCHBAY_TOKEN", "pbt_wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"), "{out:?}");
    stop(&mut demo).await;
}

/// The origin Demo Cloud's API runs on, from a served provider entry.
fn demo_base(p: &serde_json::Value) -> String {
    p["endpoints"]["api_base_url"].as_str().unwrap().trim_end_matches('/').to_owned()
}
