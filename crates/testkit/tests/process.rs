//! Tests of [`PatchbayProcess`] against `fake-patchbay`, a stand-in binary implementing the
//! command-line contract.

use patchbay_testkit::{PatchbayOptions, PatchbayProcess, canary, scan_dir_for};
use serde_json::json;

const FAKE: &str = env!("CARGO_BIN_EXE_fake-patchbay");

#[tokio::test]
async fn starts_serves_runs_admin_and_terminates() {
    let providers = tempfile::tempdir().unwrap();
    let mut p = PatchbayProcess::start(
        FAKE,
        PatchbayOptions {
            providers_dir: Some(providers.path().to_path_buf()),
            extra_env: vec![("RUST_LOG".into(), "debug".into()), ("PATCHBAY_EXTRA".into(), "1".into())],
            data_dir: None,
        },
    )
    .await;
    assert!(p.url().starts_with("http://127.0.0.1:"));
    assert!(p.is_running());
    assert!(p.data_dir().join("served").is_file());

    let team = p.create_team("acme").await;
    assert!(team.starts_with("team_") && team.len() == 5 + 32, "{team}");
    let token = p.create_token(&team, "admin").await;
    assert!(token.starts_with("pbt_"), "{token}");
    let named = p.create_token_named("acme", "viewer", "ci").await;
    assert_ne!(token, named);

    let (status, body) = p.client(&token).get("/v1/whoami").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"token": token}));
    let (status, body) = p.anonymous_client().get("/v1/whoami").await;
    assert_eq!((status, body), (200, json!({"token": null})));
    let (status, _) = p.client(&token).post("/v1/nothing", &json!({"a": 1})).await;
    assert_eq!(status, 404);

    let (_, env) = p.anonymous_client().get("/v1/env").await;
    assert_eq!(env["RUST_LOG"], "debug", "extra_env overrides the default");
    assert_eq!(env["PATCHBAY_EXTRA"], "1");
    assert_eq!(env["PATCHBAY_ALLOW_PRIVATE_NETWORKS"], "true");
    assert_eq!(env["PATCHBAY_PUBLIC_URL"], p.url());
    assert_eq!(env["PATCHBAY_PROVIDERS_DIR"], providers.path().to_str().unwrap());
    assert_eq!(env["PATCHBAY_DATA_DIR"], p.data_dir().to_str().unwrap());

    let status = p.terminate().await;
    assert!(status.success(), "graceful exit: {status}");
    assert!(!p.is_running());
    let logs = p.logs();
    assert!(logs.contains("listening on") && logs.contains("SIGTERM"), "{logs}");

    // Restart keeps port and data dir; kill is a crash.
    let port = p.port();
    p.restart().await;
    assert_eq!(p.port(), port);
    assert_eq!(p.anonymous_client().get("/healthz").await.0, 200);
    let status = p.kill();
    assert!(!status.success());
    assert_eq!(p.logs().matches("listening on").count(), 2);

    // Admin output is not part of the serve logs; the team name is in the data dir.
    assert!(!p.logs().contains(&token));
    assert_eq!(scan_dir_for(p.root_dir(), "acme"), vec![p.data_dir().join("team")]);
    assert!(scan_dir_for(p.root_dir(), canary("never")).is_empty());
}

#[tokio::test]
async fn prepare_then_start_with_a_caller_owned_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let mut p =
        PatchbayProcess::prepare(FAKE, PatchbayOptions { data_dir: Some(data.path().join("d")), ..Default::default() });
    assert!(!p.is_running());
    let team = p.create_team("before-serve").await;
    assert!(team.starts_with("team_"));
    p.restart().await;
    assert!(p.is_running());
    drop(p);
    assert!(data.path().join("d/served").is_file(), "the caller's data dir outlives the process");
}

#[tokio::test]
#[should_panic(expected = "exited before it was ready")]
async fn early_exit_panics_with_logs() {
    let _p = PatchbayProcess::start(
        FAKE,
        PatchbayOptions { extra_env: vec![("FAKE_EXIT_EARLY".into(), "3".into())], ..Default::default() },
    )
    .await;
}

#[tokio::test]
async fn failing_admin_commands_are_reported() {
    let p = PatchbayProcess::prepare(FAKE, PatchbayOptions::default());
    let out = p.admin(&["no-such-command"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported"));
}
