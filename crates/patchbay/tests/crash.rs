//! SIGKILL around a refresh (issue "Token lifecycle", durability): after a restart the stored
//! refresh token is the provider's newest live one, or the connection says why not
//! (`refresh_lost`) — never a silent loss. SQLite, one node (the crash-recovery pass releases
//! leases only when the database is single-process).

mod common;

use std::time::Duration;

use common::oauth;
use patchbay_demo_provider::{DemoOptions, Fault, RotationMode};
use serde_json::json;

fn strict() -> DemoOptions {
    DemoOptions { refresh_rotation: RotationMode::RotateWithReuseDetection, ..DemoOptions::default() }
}

async fn wait_for_status(w: &oauth::OAuthWorld, id: &str, want: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let c = w.connection(id).await;
        if c["status"] == want && c["status_reason"].is_null() == (want == "active") {
            return c;
        }
        assert!(std::time::Instant::now() < deadline, "still {c} after 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn killed_before_the_request_leaves_the_refresh_completes_after_restart() {
    if common::sqlite_only("killed_before_the_request_leaves") {
        return;
    }
    let env = vec![
        ("PATCHBAY_FAILPOINT_REFRESH_DELAY_MS".into(), "1500".into()),
        ("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "100".into()),
    ];
    let mut w = oauth::start(strict(), None, env).await;
    w.demo.set_access_token_ttl(Duration::from_secs(2));
    let id = w.connect(json!({"provider": "democloud"})).await;
    w.demo.set_access_token_ttl(Duration::from_secs(3600));
    // Due after half its 2 s lifetime: the scheduler starts a refresh, which then sits in the
    // failpoint with its lease taken and `in_flight` recorded.
    let before = w.demo.refresh_grant_count();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    w.app.kill();
    assert_eq!(w.demo.refresh_grant_count(), before, "killed before the request left");
    w.app.restart().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while w.demo.refresh_grant_count() == before {
        assert!(std::time::Instant::now() < deadline, "the refresh was not redone after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_status(&w, &id, "active").await;
    assert!(w.demo.reuse_detections().is_empty(), "{:?}", w.demo.reuse_detections());
    // The stored refresh token is live: a runtime call after expiry refreshes fine.
    w.demo.expire_access_tokens();
    let (status, body) = w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn killed_after_the_provider_rotated_the_connection_says_refresh_lost() {
    if common::sqlite_only("killed_after_the_provider_rotated") {
        return;
    }
    let env = vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "3600000".into())];
    let mut w = oauth::start(strict(), None, env).await;
    w.demo.set_access_token_ttl(Duration::from_secs(1));
    let id = w.connect(json!({"provider": "democloud"})).await;
    w.demo.set_access_token_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // The provider rotates, then holds its answer; Patchbay dies before hearing it.
    w.demo.fail_next_token(1, Fault::DelayAfterProcessing(Duration::from_secs(5)));
    let runtime = w.runtime.clone();
    let path = format!("/v1/connections/{id}/token");
    let pending = tokio::spawn(async move { runtime.post(&path, &json!({})).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    w.app.kill();
    pending.abort();
    let rotated = w.demo.refresh_grant_count();
    assert!(rotated >= 1, "the provider processed the refresh");
    w.app.restart().await;
    // Resolved at start, never silently: the old token is refused, and the connection says why.
    let c = wait_for_status(&w, &id, "needs_reauth").await;
    assert!(c["status_reason"].as_str().unwrap().starts_with("refresh_lost"), "{c}");
    // The status is written before its event: wait for the event rather than read it once.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while w.events("connection.needs_reauth").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no connection.needs_reauth event within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
