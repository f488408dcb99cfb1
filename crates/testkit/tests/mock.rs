//! Tests of [`MockProvider`]: credentials accepted and rejected, fault knobs, the ledger, and
//! provider files that parse as Patchbay provider definitions.

use std::time::{Duration, Instant};

use patchbay_domain::provider::{AuthMode, KeyLocation, Provider};
use patchbay_testkit::{MockAuth, MockProvider};
use serde_json::{Value, json};

async fn get(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn keys_are_accepted_and_rejected_in_every_placement() {
    let mock = MockProvider::start().await;
    mock.add_key("k-good", "ann@example.com");
    mock.add_basic("bob", "pw", "bob@example.com");
    let c = client();
    let base = mock.base_url();
    let denied = json!({"error": {"message": "Invalid API key provided"}});

    let ok = json!({"email": "ann@example.com", "id": 42});
    assert_eq!(get(c.get(format!("{base}/bearer/me")).bearer_auth("k-good")).await, (200, ok.clone()));
    assert_eq!(get(c.get(format!("{base}/bearer/me")).bearer_auth("k-bad")).await, (401, denied.clone()));
    assert_eq!(get(c.get(format!("{base}/bearer/me"))).await, (401, denied.clone()));
    assert_eq!(get(c.get(format!("{base}/header/me")).header("X-Api-Key", "k-good")).await, (200, ok.clone()));
    assert_eq!(get(c.get(format!("{base}/header/me")).bearer_auth("k-good")).await.0, 401);
    assert_eq!(get(c.get(format!("{base}/query/me?api_key=k-good"))).await, (200, ok.clone()));
    assert_eq!(get(c.get(format!("{base}/query/me?api_key=k%2Dgood"))).await.0, 200, "percent-decoded");
    assert_eq!(get(c.get(format!("{base}/query/me?api_key=nope"))).await.0, 401);

    let ok_basic = json!({"user": {"email": "bob@example.com"}});
    assert_eq!(get(c.get(format!("{base}/basic/me")).basic_auth("bob", Some("pw"))).await, (200, ok_basic));
    assert_eq!(get(c.get(format!("{base}/basic/me")).basic_auth("bob", Some("no"))).await.0, 401);
    assert_eq!(get(c.get(format!("{base}/basic/me")).bearer_auth("k-good")).await.0, 401);

    let (status, body) = get(c.get(format!("{base}/tenant/acme-eu/me")).header("X-Api-Key", "k-good")).await;
    assert_eq!(
        (status, body["tenant"].clone(), body["email"].clone()),
        (200, json!("acme-eu"), json!("ann@example.com"))
    );
    assert_eq!(get(c.get(format!("{base}/tenant/acme/me"))).await.0, 401);

    assert!(mock.revoke_key("k-good"));
    assert!(!mock.revoke_key("k-good"));
    assert_eq!(get(c.get(format!("{base}/bearer/me")).bearer_auth("k-good")).await.0, 401);
    assert!(mock.revoke_basic("bob"));
    assert_eq!(get(c.get(format!("{base}/basic/me")).basic_auth("bob", Some("pw"))).await.0, 401);
    assert_eq!(get(c.get(format!("{base}/nowhere"))).await.0, 404);
}

#[tokio::test]
async fn fail_next_answers_n_requests_with_the_status_then_recovers() {
    let mock = MockProvider::start().await;
    mock.add_key("k", "a@example.com");
    let c = client();
    let url = format!("{}/bearer/me", mock.base_url());
    mock.fail_next(2, 503);
    assert_eq!(get(c.get(&url).bearer_auth("k")).await, (503, json!({"error": {"message": "injected failure"}})));
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 503);
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 200);
    mock.fail_next(1, 500);
    mock.fail_next(0, 500);
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 200, "fail_next(0) clears");
    assert_eq!(mock.request_count(), 4, "failed requests still reach the ledger");
}

