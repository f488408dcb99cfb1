//! The token lifecycle against Demo Cloud in strict rotation + reuse-detection mode, through the
//! real binary: what needs its background loops (API keys re-verified by the scheduler, signed
//! webhooks delivered by the webhook worker) and the proxy over real HTTP.
//!
//! The tests that slept on real time (exactly one refresh under concurrency, the failure
//! taxonomy and its backoff, refresh before expiry and the grant-lifetime warnings) now run
//! in-process on a fixed clock: `tests/in_process/lifecycle.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::code;
use common::oauth;
use patchbay_demo_provider::{DemoOptions, RotationMode};
use serde_json::{Value, json};

fn strict() -> DemoOptions {
    DemoOptions { refresh_rotation: RotationMode::RotateWithReuseDetection, ..DemoOptions::default() }
}

/// Scheduler effectively off (one pass at start), so only runtime calls refresh.
fn quiet_scheduler() -> Vec<(String, String)> {
    vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".into(), "3600000".into())]
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
async fn api_key_connections_are_reverified_in_the_background() {
    let mock = patchbay_testkit::MockProvider::start().await;
    let providers = tempfile::tempdir().unwrap();
    let yaml = mock.provider_yaml("mock-bearer") + "reverify_every: 1s\n";
    std::fs::write(providers.path().join("mock-bearer.yaml"), yaml).unwrap();
    let env = vec![("PATCHBAY_SCHEDULER_INTERVAL_MS".to_owned(), "100".to_owned())];
    let common::ProcessWorld { app: _app, member, admin, .. } =
        common::ProcessWorld::start(providers.path(), env).await;
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
