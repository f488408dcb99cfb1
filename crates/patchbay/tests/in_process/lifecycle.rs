//! The token lifecycle against Demo Cloud in strict rotation + reuse-detection mode, in-process:
//! exactly one refresh under concurrency, the failure taxonomy and its backoff, and the
//! scheduler's refresh-before-expiry and grant-lifetime warnings.
//!
//! Moved from the process-level `tests/lifecycle.rs` with their assertions unchanged: where those
//! slept on real time, these advance the fixed clock by the same amount; where the background
//! loop ran every 100 ms, these run one scheduler pass per 100 ms of clock. What needs the real
//! binary stays there: the background loops themselves (re-verify, webhook delivery) and the
//! proxy over real HTTP.

use std::time::Duration;

use patchbay_demo_provider::{DemoOptions, Fault, ProviderYamlOptions, RotationMode};
use serde_json::json;

use crate::common::code;
use crate::common::test_app::TestApp;

fn strict() -> DemoOptions {
    DemoOptions { refresh_rotation: RotationMode::RotateWithReuseDetection, ..DemoOptions::default() }
}

/// A TestApp on Demo Cloud in strict mode. No background worker runs in-process, which is what
/// the process tests' "scheduler effectively off" stood for.
async fn strict_app() -> TestApp {
    TestApp::builder().demo(strict()).build().await
}

/// A connection whose access token Patchbay considers expired.
async fn expired_connection(w: &TestApp) -> String {
    w.demo().set_access_token_ttl(Duration::from_secs(1));
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    w.demo().set_access_token_ttl(Duration::from_secs(3600));
    w.advance(Duration::from_millis(1200));
    id
}

/// What the background scheduler does over `total` at one pass per `every`: advance, pass.
async fn scheduler_runs_for(w: &TestApp, total: Duration, every: Duration) {
    let mut elapsed = Duration::ZERO;
    while elapsed < total {
        w.advance(every);
        w.patchbay.run_due_connections().await.unwrap();
        elapsed += every;
    }
}