#[tokio::test]
async fn delay_holds_answers() {
    let mock = MockProvider::start().await;
    mock.add_key("k", "a@example.com");
    mock.set_delay(Duration::from_millis(300));
    let c = client();
    let url = format!("{}/bearer/me", mock.base_url());
    let started = Instant::now();
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let err = c.get(&url).bearer_auth("k").timeout(Duration::from_millis(50)).send().await.expect_err("times out");
    assert!(err.is_timeout());
    assert_eq!(mock.request_count(), 2, "a request that timed out was still recorded");
    mock.set_delay(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn ledger_records_method_path_query_headers_and_body() {
    let mock = MockProvider::start().await;
    assert_eq!(mock.request_count(), 0);
    let c = client();
    let base = mock.base_url();
    c.get(format!("{base}/query/me?api_key=s3cr%20t&x=1")).send().await.unwrap();
    let (status, echo) =
        get(c.post(format!("{base}/echo/v2/items?limit=5")).header("X-Trace", "abc").body("{\"n\":1}")).await;
    assert_eq!(status, 200);
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/v2/items");
    assert_eq!(echo["query"], "limit=5");
    assert_eq!(echo["headers"]["x-trace"], "abc");
    assert_eq!(echo["body"], "{\"n\":1}");
    c.post(format!("{base}/oauth/revoke"))
        .form(&[("token", "tok 1"), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("GET", "/query/me"));
    assert_eq!(reqs[0].query.as_deref(), Some("api_key=s3cr%20t&x=1"));
    assert_eq!(reqs[0].query_param("api_key").as_deref(), Some("s3cr t"));
    assert_eq!(reqs[1].header("X-TRACE"), Some("abc"));
    assert_eq!(reqs[1].body, "{\"n\":1}");
    assert_eq!(mock.requests_to("/oauth/revoke").len(), 1);
    assert_eq!(
        mock.revocations(),
        vec![vec![
            ("token".to_owned(), "tok 1".to_owned()),
            ("token_type_hint".to_owned(), "refresh_token".to_owned())
        ]]
    );
    mock.clear_requests();
    assert_eq!(mock.request_count(), 0);
    assert!(mock.revocations().is_empty());
}

#[tokio::test]
async fn knobs_work_from_another_thread_while_running() {
    let mock = std::sync::Arc::new(MockProvider::start().await);
    let m = mock.clone();
    std::thread::spawn(move || m.add_key("from-thread", "t@example.com")).join().unwrap();
    let (status, _) = get(client().get(format!("{}/bearer/me", mock.base_url())).bearer_auth("from-thread")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn provider_files_parse_as_provider_definitions() {
    let mock = MockProvider::start().await;
    let dir = mock.write_providers_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), MockAuth::ALL.len());
    for kind in MockAuth::ALL {
        let text = std::fs::read_to_string(dir.path().join(format!("{}.yaml", kind.default_id()))).unwrap();
        let p: Provider = yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{kind:?}: {e}\n{text}"));
        assert_eq!(p.id, kind.default_id());
        assert_eq!(p.display_name, kind.display_name());
        assert_eq!(p.api_base_url.as_deref(), Some(mock.base_url().as_str()));
        assert_eq!(p.modules.len(), 2);
        let verify = p.verify.as_ref().expect("verify call");
        assert_eq!(verify.method, "GET");
        match kind {
            MockAuth::Bearer => {
                let key = p.api_key.as_ref().unwrap();
                assert_eq!(
                    (key.location, key.name.as_str(), key.prefix.as_str()),
                    (KeyLocation::Header, "Authorization", "Bearer ")
                );
                assert_eq!((verify.path.as_str(), verify.account.clone()), ("/bearer/me", vec!["/email".to_owned()]));
            }
            MockAuth::Header => assert_eq!(p.api_key.as_ref().unwrap().name, "X-Api-Key"),
            MockAuth::Query => {
                let key = p.api_key.as_ref().unwrap();
                assert_eq!((key.location, key.name.as_str()), (KeyLocation::Query, "api_key"));
            }
            MockAuth::Basic => {
                assert_eq!(p.auth_mode, AuthMode::Basic);
                assert_eq!(verify.account, vec!["/user/email".to_owned()]);
            }
            MockAuth::Tenant => {
                assert_eq!(verify.path, "/tenant/{tenant}/me");
                assert!(p.setting("tenant").is_some_and(|s| s.required));
            }
        }
    }
    let custom = mock.provider_yaml_for(MockAuth::Query, "other-id");
    let p: Provider = yaml_serde::from_str(&custom).unwrap();
    assert_eq!(p.id, "other-id");
}

#[tokio::test]
#[should_panic(expected = "unknown mock provider id")]
async fn unknown_default_id_panics() {
    let mock = MockProvider::start().await;
    let _ = mock.provider_yaml("acme");
}

#[tokio::test]
async fn shutdown_makes_the_provider_unreachable() {
    let mock = MockProvider::start().await;
    mock.add_key("k", "a@example.com");
    let c = client();
    let url = format!("{}/bearer/me", mock.base_url());
    assert_eq!(get(c.get(&url).bearer_auth("k")).await.0, 200, "opens a keep-alive connection");
    mock.shutdown().await;
    let err = c.get(&url).bearer_auth("k").send().await.expect_err("provider is down");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}
