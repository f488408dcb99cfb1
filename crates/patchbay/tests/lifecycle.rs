//! The token lifecycle against Demo Cloud in strict rotation + reuse-detection mode: exactly one
//! refresh under concurrency, the failure taxonomy, background refresh, grant-lifetime warnings,
//! the proxy, and signed webhooks.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::code;
use common::oauth::{self, OAuthWorld};
use patchbay_demo_provider::{DemoOptions, Fault, RotationMode};
use serde_json::{Value, json};

fn strict() -> DemoOptions {
    DemoOptions { refresh_rotation: RotationMode::RotateWithReuseDetection, ..DemoOptions::default() }
}

/// Scheduler effectively off (one pass at start), so only runtime calls refresh.
fn quiet_scheduler() -> Vec<(String, String)> {
    vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "3600000".into())]
}

/// A connection whose access token Patchbay considers expired.
async fn expired_connection(w: &OAuthWorld) -> String {
    w.demo.set_access_token_ttl(Duration::from_secs(1));
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    w.demo.set_access_token_ttl(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    id
}

#[tokio::test]
async fn two_hundred_concurrent_token_calls_refresh_exactly_once() {
    let w = oauth::start(strict(), None, quiet_scheduler()).await;
    let id = expired_connection(&w).await;
    let before = w.demo.refresh_grant_count();
    let calls = (0..200).map(|_| {
        let runtime = w.runtime.clone();
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
    assert_eq!(w.demo.refresh_grant_count() - before, 1, "exactly one refresh grant at the provider");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "every caller got the same new token");
    assert!(w.demo.is_access_token_valid(tokens[0]));
    assert!(w.demo.reuse_detections().is_empty(), "no superseded refresh token was ever presented");
    assert_eq!(w.connection(&id).await["status"], "active");
    assert_eq!(w.events("connection.refreshed").await.len(), 1);
    // The stored refresh token is the provider's newest live one: the next refresh works.
    w.demo.expire_access_tokens();
    let (status, _) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn transient_failures_degrade_and_recover_terminal_ones_need_reauth() {
    let w = oauth::start(strict(), None, quiet_scheduler()).await;
    let id = expired_connection(&w).await;
    let path = format!("/v1/connections/{id}/token");

    w.demo.fail_next_token(1, Fault::Status(503));
    let (status, body) = w.runtime.post(&path, &json!({})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(body.get("access_token").is_none(), "no stale token on failure");
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "degraded");
    assert!(c["status_reason"].as_str().unwrap().contains("503"), "{c}");
    assert_eq!(w.events("connection.degraded").await.len(), 1);
    // During the backoff the provider is left alone: an immediate answer, no new request.
    let requests = w.demo.token_requests().len();
    let (status, body) = w.runtime.post(&path, &json!({})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("next attempt in"), "{body}");
    assert_eq!(w.demo.token_requests().len(), requests, "no request during the backoff");
    // After it (2–2.5 s for a first failure), the next call refreshes and recovers.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (status, body) = w.runtime.post(&path, &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.connection(&id).await["status"], "active");
    assert_eq!(w.events("connection.recovered").await.len(), 1);

    // 429 with Retry-After: still transient, the token is kept.
    w.demo.expire_access_tokens();
    let id2 = expired_connection(&w).await;
    w.demo.fail_next_token(1, Fault::RetryAfter { secs: 30 });
    let (status, _) = w.runtime.post(&format!("/v1/connections/{id2}/token"), &json!({})).await;
    assert_eq!(status, 502);
    assert_eq!(w.connection(&id2).await["status"], "degraded");
    let (_, body) = w.runtime.post(&format!("/v1/connections/{id2}/token"), &json!({})).await;
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    let wait: i64 = message.rsplit("next attempt in ").next().unwrap().trim_end_matches(" s)").parse().unwrap();
    assert!(wait >= 25, "Retry-After: 30 is honoured: {message}");

    // invalid_grant: needs_reauth with the reason, an event, and 409 for the runtime.
    let id3 = expired_connection(&w).await;
    w.demo.fail_next_token(
        1,
        Fault::OAuthError {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("revoked by the user".into()),
        },
    );
    let (status, body) = w.runtime.post(&format!("/v1/connections/{id3}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"), "{body}");
    let c = w.connection(&id3).await;
    assert_eq!(c["status"], "needs_reauth");
    assert!(c["status_reason"].as_str().unwrap().contains("invalid_grant"), "{c}");
    assert!(!w.events("connection.needs_reauth").await.is_empty());
    // Reauthorize brings it back on the same id.
    w.extend(&id3, json!({})).await;
    assert_eq!(w.connection(&id3).await["status"], "active");
    let (status, _) = w.runtime.post(&format!("/v1/connections/{id3}/token"), &json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_unknown_refresh_outcome_ends_active_or_refresh_lost_never_silently() {
    let w = oauth::start(strict(), None, quiet_scheduler()).await;
    let id = expired_connection(&w).await;
    // The provider rotates, then the answer is lost: the stored refresh token is now superseded.
    w.demo.fail_next_token(1, Fault::ResetAfterProcessing);
    let (status, _) = w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 502);
    assert_eq!(w.connection(&id).await["status"], "degraded");
    // After the backoff, the next attempt presents the old token, the provider detects reuse:
    // refresh_lost.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let (status, body) = w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"), "{body}");
    let c = w.connection(&id).await;
    assert!(c["status_reason"].as_str().unwrap().starts_with("refresh_lost"), "{c}");

    // Lost before processing: the retry simply succeeds.
    let id = expired_connection(&w).await;
    w.demo.fail_next_token(1, Fault::Reset);
    assert_eq!(w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await.0, 502);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await.0, 200);
    assert_eq!(w.connection(&id).await["status"], "active");
}

#[tokio::test]
async fn the_scheduler_refreshes_before_expiry_and_warns_before_the_grant_ends() {
    let env = vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "100".into())];
    let w = oauth::start(strict(), Some("4s"), env).await;
    w.demo.set_access_token_ttl(Duration::from_secs(2));
    let id = w.connect(json!({"provider": "democloud"})).await;
    let before = w.demo.refresh_grant_count();
    // Refreshed at about half the lifetime, without any runtime call.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(w.demo.refresh_grant_count() > before, "refreshed in the background");
    assert!(!w.events("connection.refreshed").await.is_empty());
    let expiring = w.events("connection.expiring").await;
    assert_eq!(expiring.first().map(|e| e["data"]["days"].clone()), Some(json!(1)), "{expiring:?}");
    // The grant's own lifetime passes: needs_reauth with reason grant_expired.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "needs_reauth", "{c}");
    assert!(c["status_reason"].as_str().unwrap().starts_with("grant_expired"), "{c}");
    let (status, body) = w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"));
    // Reauthorize renews the grant.
    w.extend(&id, json!({})).await;
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "active");
    assert!(c["reauthorize_by"].is_string());
}

