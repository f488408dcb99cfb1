//! A provider that signs its callback (Shopify's `hmac`, `callback_hmac:` in the file): the
//! consent completes only when the signature under the app's client secret covers every
//! parameter the callback carries; a changed shop, a missing or forged signature is refused
//! before the code is spent, and nothing is stored.

use std::collections::BTreeMap;

use patchbay_demo_provider::{Decision, DemoOptions, ProviderYamlOptions};
use serde_json::json;

use crate::common::test_app::TestApp;

async fn app() -> TestApp {
    TestApp::builder()
        .demo(DemoOptions::default())
        .demo_file("democloud-signed", ProviderYamlOptions { callback_hmac: Some("hmac"), ..Default::default() })
        .build()
        .await
}

/// The redirect back with `extra` parameters added and, when `secret` is given, signed the way
/// Shopify signs (every other parameter, sorted, `k=v&…`, HMAC-SHA256 hex).
fn signed(redirect: &str, extra: &[(&str, &str)], secret: Option<&str>) -> String {
    let url = url::Url::parse(redirect).unwrap();
    let mut params: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    params.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    if let Some(secret) = secret {
        let message: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, message.join("&").as_bytes());
        params.insert("hmac".into(), tag.as_ref().iter().map(|b| format!("{b:02x}")).collect());
    }
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(params.iter());
    out.to_string()
}

#[tokio::test]
async fn a_signed_callback_connects_and_a_tampered_or_unsigned_one_stores_nothing() {
    let app = app().await;
    let secret = app.demo().client_secret().to_owned();
    let shop = [("shop", "acme.myshopify.com"), ("timestamp", "1337178173")];

    // Unsigned, signed with another secret, or signed and then changed: refused, still pending.
    for (case, tamper) in [("unsigned", 0), ("wrong secret", 1), ("changed shop", 2)] {
        let (c, authorize_url) = app.create(json!({"provider": "democloud-signed", "name": case})).await;
        let back = app.consent(&authorize_url, Decision::Allow).await;
        let url = match tamper {
            0 => signed(&back, &shop, None),
            1 => signed(&back, &shop, Some("not-the-secret")),
            _ => signed(&back, &shop, Some(&secret)).replace("acme.myshopify.com", "evil.myshopify.com"),
        };
        let (_, _, body) = app.callback(&url).await;
        let id = c["id"].as_str().unwrap();
        let after = app.connection(id).await;
        assert_eq!(after["status"], "pending", "{case}: {after}");
        assert_eq!(after["credential"]["state"], "not_set", "{case}: nothing stored: {after}");
        assert!(!body.contains(&secret), "{case}: the secret is not on the page");
        assert!(
            after["last_authorization"]["reason"].as_str().is_some_and(|r| r.contains("signature")),
            "{case}: the reason names the signature: {after}"
        );
    }
    assert!(app.demo().token_requests().is_empty(), "no code was exchanged");

    // Signed with the app's secret over every parameter: connected.
    let (c, authorize_url) = app.create(json!({"provider": "democloud-signed", "name": "Signed"})).await;
    let back = app.consent(&authorize_url, Decision::Allow).await;
    let (status, _, body) = app.callback(&signed(&back, &shop, Some(&secret))).await;
    assert!(status < 400, "{status}: {body}");
    let after = app.connection(c["id"].as_str().unwrap()).await;
    assert_eq!(after["status"], "active", "{after}");
}
