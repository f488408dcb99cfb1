//! OAuth 2.0 connections end to end against Demo Cloud, a real authorization server on loopback:
//! the consent flow, every failure at the callback, reauthorize (same id, account checks), client
//! credentials, and revocation on delete with background retries.

mod common;

use common::oauth::{self, OAuthWorld, query, scopes};
use common::{BIN, code, message};
use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, Fault, IssParam, ProviderYamlOptions};
use patchbay_testkit::{PatchbayOptions, PatchbayProcess};
use serde_json::{Value, json};

/// Demo Cloud with three provider files (granular with a 60-day grant, non-granular, client
/// credentials), revocation retries every 200 ms.
async fn start() -> OAuthWorld {
    let env = vec![("PATCHBAY_REVOCATION_RETRY_MS".into(), "200".into())];
    oauth::start(DemoOptions::default(), Some("60d"), env).await
}

#[tokio::test]
async fn consent_flow_creates_an_active_connection() {
    let w = start().await;
    let (c, authorize_url) =
        w.create(json!({"provider": "democloud", "name": "Items", "modules": ["democloud.watch_items"]})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["status"], "pending");
    assert_eq!(c["status_reason"], "waiting for consent at Demo Cloud");

    let q = query(&authorize_url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], w.demo.client_id());
    assert_eq!(q["redirect_uri"], format!("{}/oauth/callback", w.app.url()));
    assert_eq!(q["scope"], "items:read profile", "default scopes plus exactly the module's");
    assert!(q["state"].len() >= 43, "≥256 bits of state");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!q["code_challenge"].is_empty());

    let back = w.consent(&authorize_url, Decision::Allow).await;
    assert!(back.starts_with(&format!("{}/oauth/callback?", w.app.url())), "{back}");
    let (status, headers, body) = w.callback(&back).await;
    assert_eq!(status, 303, "{body}");
    let location = headers["location"].to_str().unwrap();
    assert_eq!(location, format!("{}/connections/{id}?outcome=connected", w.app.url()));
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    // Neither the code nor the state reaches a log line, even at trace level.
    let code_param = query(&back)["code"].clone();
    let logs = w.app.logs();
    assert!(!logs.contains(&code_param) && !logs.contains(&q["state"]), "the callback query was logged");

    let c = w.connection(&id).await;
    assert_eq!(c["status"], "active", "{c}");
    assert_eq!(c["status_reason"], Value::Null);
    assert_eq!(c["account"], "demo.user@democloud.test");
    assert_eq!(scopes(&c), ["items:read", "profile"]);
    assert_eq!(c["granted_scopes"][0]["description"], "Read your items");
    assert!(c["expires_at"].is_string() && c["reauthorize_by"].is_string(), "{c}");
    assert_eq!(c["credential"]["kind"], "oauth2");
    // The code was exchanged once, with the PKCE verifier and the exact redirect URI.
    let exchanges: Vec<_> =
        w.demo.token_requests().into_iter().filter(|r| r.grant_type == "authorization_code").collect();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].redirect_uri.as_deref(), Some(q["redirect_uri"].as_str()));
    assert!(exchanges[0].code_verifier.is_some());

    // Replaying the callback: 400, no second exchange, connection unchanged.
    let (status, _, body) = w.callback(&back).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown, expired or was already used"), "{body}");
    let n = w.demo.token_requests().len();
    assert_eq!(n, 1);
    assert_eq!(w.connection(&id).await["status"], "active");

    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone(), v["account"].clone()), (200, json!(true), json!("demo.user@democloud.test")));
}