#[tokio::test]
async fn two_hundred_concurrent_token_calls_refresh_exactly_once() {
    let w = strict_app().await;
    let id = expired_connection(&w).await;
    let before = w.demo().refresh_grant_count();
    let calls = (0..200).map(|_| {
        let runtime = w.runtime().clone();
        let path = format!("/v1/connections/{id}/token");
        async move { runtime.post(&path, &json!({})).await }
    });
    let results = futures::future::join_all(calls).await;
    let tokens: Vec<&str> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["access_token"].as_str().unwrap()
        })
        .collect();
    assert_eq!(w.demo().refresh_grant_count() - before, 1, "exactly one refresh grant at the provider");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "every caller got the same new token");
    assert!(w.demo().is_access_token_valid(tokens[0]));
    assert!(w.demo().reuse_detections().is_empty(), "no superseded refresh token was ever presented");
    assert_eq!(w.connection(&id).await["status"], "active");
    assert_eq!(w.events("connection.refreshed").await.len(), 1);
    // The stored refresh token is the provider's newest live one: the next refresh works.
    w.demo().expire_access_tokens();
    let (status, _) = w.member().post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn transient_failures_degrade_and_recover_terminal_ones_need_reauth() {
    let w = strict_app().await;
    let id = expired_connection(&w).await;
    let path = format!("/v1/connections/{id}/token");

    w.demo().fail_next_token(1, Fault::Status(503));
    let (status, body) = w.runtime().post(&path, &json!({})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(body.get("access_token").is_none(), "no stale token on failure");
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "degraded");
    assert!(c["status_reason"].as_str().unwrap().contains("503"), "{c}");
    assert_eq!(w.events("connection.degraded").await.len(), 1);
    // During the backoff the provider is left alone: an immediate answer, no new request.
    let requests = w.demo().token_requests().len();
    let (status, body) = w.runtime().post(&path, &json!({})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("next attempt in"), "{body}");
    assert_eq!(w.demo().token_requests().len(), requests, "no request during the backoff");
    // After it (2–2.5 s for a first failure), the next call refreshes and recovers.
    w.advance(Duration::from_millis(2600));
    let (status, body) = w.runtime().post(&path, &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.connection(&id).await["status"], "active");
    assert_eq!(w.events("connection.recovered").await.len(), 1);

    // 429 with Retry-After: still transient, the token is kept.
    w.demo().expire_access_tokens();
    let id2 = expired_connection(&w).await;
    w.demo().fail_next_token(1, Fault::RetryAfter { secs: 30 });
    let (status, _) = w.runtime().post(&format!("/v1/connections/{id2}/token"), &json!({})).await;
    assert_eq!(status, 502);
    assert_eq!(w.connection(&id2).await["status"], "degraded");
    let (_, body) = w.runtime().post(&format!("/v1/connections/{id2}/token"), &json!({})).await;
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    let wait: i64 = message.rsplit("next attempt in ").next().unwrap().trim_end_matches(" s)").parse().unwrap();
    assert!(wait >= 25, "Retry-After: 30 is honoured: {message}");

    // invalid_grant: needs_reauth with the reason, an event, and 409 for the runtime.
    let id3 = expired_connection(&w).await;
    w.demo().fail_next_token(
        1,
        Fault::OAuthError {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("revoked by the user".into()),
        },
    );
    let (status, body) = w.runtime().post(&format!("/v1/connections/{id3}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"), "{body}");
    let c = w.connection(&id3).await;
    assert_eq!(c["status"], "needs_reauth");
    assert!(c["status_reason"].as_str().unwrap().contains("invalid_grant"), "{c}");
    assert!(!w.events("connection.needs_reauth").await.is_empty());
    // Reauthorize brings it back on the same id.
    w.extend(&id3, json!({})).await;
    assert_eq!(w.connection(&id3).await["status"], "active");
    let (status, _) = w.runtime().post(&format!("/v1/connections/{id3}/token"), &json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_unknown_refresh_outcome_ends_active_or_refresh_lost_never_silently() {
    let w = strict_app().await;
    let id = expired_connection(&w).await;
    // The provider rotates, then the answer is lost: the stored refresh token is now superseded.
    w.demo().fail_next_token(1, Fault::ResetAfterProcessing);
    let (status, _) = w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 502);
    assert_eq!(w.connection(&id).await["status"], "degraded");
    // After the backoff, the next attempt presents the old token, the provider detects reuse:
    // refresh_lost.
    w.advance(Duration::from_millis(2600));
    let (status, body) = w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"), "{body}");
    let c = w.connection(&id).await;
    assert!(c["status_reason"].as_str().unwrap().starts_with("refresh_lost"), "{c}");

    // Lost before processing: the retry simply succeeds.
    let id = expired_connection(&w).await;
    w.demo().fail_next_token(1, Fault::Reset);
    assert_eq!(w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await.0, 502);
    w.advance(Duration::from_millis(2600));
    assert_eq!(w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await.0, 200);
    assert_eq!(w.connection(&id).await["status"], "active");
}

#[tokio::test]
async fn the_scheduler_refreshes_before_expiry_and_warns_before_the_grant_ends() {
    let w = TestApp::builder().demo(strict()).grant_lifetime("4s").build().await;
    let every = Duration::from_millis(100);
    w.demo().set_access_token_ttl(Duration::from_secs(2));
    let id = w.connect(json!({"provider": "democloud"})).await;
    let before = w.demo().refresh_grant_count();
    // Refreshed at about half the lifetime, without any runtime call.
    scheduler_runs_for(&w, Duration::from_millis(2500), every).await;
    assert!(w.demo().refresh_grant_count() > before, "refreshed in the background");
    assert!(!w.events("connection.refreshed").await.is_empty());
    let expiring = w.events("connection.expiring").await;
    assert_eq!(expiring.first().map(|e| e["data"]["days"].clone()), Some(json!(1)), "{expiring:?}");
    // The grant's own lifetime passes: needs_reauth with reason grant_expired.
    scheduler_runs_for(&w, Duration::from_millis(2500), every).await;
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "needs_reauth", "{c}");
    assert!(c["status_reason"].as_str().unwrap().starts_with("grant_expired"), "{c}");
    let (status, body) = w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"));
    // Reauthorize renews the grant.
    w.extend(&id, json!({})).await;
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "active");
    assert!(c["reauthorize_by"].is_string());
}