#[tokio::test]
async fn proxy_injects_the_credential_and_enforces_module_scopes() {
    let w = oauth::start(strict(), None, quiet_scheduler()).await;
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let resp = w
        .runtime
        .request(reqwest::Method::GET, &format!("/v1/connections/{id}/proxy/api/items"))
        .header("patchbay-module", "democloud.watch_items")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let items: Value = resp.json().await.unwrap();
    assert!(items.is_object() || items.is_array(), "{items}");
    let last = w.demo.api_calls().into_iter().last().unwrap();
    assert!(format!("{last:?}").contains("/api/items"), "{last:?}");

    let resp = w
        .runtime
        .request(reqwest::Method::POST, &format!("/v1/connections/{id}/proxy/api/items"))
        .header("patchbay-module", "democloud.create_item")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "missing_scopes");
    // Without a module the provider itself refuses, and its answer is passed through.
    let resp = w
        .runtime
        .request(reqwest::Method::POST, &format!("/v1/connections/{id}/proxy/api/items"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        w.member.get(&format!("/v1/connections/{id}/proxy/api/items")).await.0,
        403,
        "members cannot use credentials"
    );
    let (status, _) = w.runtime.get(&format!("/v1/connections/{id}/proxy/../admin")).await;
    assert!(status == 400 || status == 404, "{status}");
}

