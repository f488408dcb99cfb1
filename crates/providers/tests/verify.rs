//! verify_credential and apply_credential against a loopback provider.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::{TestServer, client};
use patchbay_domain::credential::Credential;
use patchbay_domain::provider::Provider;
use patchbay_providers::{Catalog, HttpError, VerifyOutcome, apply_credential, verify_credential};
use secrecy::SecretString;
use serde_json::json;

const KEY: &str = "sk-test-CANARY-1234";

/// Requests seen by the mock, as (path, headers) pairs.
type Seen = Arc<Mutex<Vec<(String, HeaderMap)>>>;

fn basic_ok(headers: &HeaderMap) -> bool {
    // "alice:pw-CANARY" in base64.
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Basic YWxpY2U6cHctQ0FOQVJZ")
}

async fn provider_mock() -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let router = Router::new()
        .route(
            "/bearer/me",
            get(|headers: HeaderMap| async move {
                if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {KEY}")) {
                    (StatusCode::OK, axum::Json(json!({"name": "", "user": {"email": "ada@example.com"}})))
                        .into_response()
                } else {
                    // Like some real providers, echo the presented key in the error.
                    let got = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
                    (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"error": {"message": format!("Incorrect API key provided: {got}")}})),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/header/me",
            get(|headers: HeaderMap| async move {
                let version = headers.get("x-api-version").and_then(|v| v.to_str().ok()) == Some("7");
                match headers.get("x-key").and_then(|v| v.to_str().ok()) {
                    Some(KEY) if version => axum::Json(json!({"data": {"id": 42}})).into_response(),
                    _ => {
                        (StatusCode::FORBIDDEN, axum::Json(json!({"message": "key lacks permission"}))).into_response()
                    }
                }
            }),
        )
        .route(
            "/query/me",
            get(|Query(q): Query<BTreeMap<String, String>>| async move {
                match q.get("api_token").map(String::as_str) {
                    Some(KEY) => {
                        axum::Json(json!({"success": true, "data": {"email": "q@example.com"}})).into_response()
                    }
                    _ => (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"success": false, "error": "unauthorized access"})),
                    )
                        .into_response(),
                }
            }),
        )
        .route(
            "/basic/me",
            get(|headers: HeaderMap| async move {
                if basic_ok(&headers) {
                    axum::Json(json!({"user": {"email": "alice@example.com"}})).into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, "Forbidden").into_response()
                }
            }),
        )
        .route(
            "/tenant/{name}/me",
            get(move |Path(name): Path<String>, headers: HeaderMap| {
                let record = record.clone();
                async move {
                    record.lock().unwrap().push((format!("/tenant/{name}/me"), headers));
                    axum::Json(json!({"email": format!("{name}@example.com")}))
                }
            }),
        )
        .route(
            "/broken/me",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"message": "maintenance"}))) }),
        )
        .route("/garbage/me", get(|| async { "this is not json" }))
        .route(
            "/moved/me",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "https://elsewhere.example/me")]) }),
        );
    (TestServer::start(router).await, seen)
}