#[tokio::test]
async fn a_grant_with_days_left_gets_the_seven_day_warning_once() {
    let w = TestApp::builder().demo(strict()).grant_lifetime("3d").build().await;
    let every = Duration::from_millis(100);
    let id = w.connect(json!({"provider": "democloud"})).await;
    // The process test polled for up to 10 s; on the clock that is at most 100 passes.
    let mut passes = 0;
    while w.events("connection.expiring").await.is_empty() {
        assert!(passes < 100, "no expiring event");
        scheduler_runs_for(&w, every, every).await;
        passes += 1;
    }
    scheduler_runs_for(&w, Duration::from_millis(500), every).await;
    let expiring = w.events("connection.expiring").await;
    assert_eq!(expiring.len(), 1, "warned once, not on every pass: {expiring:?}");
    assert_eq!(expiring[0]["data"]["days"], 7);
    assert_eq!(expiring[0]["connection_id"], id.as_str());
    assert_eq!(w.connection(&id).await["status"], "active");
}

/// Measures the refresh exposure window (the provider's answer → the durable commit of the new
/// pair) over 200 sequential refreshes at a strict rotating provider, and prints p50/p99. The
/// bound is loose (a shared CI machine); the figures are in docs/security.md.
#[tokio::test]
async fn the_refresh_exposure_window_is_measured_over_200_refreshes() {
    let w = strict_app().await;
    let id = expired_connection(&w).await;
    let before = w.demo().refresh_grant_count();
    for _ in 0..200 {
        w.advance(Duration::from_secs(3601));
        let (status, body) = w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(w.demo().refresh_grant_count() - before, 200, "one refresh per call");
    let mut samples = w.patchbay.refresh_exposure_samples();
    assert_eq!(samples.len(), 200);
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).min(samples.len()) - 1];
    let (p50, p99) = (at(0.50), at(0.99));
    eprintln!("refresh exposure window over 200 refreshes: p50 {p50:?}, p99 {p99:?}, max {:?}", samples[199]);
    assert!(p50 <= p99 && p99 < Duration::from_secs(2), "p50 {p50:?}, p99 {p99:?}");
}

#[tokio::test]
async fn a_provider_that_asks_for_hourly_token_checks_gets_them_and_a_removed_app_needs_reauth() {
    let hourly = ProviderYamlOptions { reverify_every: Some("1h"), ..Default::default() };
    let w = TestApp::builder().demo(strict()).demo_file("democheck", hourly).build().await;
    // Day-long access tokens: no refresh is due in these hours, so only the check can notice.
    w.demo().set_access_token_ttl(Duration::from_secs(86_400));
    let id = w.connect(json!({"provider": "democheck", "modules": ["democheck.watch_items"]})).await;
    let checks = || w.demo().api_calls().iter().filter(|c| c.path == "/api/me").count();
    let verified = w.events("connection.verified").await.len();
    let after_consent = checks();

    scheduler_runs_for(&w, Duration::from_secs(50 * 60), Duration::from_secs(10 * 60)).await;
    assert_eq!(checks(), after_consent, "not before the hour is up");
    scheduler_runs_for(&w, Duration::from_secs(20 * 60), Duration::from_secs(10 * 60)).await;
    assert_eq!(checks(), after_consent + 1, "one check once the hour is up");
    assert_eq!(w.connection(&id).await["status"], "active");
    assert_eq!(w.events("connection.verified").await.len(), verified, "a passing check is routine: no event");

    // The user removes the app at the service: the next hourly check notices, the refresh it
    // tries is refused, and the connection asks for the user instead of failing scenarios later.
    w.demo().revoke_all();
    scheduler_runs_for(&w, Duration::from_secs(70 * 60), Duration::from_secs(10 * 60)).await;
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "needs_reauth", "{c}");
    assert!(!w.events("connection.needs_reauth").await.is_empty());
}

#[tokio::test]
async fn an_hourly_check_refused_for_a_dead_access_token_refreshes_and_stays_active() {
    let hourly = ProviderYamlOptions { reverify_every: Some("1h"), ..Default::default() };
    let w = TestApp::builder().demo(strict()).demo_file("democheck", hourly).build().await;
    // Access tokens that Patchbay believes live for a day, so the check comes before any refresh.
    w.demo().set_access_token_ttl(Duration::from_secs(86_400));
    let id = w.connect(json!({"provider": "democheck", "modules": ["democheck.watch_items"]})).await;
    let refreshes = w.demo().refresh_grant_count();
    // The access token dies early at the service (a password change, say); the grant lives on.
    w.demo().expire_access_tokens();
    scheduler_runs_for(&w, Duration::from_secs(70 * 60), Duration::from_secs(10 * 60)).await;
    assert_eq!(w.demo().refresh_grant_count(), refreshes + 1, "the refused token was replaced once");
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "active", "{c}");
    assert!(w.events("connection.needs_reauth").await.is_empty());
}
