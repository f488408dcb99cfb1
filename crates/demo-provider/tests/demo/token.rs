//! The authorization code grant (with PKCE), client authentication and client credentials.

use std::time::Duration;

use patchbay_demo_provider::{
    ClientAuth, DEFAULT_ACCOUNT, DemoOptions, DemoProvider, ReuseKind, TokenEndpointAuth, TokenOutcome,
};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn full_code_flow_with_pkce() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (verifier, challenge) = pkce("full");
    let response = authorize(&demo, "profile items:read", &challenge, &[]).await;
    let params = location_params(&response);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], demo.issuer());
    let code = &params["code"];
    assert!(code.starts_with("dac_"));

    let (status, body) = exchange(&demo, code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = s(&body, "access_token");
    let refresh_token = s(&body, "refresh_token");
    assert!(access.starts_with("dat_") && refresh_token.starts_with("drt_"));
    assert_eq!(s(&body, "token_type"), "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(s(&body, "scope"), "profile items:read");
    assert!(demo.is_access_token_valid(access));
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![refresh_token]);

    let (status, me_body) = me(&demo, access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s(&me_body, "email"), DEFAULT_ACCOUNT);
    assert_eq!(s(&me_body, "name"), "Demo User");
    assert!(s(&me_body, "id").starts_with("usr_"));

    let ledger = demo.token_requests();
    assert_eq!(ledger.len(), 1);
    let record = &ledger[0];
    assert_eq!(record.grant_type, "authorization_code");
    assert_eq!(record.client_auth, Some(ClientAuth::Basic));
    assert_eq!(record.client_id.as_deref(), Some(demo.client_id()));
    assert_eq!(record.code_presented.as_deref(), Some(code.as_str()));
    assert_eq!(record.code_verifier.as_deref(), Some(verifier.as_str()));
    assert!(record.outcome.is_issued());
    assert_eq!(demo.authorize_requests().len(), 1);
    demo.shutdown().await;
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (code, verifier) = get_code(&demo, "profile").await;
    let (wrong, _) = pkce("someone-else");
    let (status, body) = exchange(&demo, &code, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s(&body, "error"), "invalid_grant");
    // Single use: even the right verifier cannot use it now.
    let (status, body) = exchange(&demo, &code, &verifier).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
}

#[tokio::test]
async fn missing_verifier_and_wrong_redirect_uri_are_invalid_grant() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (code, _) = get_code(&demo, "profile").await;
    let response =
        token_request(&demo, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)])
            .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_grant");

    let (code, verifier) = get_code(&demo, "profile").await;
    let response = token_request(
        &demo,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_grant");
}

#[tokio::test]
async fn code_replay_is_invalid_grant_and_revokes_what_it_issued() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (code, verifier) = get_code(&demo, "profile").await;
    let (status, first) = exchange(&demo, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
    let access = s(&first, "access_token");
    let refresh_token = s(&first, "refresh_token");

    let (status, body) = exchange(&demo, &code, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s(&body, "error"), "invalid_grant");

    assert!(!demo.is_access_token_valid(access));
    assert_eq!(me(&demo, access).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = refresh(&demo, refresh_token).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert!(demo.live_refresh_tokens(DEFAULT_ACCOUNT).is_empty());

    let detections = demo.reuse_detections();
    assert_eq!(detections.len(), 1);
    assert_eq!(detections[0].kind, ReuseKind::AuthorizationCode);
    assert_eq!(detections[0].presented, code);
    assert!(detections[0].revoked_tokens.contains(&access.to_owned()));
    assert!(detections[0].revoked_tokens.contains(&refresh_token.to_owned()));
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (code, verifier) = get_code(&demo, "profile").await;
    demo.advance_time(Duration::from_secs(601));
    let (status, body) = exchange(&demo, &code, &verifier).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
}

#[tokio::test]
async fn client_authentication_follows_the_options() {
    // Wrong secret.
    let demo = auto_allow(DemoOptions::default()).await;
    let response = client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_client");

    // No credentials at all.
    let response = client().post(demo.token_url()).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Both methods at once.
    let response = client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo.client_id()),
            ("client_secret", demo.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_request");

    // Post only: basic is refused, the body is accepted.
    let post_only =
        auto_allow(DemoOptions { token_endpoint_auth: TokenEndpointAuth::Post, ..DemoOptions::default() }).await;
    let basic = token_request(&post_only, &[("grant_type", "client_credentials")]).await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let post = client()
        .post(post_only.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", post_only.client_id()),
            ("client_secret", post_only.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    let auths: Vec<_> = post_only.token_requests().iter().map(|r| r.client_auth).collect();
    assert_eq!(auths, vec![Some(ClientAuth::Basic), Some(ClientAuth::Post)]);

    // Basic only: the body is refused.
    let basic_only =
        auto_allow(DemoOptions { token_endpoint_auth: TokenEndpointAuth::Basic, ..DemoOptions::default() }).await;
    let post = client()
        .post(basic_only.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", basic_only.client_id()),
            ("client_secret", basic_only.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(token_request(&basic_only, &[("grant_type", "client_credentials")]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_requests_must_be_forms_without_repeats() {
    let demo = auto_allow(DemoOptions::default()).await;
    let response = client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let repeated =
        token_request(&demo, &[("grant_type", "client_credentials"), ("scope", "profile"), ("scope", "admin")]).await;
    let body: serde_json::Value = repeated.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_request");
    let unsupported = token_request(&demo, &[("grant_type", "password")]).await;
    let body: serde_json::Value = unsupported.json().await.unwrap();
    assert_eq!(s(&body, "error"), "unsupported_grant_type");
}

#[tokio::test]
async fn client_credentials_issues_an_access_token_only() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let response =
        token_request(&demo, &[("grant_type", "client_credentials"), ("scope", "items:read items:write")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(s(&body, "access_token").starts_with("dat_"));
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(s(&body, "scope"), "items:read items:write");
    let (status, me_body) = me(&demo, s(&body, "access_token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s(&me_body, "email"), format!("{}@clients.democloud.test", demo.client_id()));

    let unknown = token_request(&demo, &[("grant_type", "client_credentials"), ("scope", "root")]).await;
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_scope");
    assert!(matches!(demo.token_requests()[1].outcome, TokenOutcome::Rejected { status: 400, .. }));
}
