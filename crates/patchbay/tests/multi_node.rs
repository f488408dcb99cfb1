//! Several `patchbay serve` processes on one PostgreSQL database (issue "PostgreSQL and several
//! nodes"): exactly one refresh across nodes, a paused lease holder that cannot overwrite or
//! double-rotate, consent flows that complete on another node, and key rotation that reaches
//! every node without a restart. Needs `PATCHBAY_TEST_DATABASE_URL` (set by `scripts/test`).

mod common;

use std::time::Duration;

use common::BIN;
use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, ProviderYamlOptions, RotationMode};
use patchbay_testkit::{PatchbayClient, PatchbayOptions, PatchbayProcess, fresh_postgres_database};
use serde_json::json;

struct Cluster {
    demo: DemoProvider,
    _providers: tempfile::TempDir,
    nodes: Vec<PatchbayProcess>,
    runtime: Vec<PatchbayClient>,
    member: PatchbayClient,
    browser: reqwest::Client,
}

/// Starts `n` nodes on one fresh database sharing the first node's master key file.
/// `per_node_env(i)` adds environment to node `i`. `None` when no PostgreSQL is configured.
async fn cluster(n: usize, per_node_env: impl Fn(usize) -> Vec<(String, String)>) -> Option<Cluster> {
    let Some(url) = fresh_postgres_database().await else {
        eprintln!("multi-node tests need PATCHBAY_TEST_DATABASE_URL (scripts/test starts PostgreSQL); skipped");
        return None;
    };
    let demo = DemoProvider::start(DemoOptions {
        refresh_rotation: RotationMode::RotateWithReuseDetection,
        ..DemoOptions::default()
    })
    .await;
    let providers = tempfile::tempdir().unwrap();
    std::fs::write(
        providers.path().join("democloud.yaml"),
        demo.provider_yaml("democloud", ProviderYamlOptions::default()),
    )
    .unwrap();
    let mut nodes: Vec<PatchbayProcess> = Vec::new();
    for i in 0..n {
        let mut env = vec![
            ("PATCHBAY_DATABASE_URL".to_owned(), url.clone()),
            ("PATCHBAY_SCHEDULER_INTERVAL_MS".to_owned(), "3600000".to_owned()),
        ];
        if let Some(first) = nodes.first() {
            env.push((
                "PATCHBAY_MASTER_KEY_FILE".to_owned(),
                first.data_dir().join("master.key").display().to_string(),
            ));
        }
        env.extend(per_node_env(i));
        nodes.push(
            PatchbayProcess::start(
                BIN,
                PatchbayOptions { providers_dir: Some(providers.path().to_path_buf()), extra_env: env, data_dir: None },
            )
            .await,
        );
    }
    let team = nodes[0].create_team("acme").await;
    let runtime_token = nodes[0].create_token(&team, "runtime").await;
    let member = nodes[1 % n].client(&nodes[0].create_token(&team, "member").await);
    let runtime = nodes.iter().map(|node| node.client(&runtime_token)).collect();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    Some(Cluster { demo, _providers: providers, nodes, runtime, member, browser })
}

impl Cluster {
    /// Creates a connection on node 0 and completes its consent on the last node (the flow's
    /// state lives in the database, not in the node's memory).
    async fn connect_across_nodes(&self) -> String {
        let starter = self.nodes[0].client(&self.nodes[0].create_token("acme", "member").await);
        let (status, body) = starter.post("/v1/connections", &json!({"provider": "democloud"})).await;
        assert_eq!(status, 201, "{body}");
        let id = body["connection"]["id"].as_str().unwrap().to_owned();
        self.demo.set_auto_decision(Some(Decision::Allow));
        let resp = self.browser.get(body["authorize_url"].as_str().unwrap()).send().await.unwrap();
        let back = resp.headers()["location"].to_str().unwrap().to_owned();
        let other = self.nodes.last().unwrap().url();
        let back = back.replace(&self.nodes[0].url(), &other);
        assert!(back.starts_with(&other), "{back}");
        let resp = self.browser.get(&back).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        let (_, c) = self.member.get(&format!("/v1/connections/{id}")).await;
        assert_eq!(c["status"], "active", "{c}");
        id
    }