fn provider(base: &str, auth: &str) -> Provider {
    let text = format!("id: mock\ndisplay_name: Mock\napi_base_url: {base}\n{auth}");
    Catalog::parse("mock.yaml", &text, &|_| None).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn api_key(k: &str) -> Credential {
    Credential::ApiKey { key: SecretString::from(k.to_owned()) }
}

fn no_settings() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[tokio::test]
async fn bearer_header_key_is_verified_with_account_fallback() {
    let (server, _) = provider_mock().await;
    let p = provider(
        &server.base(),
        "auth_mode: api_key\napi_key: {in: header, name: Authorization, prefix: \"Bearer \"}\n\
         verify: {path: /bearer/me, account: [/name, /user/email]}\n",
    );
    let c = client(true);
    let ok = verify_credential(&c, &p, &no_settings(), &api_key(KEY)).await;
    assert_eq!(ok, VerifyOutcome::Ok { account: Some("ada@example.com".into()), account_id: None });

    let bad = verify_credential(&c, &p, &no_settings(), &api_key("sk-wrong-CANARY-9999")).await;
    match bad {
        VerifyOutcome::Rejected { status, message } => {
            assert_eq!(status, 401);
            assert!(message.contains("Mock rejected the credential (HTTP 401)"), "{message}");
            assert!(message.contains("Incorrect API key provided: Bearer [redacted]"), "{message}");
            assert!(!message.contains("CANARY"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn custom_header_key_with_static_headers_and_numeric_account() {
    let (server, _) = provider_mock().await;
    let p = provider(
        &server.base(),
        "auth_mode: api_key\napi_key: {in: header, name: X-Key}\nheaders: {X-Api-Version: \"7\"}\n\
         verify: {path: /header/me, account: /data/id}\n",
    );
    let c = client(true);
    assert_eq!(
        verify_credential(&c, &p, &no_settings(), &api_key(KEY)).await,
        VerifyOutcome::Ok { account: Some("42".into()), account_id: None }
    );
    let bad = verify_credential(&c, &p, &no_settings(), &api_key("nope")).await;
    assert_eq!(
        bad,
        VerifyOutcome::Rejected {
            status: 403,
            message: "Mock rejected the credential (HTTP 403): key lacks permission".into()
        }
    );
}

#[tokio::test]
async fn query_key() {
    let (server, _) = provider_mock().await;
    let p = provider(
        &server.base(),
        "auth_mode: api_key\napi_key: {in: query, name: api_token}\nverify: {path: /query/me, account: /data/email}\n",
    );
    let c = client(true);
    assert_eq!(
        verify_credential(&c, &p, &no_settings(), &api_key(KEY)).await,
        VerifyOutcome::Ok { account: Some("q@example.com".into()), account_id: None }
    );
    match verify_credential(&c, &p, &no_settings(), &api_key("wrong")).await {
        VerifyOutcome::Rejected { status: 401, message } => {
            assert!(message.ends_with(": unauthorized access"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn basic_auth_and_fixed_username() {
    let (server, _) = provider_mock().await;
    let c = client(true);
    let good = Credential::Basic { username: SecretString::from("alice"), password: SecretString::from("pw-CANARY") };
    let p = provider(&server.base(), "auth_mode: basic\nverify: {path: /basic/me, account: /user/email}\n");
    assert_eq!(
        verify_credential(&c, &p, &no_settings(), &good).await,
        VerifyOutcome::Ok { account: Some("alice@example.com".into()), account_id: None }
    );
    // A fixed username replaces whatever the credential carries.
    let p = provider(
        &server.base(),
        "auth_mode: basic\nbasic: {fixed_username: alice}\nverify: {path: /basic/me, account: /user/email}\n",
    );
    let other_user =
        Credential::Basic { username: SecretString::from("ignored"), password: SecretString::from("pw-CANARY") };
    assert!(verify_credential(&c, &p, &no_settings(), &other_user).await.is_ok());
    let wrong = Credential::Basic { username: SecretString::from("alice"), password: SecretString::from("nope") };
    assert_eq!(
        verify_credential(&c, &p, &no_settings(), &wrong).await,
        VerifyOutcome::Rejected { status: 401, message: "Mock rejected the credential (HTTP 401): Forbidden".into() }
    );
}

#[tokio::test]
async fn oauth_tokens_are_sent_as_bearer() {
    let (server, _) = provider_mock().await;
    let p = provider(
        &server.base(),
        "auth_mode: oauth2\nauthorization_url: http://127.0.0.1:1/authorize\ntoken_url: http://127.0.0.1:1/token\n\
         verify: {path: /bearer/me, account: /user/email}\n",
    );
    let token = Credential::OAuth2 { access_token: SecretString::from(KEY), refresh_token: None };
    assert!(verify_credential(&client(true), &p, &no_settings(), &token).await.is_ok());
}

#[tokio::test]
async fn failures_are_not_rejections() {
    let (server, _) = provider_mock().await;
    let c = client(true);
    let mk = |path: &str, account: &str| {
        provider(
            &server.base(),
            &format!(
                "auth_mode: api_key\napi_key: {{in: header, name: X-Key}}\nverify: {{path: {path}, account: {account}}}\n"
            ),
        )
    };
    let failed = |o: VerifyOutcome| match o {
        VerifyOutcome::Failed { message } => message,
        other => panic!("expected Failed, got {other:?}"),
    };
    let m = failed(verify_credential(&c, &mk("/broken/me", "/a"), &no_settings(), &api_key(KEY)).await);
    assert!(m.contains("HTTP 503") && m.contains("maintenance") && m.contains("try again later"), "{m}");
    let m = failed(verify_credential(&c, &mk("/garbage/me", "/a"), &no_settings(), &api_key(KEY)).await);
    assert!(m.contains("not JSON"), "{m}");
    let m = failed(verify_credential(&c, &mk("/moved/me", "/a"), &no_settings(), &api_key(KEY)).await);
    assert!(m.contains("redirected"), "{m}");
    // Private networks not allowed: the loopback provider is refused before any request.
    let before = server.hits();
    let m = failed(verify_credential(&client(false), &mk("/bearer/me", "/a"), &no_settings(), &api_key(KEY)).await);
    assert!(m.contains("PATCHBAY_ALLOW_PRIVATE_NETWORKS"), "{m}");
    assert_eq!(server.hits(), before);
}

#[tokio::test]
async fn settings_fill_the_path_encoded_and_hostile_hosts_fail() {
    let (server, seen) = provider_mock().await;
    let c = client(true);
    let p = provider(
        &server.base(),
        "auth_mode: api_key\napi_key: {in: header, name: X-Key}\n\
         verify: {path: \"/tenant/{tenant}/me\", account: /email}\n\
         settings:\n  - {key: tenant, label: Tenant, required: true}\n",
    );
    let settings: BTreeMap<String, String> = [("tenant".to_owned(), "acme".to_owned())].into();
    assert_eq!(
        verify_credential(&c, &p, &settings, &api_key(KEY)).await,
        VerifyOutcome::Ok { account: Some("acme@example.com".into()), account_id: None }
    );
    let settings: BTreeMap<String, String> = [("tenant".to_owned(), "..".to_owned())].into();
    assert!(matches!(verify_credential(&c, &p, &settings, &api_key(KEY)).await, VerifyOutcome::Failed { .. }));
    let missing = verify_credential(&c, &p, &no_settings(), &api_key(KEY)).await;
    assert!(
        matches!(&missing, VerifyOutcome::Failed { message } if message.contains("`tenant` is not set")),
        "{missing:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);

    // A host placeholder with a hostile value never produces a request.
    let p = provider(
        "https://{sub}.zendesk.com/api/v2",
        "auth_mode: api_key\napi_key: {in: header, name: X-Key}\nverify: {path: /users/me.json}\n\
         settings:\n  - {key: sub, label: Subdomain, required: true}\n",
    );
    for hostile in ["evil.example/", "a.b", "x@127.0.0.1", "127.0.0.1:1234#"] {
        let settings: BTreeMap<String, String> = [("sub".to_owned(), hostile.to_owned())].into();
        match verify_credential(&c, &p, &settings, &api_key(KEY)).await {
            VerifyOutcome::Failed { message } => {
                assert!(message.contains("single DNS label"), "{message}")
            }
            other => panic!("{hostile}: {other:?}"),
        }
    }
}

/// N-03: a credential is only attached to requests for the provider's API host.
#[tokio::test]
async fn credentials_are_never_attached_to_other_hosts() {
    let (server, _) = provider_mock().await;
    let c = client(true);
    let p = provider(
        &server.base(),
        "auth_mode: api_key\napi_key: {in: header, name: X-Key}\nverify: {path: /header/me}\n",
    );
    let other_port = format!("http://127.0.0.1:{}/header/me", server.addr.port() + 1);
    for url in [other_port.as_str(), "http://localhost/header/me", "https://attacker.example/x"] {
        let request = c.request(http::Method::GET, url::Url::parse(url).unwrap()).unwrap();
        match apply_credential(request, &p, &api_key(KEY)) {
            Err(HttpError::Blocked { reason, .. }) => {
                assert!(reason.contains("not the API host"), "{reason}")
            }
            Ok(_) => panic!("{url}: credential attached"),
            Err(other) => panic!("{url}: {other:?}"),
        }
    }
    // The declared host takes it, with any single-label value where the template has a placeholder.
    let zendesk = provider(
        "https://{sub}.zendesk.com/api/v2",
        "auth_mode: api_key\napi_key: {in: header, name: X-Key}\nsettings:\n  - {key: sub, label: Sub, required: true}\n",
    );
    for (url, ok) in [
        ("https://acme.zendesk.com/api/v2/users", true),
        ("https://acme.evil.zendesk.com/api/v2", false),
        ("https://zendesk.com/api/v2", false),
        ("http://acme.zendesk.com/api/v2", false),
        ("https://acme.zendesk.com:8443/api/v2", false),
        ("https://acme.zendesk.com.evil.example/", false),
    ] {
        let request = reqwest::Client::new().get(url);
        assert_eq!(apply_credential(request, &zendesk, &api_key(KEY)).is_ok(), ok, "{url}");
    }
    let built = apply_credential(reqwest::Client::new().get("https://acme.zendesk.com/x"), &zendesk, &api_key(KEY))
        .unwrap()
        .build()
        .unwrap();
    let value = built.headers().get("x-key").unwrap();
    assert!(value.is_sensitive());
    assert_eq!(value.to_str().unwrap(), KEY);
}