#[tokio::test]
async fn callback_failures_are_clear_and_change_nothing() {
    let w = start().await;

    // Deny: the connection stays pending with the reason, and can be reauthorized.
    let (c, url) = w.create(json!({"provider": "democloud"})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let back = w.consent(&url, Decision::Deny).await;
    let (status, headers, _) = w.callback(&back).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with("?outcome=denied"));
    let c = w.connection(&id).await;
    assert_eq!(
        (c["status"].as_str(), c["status_reason"].as_str()),
        (Some("pending"), Some("access denied at Demo Cloud"))
    );
    let (status, again) = w.member.post_empty(&format!("/v1/connections/{id}/reauthorize")).await;
    assert_eq!(status, 200, "{again}");
    let back = w.consent(again["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    assert_eq!(w.callback(&back).await.0, 303);
    assert_eq!(w.connection(&id).await["status"], "active", "a denied connection can be reauthorized");

    // Bad callbacks: 400 and no request reaches the provider's token endpoint.
    let before = w.demo.token_requests().len();
    let (_, url) = w.create(json!({"provider": "democloud"})).await;
    let back = w.consent(&url, Decision::Allow).await;
    let q = query(&back);
    let base = format!("{}/oauth/callback", w.app.url());
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let cases = [
        (format!("{base}?code={}", enc(&q["code"])), "no valid `state`"),
        (format!("{base}?code={}&state=forged", enc(&q["code"])), "unknown, expired"),
        (
            format!("{base}?code={}&state={}&iss={}", enc(&q["code"]), enc(&q["state"]), enc("https://evil.example")),
            "issuer",
        ),
    ];
    for (url, expected) in cases {
        let (status, headers, body) = w.callback(&url).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(body.contains(expected), "{url}: {body}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    assert_eq!(w.demo.token_requests().len(), before, "no code exchange for a bad callback");
    // The mix-up attempt consumed the state: even the genuine callback is now refused.
    assert_eq!(w.callback(&back).await.0, 400);

    // A missing `iss` from an issuer-declaring provider is refused as well.
    let (_, url) = w.create(json!({"provider": "democloud"})).await;
    w.demo.set_iss_param(IssParam::Omit);
    let back = w.consent(&url, Decision::Allow).await;
    assert_eq!(w.callback(&back).await.0, 400);
    w.demo.set_iss_param(IssParam::Issuer);

    // An expired state (10 minutes): aged in the database, then refused.
    let (_, url) = w.create(json!({"provider": "democloud"})).await;
    let back = w.consent(&url, Decision::Allow).await;
    let db = common::TestDb::open(&w.app).await;
    db.execute("UPDATE oauth_flows SET expires_at = expires_at - 601000").await;
    let (status, _, body) = w.callback(&back).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
    assert_eq!(w.demo.token_requests().len(), before);

    // The provider's token error: the connection shows its code and description.
    let (c, url) = w.create(json!({"provider": "democloud"})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let back = w.consent(&url, Decision::Allow).await;
    w.demo.fail_next_token(
        1,
        Fault::OAuthError { status: 400, error: "invalid_grant".into(), description: Some("code was revoked".into()) },
    );
    let (status, headers, _) = w.callback(&back).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with("?outcome=error"));
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "pending");
    let reason = c["status_reason"].as_str().unwrap();
    assert!(reason.contains("invalid_grant") && reason.contains("code was revoked"), "{reason}");
}

#[tokio::test]
async fn concurrent_replays_exchange_the_code_once() {
    let w = start().await;
    let (c, url) = w.create(json!({"provider": "democloud"})).await;
    let back = w.consent(&url, Decision::Allow).await;
    let calls = (0..100).map(|_| {
        let browser = w.browser.clone();
        let back = back.clone();
        async move { browser.get(&back).send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(calls).await;
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 99, "{statuses:?}");
    let exchanges = w.demo.token_requests().into_iter().filter(|r| r.grant_type == "authorization_code").count();
    assert_eq!(exchanges, 1);
    assert_eq!(w.connection(c["id"].as_str().unwrap()).await["status"], "active");
    let (_, list) = w.member.get("/v1/connections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reauthorize_extends_scopes_on_the_same_connection_and_guards_the_account() {
    let w = start().await;
    let (c, url) = w.create(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let back = w.consent(&url, Decision::Allow).await;
    w.callback(&back).await;

    // Extend with a module: granted ∪ its scopes, same id and name.
    let (status, start) = w
        .member
        .post(&format!("/v1/connections/{id}/reauthorize"), &json!({"modules": ["democloud.create_item"]}))
        .await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(query(start["authorize_url"].as_str().unwrap())["scope"], "items:read items:write profile");
    let back = w.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    let (status, headers, _) = w.callback(&back).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().contains(&format!("/connections/{id}?outcome=connected")));
    let c = w.connection(&id).await;
    assert_eq!(scopes(&c), ["items:read", "items:write", "profile"]);

    // A partial grant records exactly what was granted.
    w.demo.grant_only(Some(vec!["profile".into(), "items:read".into()]));
    let (_, start) =
        w.member.post(&format!("/v1/connections/{id}/reauthorize"), &json!({"scopes": ["items:delete"]})).await;
    let back = w.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    w.callback(&back).await;
    assert_eq!(scopes(&w.connection(&id).await), ["items:read", "profile"]);
    w.demo.grant_only(None);

    // Another account: refused unless allowed, and the stored credential stays.
    let before = w.connection(&id).await;
    w.demo.login_as("someone.else@democloud.test");
    let (_, start) = w.member.post_empty(&format!("/v1/connections/{id}/reauthorize")).await;
    let back = w.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    let (_, headers, _) = w.callback(&back).await;
    assert!(headers["location"].to_str().unwrap().ends_with("outcome=account_mismatch"));
    let after = w.connection(&id).await;
    assert_eq!(after["account"], before["account"]);
    assert_eq!(after["credential"]["fingerprint"], before["credential"]["fingerprint"], "credential unchanged");
    let (_, start) =
        w.member.post(&format!("/v1/connections/{id}/reauthorize"), &json!({"allow_account_change": true})).await;
    let back = w.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    w.callback(&back).await;
    assert_eq!(w.connection(&id).await["account"], "someone.else@democloud.test");

    // Bad reauthorize requests.
    let (status, body) =
        w.member.post(&format!("/v1/connections/{id}/reauthorize"), &json!({"modules": ["democloud.nope"]})).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"));
    assert!(message(&body).contains("unknown module"), "{body}");
}

#[tokio::test]
async fn delete_revokes_at_the_provider_and_retries_transient_failures() {
    let w = start().await;
    let (c, url) = w.create(json!({"provider": "democloud"})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    w.callback(&w.consent(&url, Decision::Allow).await).await;

    let (status, receipt) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    let outcomes: Vec<(&str, &str)> = receipt["revocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["credential"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("refresh_token", "revoked"), ("access_token", "revoked")]);
    let hints: Vec<Option<String>> = w.demo.revocations().into_iter().map(|(_, h)| h).collect();
    assert_eq!(hints, [Some("refresh_token".to_owned()), Some("access_token".to_owned())], "refresh first");
    assert_eq!(w.member.get(&format!("/v1/connections/{id}")).await.0, 404);

    // A provider outage at delete: the secret is destroyed now, revocation retried until done.
    let (c, url) = w.create(json!({"provider": "democloud"})).await;
    let id = c["id"].as_str().unwrap().to_owned();
    w.callback(&w.consent(&url, Decision::Allow).await).await;
    let before = w.demo.revocations().len();
    w.demo.fail_next_revoke(3, 503);
    let (status, receipt) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["revocation"][0]["outcome"], "pending", "{receipt}");
    assert_eq!(w.member.get(&format!("/v1/connections/{id}")).await.0, 404, "deleted at once");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let db = common::TestDb::open(&w.app).await;
    loop {
        let pending = db.count("SELECT COUNT(*) FROM pending_revocations").await;
        if pending == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "revocations still pending after 20 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // 3 failed attempts and then one success per token (the failures hit the first token).
    assert!(w.demo.revocations().len() >= before + 5, "{:?}", w.demo.revocations());
    let admin = w.app.client(&w.app.create_token("acme", "admin").await);
    let (_, audit) = admin.get(&format!("/v1/audit?connection={id}")).await;
    let retried: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "revocation")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(retried, ["revoked", "revoked"], "{audit}");
}

#[tokio::test]
async fn client_credentials_and_full_access_providers() {
    let w = start().await;
    let (status, body) = w
        .member
        .post("/v1/connections", &json!({"provider": "democloud-cc", "modules": ["democloud-cc.watch_items"]}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["authorize_url"], Value::Null);
    assert_eq!(body["connection"]["status"], "active");
    assert!(body["connection"]["expires_at"].is_string());
    let cc = w.demo.token_requests().into_iter().filter(|r| r.grant_type == "client_credentials").count();
    assert_eq!(cc, 1);

    // A refused client: nothing saved.
    w.demo.fail_next_token(1, Fault::OAuthError { status: 401, error: "invalid_client".into(), description: None });
    let (status, body) = w.member.post("/v1/connections", &json!({"provider": "democloud-cc"})).await;
    assert_eq!((status, code(&body)), (422, "credential_rejected"), "{body}");
    let (_, list) = w.member.get("/v1/connections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // A provider that cannot limit access requests every scope, whatever the module needs.
    let (_, url) = w.create(json!({"provider": "democloud-full", "modules": ["democloud-full.watch_items"]})).await;
    assert_eq!(query(&url)["scope"], "admin items:delete items:read items:write profile");
}

#[tokio::test]
async fn own_oauth_client_from_advanced_settings_with_client_secret_post() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let providers = tempfile::tempdir().unwrap();
    // A provider file without a platform client: users bring their own in the advanced settings.
    let yaml = demo.provider_yaml(
        "byo",
        ProviderYamlOptions { token_endpoint_auth: Some("client_secret_post"), ..Default::default() },
    );
    let mut yaml: String = yaml
        .lines()
        .filter(|l| !l.starts_with("client_id:") && !l.starts_with("client_secret:"))
        .map(|l| format!("{l}\n"))
        .collect();
    yaml.push_str(
        "settings:\n  - {key: client_id, label: Client ID}\n  - {key: client_secret, label: Client secret, secret: true}\n",
    );
    std::fs::write(providers.path().join("byo.yaml"), yaml).unwrap();
    let app = PatchbayProcess::start(
        BIN,
        PatchbayOptions {
            providers_dir: Some(providers.path().to_path_buf()),
            extra_env: common::engine_env().await,
            data_dir: None,
        },
    )
    .await;
    let team = app.create_team("acme").await;
    let member = app.client(&app.create_token(&team, "member").await);

    let (status, body) = member.post("/v1/connections", &json!({"provider": "byo"})).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("no OAuth client configured"), "{body}");

    let settings = json!({"client_id": demo.client_id(), "client_secret": demo.client_secret()});
    let (status, body) = member.post("/v1/connections", &json!({"provider": "byo", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");
    let c = &body["connection"];
    assert_eq!(c["settings"]["client_id"], demo.client_id());
    assert!(c["settings"].get("client_secret").is_none(), "the secret setting is never shown");
    assert_eq!(c["secret_settings"], json!(["client_secret"]));
    assert!(!body.to_string().contains(demo.client_secret()));
    assert_eq!(query(body["authorize_url"].as_str().unwrap())["client_id"], demo.client_id());

    demo.set_auto_decision(Some(Decision::Allow));
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    let resp = browser.get(body["authorize_url"].as_str().unwrap()).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(browser.get(&back).send().await.unwrap().status(), 303);
    let exchange = demo.token_requests().into_iter().find(|r| r.grant_type == "authorization_code").unwrap();
    assert_eq!(format!("{:?}", exchange.client_auth), "Some(Post)", "client_secret_post as declared");
    let (_, c) = member.get(&format!("/v1/connections/{}", c["id"].as_str().unwrap())).await;
    assert_eq!(c["status"], "active", "{c}");
}

#[tokio::test]
async fn client_credentials_tokens_are_reobtained_when_they_expire() {
    let w = start().await;
    w.demo.set_access_token_ttl(std::time::Duration::from_secs(1));
    let (status, body) = w.member.post("/v1/connections", &json!({"provider": "democloud-cc"})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["connection"]["id"].as_str().unwrap().to_owned();
    w.demo.set_access_token_ttl(std::time::Duration::from_secs(3600));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let runtime = w.app.client(&w.app.create_token("acme", "runtime").await);
    let (status, token) = runtime.post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200, "{token}");
    assert!(
        w.demo.is_access_token_valid(token["access_token"].as_str().unwrap()),
        "a fresh token, not the expired one"
    );
    let grants = w.demo.token_requests().into_iter().filter(|r| r.grant_type == "client_credentials").count();
    assert_eq!(grants, 2);
}
