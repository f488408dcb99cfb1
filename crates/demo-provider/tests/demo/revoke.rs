//! RFC 7009 revocation and the `revoke_all` knob.

use patchbay_demo_provider::{DEFAULT_ACCOUNT, DemoOptions};
use reqwest::StatusCode;

use crate::common::*;

async fn revoke(demo: &patchbay_demo_provider::DemoProvider, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(demo.revocation_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(form)
        .send()
        .await
        .expect("revocation request")
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let (_, second) = refresh(&demo, s(&first, "refresh_token")).await;
    let rt = s(&second, "refresh_token");
    let response = revoke(&demo, &[("token", rt), ("token_type_hint", "refresh_token")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!demo.is_access_token_valid(s(&second, "access_token")));
    assert!(demo.live_refresh_tokens(DEFAULT_ACCOUNT).is_empty());
    assert_eq!(refresh(&demo, rt).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(demo.revocations(), vec![(rt.to_owned(), Some("refresh_token".to_owned()))]);
}

#[tokio::test]
async fn revoking_an_access_token_keeps_the_refresh_token() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let at = s(&first, "access_token");
    assert_eq!(revoke(&demo, &[("token", at)]).await.status(), StatusCode::OK);
    assert!(!demo.is_access_token_valid(at));
    assert_eq!(me(&demo, at).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&demo, s(&first, "refresh_token")).await.0, StatusCode::OK);
    assert_eq!(demo.revocations(), vec![(at.to_owned(), None)]);
}

#[tokio::test]
async fn unknown_tokens_get_200_and_bad_clients_401() {
    let demo = auto_allow(DemoOptions::default()).await;
    assert_eq!(revoke(&demo, &[("token", "dat_never_issued")]).await.status(), StatusCode::OK);
    let response = client()
        .post(demo.revocation_url())
        .basic_auth(demo.client_id(), Some("wrong"))
        .form(&[("token", "dat_x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_client");
    assert_eq!(revoke(&demo, &[]).await.status(), StatusCode::BAD_REQUEST);
    // Every call is in the ledger, refused ones included.
    assert_eq!(demo.revocations().len(), 3);
}

#[tokio::test]
async fn fail_next_revoke_answers_the_status_without_revoking() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let at = s(&first, "access_token");
    demo.fail_next_revoke(2, 503);
    for _ in 0..2 {
        let response = revoke(&demo, &[("token", at)]).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(demo.is_access_token_valid(at));
    }
    assert_eq!(revoke(&demo, &[("token", at)]).await.status(), StatusCode::OK);
    assert!(!demo.is_access_token_valid(at));
    assert_eq!(demo.revocations().len(), 3);
}

#[tokio::test]
async fn revoke_all_kills_every_token() {
    let demo = auto_allow(DemoOptions::default()).await;
    let user = consent(&demo, "profile").await;
    let service: serde_json::Value =
        token_request(&demo, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    demo.revoke_all();
    assert!(!demo.is_access_token_valid(s(&user, "access_token")));
    assert!(!demo.is_access_token_valid(s(&service, "access_token")));
    assert_eq!(refresh(&demo, s(&user, "refresh_token")).await.0, StatusCode::BAD_REQUEST);
    assert!(demo.live_refresh_tokens(DEFAULT_ACCOUNT).is_empty());
}