    /// A connection whose access token every node considers expired.
    async fn expired_connection(&self) -> String {
        self.demo.set_access_token_ttl(Duration::from_secs(1));
        let id = self.connect_across_nodes().await;
        self.demo.set_access_token_ttl(Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(1200)).await;
        id
    }
}

#[tokio::test]
async fn three_nodes_refresh_exactly_once() {
    let Some(c) = cluster(3, |_| Vec::new()).await else { return };
    let id = c.expired_connection().await;
    let before = c.demo.refresh_grant_count();
    let calls = (0..3 * 64).map(|i| {
        let client = c.runtime[i % 3].clone();
        let path = format!("/v1/connections/{id}/token");
        async move { client.post(&path, &json!({})).await }
    });
    let results = futures::future::join_all(calls).await;
    let tokens: Vec<String> = results
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(c.demo.refresh_grant_count() - before, 1, "one refresh grant across three nodes");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "every caller on every node got the new token");
    assert!(c.demo.reuse_detections().is_empty());
    // The stored refresh token is the provider's newest live one: another refresh still works.
    c.demo.expire_access_tokens();
    c.demo.set_access_token_ttl(Duration::from_secs(1));
    let (status, _) = c.runtime[2].post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_paused_lease_holder_neither_double_rotates_nor_overwrites() {
    // Node 0 pauses 2.5 s after taking its 1.5 s lease; node 1 has no pause.
    let Some(mut c) = cluster(2, |i| {
        let mut env = vec![("PATCHBAY_REFRESH_LEASE_MS".to_owned(), "1500".to_owned())];
        if i == 0 {
            env.push(("PATCHBAY_FAILPOINT_REFRESH_DELAY_MS".to_owned(), "2500".to_owned()));
        }
        env
    })
    .await
    else {
        return;
    };
    let id = c.expired_connection().await;
    let before = c.demo.refresh_grant_count();
    let holder = c.runtime[0].clone();
    let path = format!("/v1/connections/{id}/token");
    let first = tokio::spawn({
        let path = path.clone();
        async move { holder.post(&path, &json!({})).await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pid = c.nodes[0].pid().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    // Past the lease: the other node takes over and refreshes.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, second) = c.runtime[1].post(&path, &json!({})).await;
    assert_eq!(status, 200, "{second}");
    assert!(std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    let (status, first) = first.await.unwrap();
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["access_token"], second["access_token"], "the resumed node returns the other node's token");
    assert_eq!(c.demo.refresh_grant_count() - before, 1, "no double rotation");
    assert!(c.demo.reuse_detections().is_empty(), "the paused node never presented the superseded refresh token");
    // Nothing was overwritten: the stored refresh token still works.
    c.demo.expire_access_tokens();
    c.demo.set_access_token_ttl(Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = c.runtime[1].post(&path, &json!({})).await;
    assert_eq!(status, 200);
    c.nodes[0].terminate().await;
}

#[tokio::test]
async fn key_rotation_reaches_every_node_without_a_restart() {
    let Some(c) = cluster(2, |_| Vec::new()).await else { return };
    let id = c.connect_across_nodes().await;
    let out = c.nodes[0].run(&["keys", "rotate"]).await;
    assert!(out.status.success(), "{out:?}");
    // Node 1 reads old secrets and wraps a new team's key with the new version.
    let (status, v) = c.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
    let team = c.nodes[0].create_team("after").await;
    let fresh = c.nodes[1].client(&c.nodes[0].create_token(&team, "member").await);
    let (status, body) = fresh.post("/v1/connections", &json!({"provider": "democloud"})).await;
    assert_eq!(status, 201, "{body}");
    let out = c.nodes[0].run(&["keys", "status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("active: 2") && text.contains("v2: 2 team data key(s)"), "{text}");
}