#[tokio::test]
async fn webhooks_are_signed_and_carry_no_secret() {
    let w = oauth::start(strict(), None, vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "100".into())]).await;
    let received: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                sink.lock().unwrap().push((get("patchbay-event"), get("patchbay-signature"), body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, hook) = w
        .admin
        .post(
            "/v1/webhooks",
            &json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["connection.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let (_, list) = w.admin.get("/v1/webhooks").await;
    assert!(list["items"][0].get("secret").is_none(), "the secret is shown once");
    assert_eq!(w.member.get("/v1/webhooks").await.0, 403);
    let (status, bad) = w.admin.post("/v1/webhooks", &json!({"url": "ftp://x", "events": []})).await;
    assert_eq!(status, 400, "{bad}");

    w.connect(json!({"provider": "democloud"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while received.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no webhook delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (event, signature, body) = received.lock().unwrap()[0].clone();
    assert_eq!(event, "connection.created");
    let t: i64 = signature.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(signature, format!("t={t},v1={hex}"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["type"], "connection.created");
    assert!(!body.to_string().contains("dat_") && !body.to_string().contains("drt_"), "no token in a webhook");
}

#[tokio::test]
async fn a_grant_with_days_left_gets_the_seven_day_warning_once() {
    let env = vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "100".into())];
    let w = oauth::start(strict(), Some("3d"), env).await;
    let id = w.connect(json!({"provider": "democloud"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while w.events("connection.expiring").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no expiring event");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expiring = w.events("connection.expiring").await;
    assert_eq!(expiring.len(), 1, "warned once, not on every pass: {expiring:?}");
    assert_eq!(expiring[0]["data"]["days"], 7);
    assert_eq!(expiring[0]["connection_id"], id.as_str());
    assert_eq!(w.connection(&id).await["status"], "active");
}

#[tokio::test]
async fn api_key_connections_are_reverified_in_the_background() {
    let mock = patchbay_testkit::MockProvider::start().await;
    let providers = tempfile::tempdir().unwrap();
    let yaml = mock.provider_yaml("mock-bearer") + "reverify_every: 1s\n";
    std::fs::write(providers.path().join("mock-bearer.yaml"), yaml).unwrap();
    let mut env = vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".to_owned(), "100".to_owned())];
    env.extend(common::engine_env().await);
    let app = patchbay_testkit::PatchbayProcess::start(
        common::BIN,
        patchbay_testkit::PatchbayOptions {
            providers_dir: Some(providers.path().to_path_buf()),
            extra_env: env,
            data_dir: None,
        },
    )
    .await;
    let team = app.create_team("acme").await;
    let member = app.client(&app.create_token(&team, "member").await);
    let admin = app.client(&app.create_token(&team, "admin").await);
    mock.add_key("bg-key", "bg@acme.test");
    let (status, body) =
        member.post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "bg-key"}})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["connection"]["id"].as_str().unwrap().to_owned();
    // The key is revoked at the service; the next scheduled verify notices, without any call.
    mock.revoke_key("bg-key");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, c) = member.get(&format!("/v1/connections/{id}")).await;
        if c["status"] == "needs_reauth" {
            assert!(c["status_reason"].as_str().unwrap().contains("Invalid API key provided"), "{c}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not re-verified: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, events) = admin.get("/v1/events?type=connection.verify_failed").await;
    assert!(!events["items"].as_array().unwrap().is_empty(), "{events}");
}
