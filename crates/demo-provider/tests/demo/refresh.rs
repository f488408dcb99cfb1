//! The refresh token grant under each rotation mode, reuse detection and scope narrowing.

use std::time::Duration;

use patchbay_demo_provider::{DEFAULT_ACCOUNT, DemoOptions, ReuseKind, RotationMode};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn rotation_with_reuse_detection_revokes_the_family() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile items:read").await;
    let rt1 = s(&first, "refresh_token").to_owned();

    let (status, second) = refresh(&demo, &rt1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt2 = s(&second, "refresh_token").to_owned();
    let at2 = s(&second, "access_token").to_owned();
    assert_ne!(rt1, rt2);
    assert!(rt2.starts_with("drt_"));
    assert_eq!(s(&second, "scope"), "profile items:read");
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![rt2.clone()]);

    // A second, unrelated consent of the same account survives the reuse below.
    let other = consent(&demo, "profile").await;
    let other_rt = s(&other, "refresh_token").to_owned();

    let (status, body) = refresh(&demo, &rt1).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert!(!demo.is_access_token_valid(&at2));
    assert!(!demo.is_access_token_valid(s(&first, "access_token")));
    let (status, _) = refresh(&demo, &rt2).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the newest token dies with its family");
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![other_rt.clone()]);

    let detections = demo.reuse_detections();
    assert_eq!(detections.len(), 1);
    assert_eq!(detections[0].kind, ReuseKind::RefreshToken);
    assert_eq!(detections[0].presented, rt1);
    assert_eq!(detections[0].account.as_deref(), Some(DEFAULT_ACCOUNT));
    assert!(detections[0].revoked_tokens.contains(&rt2));
    assert!(detections[0].revoked_tokens.contains(&at2));
    assert_eq!(demo.refresh_grant_count(), 3);
    let presented: Vec<_> = demo.token_requests().into_iter().filter_map(|r| r.refresh_token_presented).collect();
    assert_eq!(presented, vec![rt1.clone(), rt1, rt2]);
    assert_eq!(refresh(&demo, &other_rt).await.0, StatusCode::OK);
}

#[tokio::test]
async fn plain_rotation_refuses_old_tokens_without_revoking() {
    let demo = auto_allow(DemoOptions { refresh_rotation: RotationMode::Rotate, ..DemoOptions::default() }).await;
    let first = consent(&demo, "profile").await;
    let rt1 = s(&first, "refresh_token").to_owned();
    let (_, second) = refresh(&demo, &rt1).await;
    let rt2 = s(&second, "refresh_token").to_owned();
    let (status, body) = refresh(&demo, &rt1).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert!(demo.reuse_detections().is_empty());
    assert!(demo.is_access_token_valid(s(&second, "access_token")));
    assert_eq!(refresh(&demo, &rt2).await.0, StatusCode::OK);
}

#[tokio::test]
async fn no_rotation_repeats_the_same_refresh_token() {
    let demo = auto_allow(DemoOptions { refresh_rotation: RotationMode::None, ..DemoOptions::default() }).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token").to_owned();
    for _ in 0..3 {
        let (status, body) = refresh(&demo, &rt).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(s(&body, "refresh_token"), rt);
    }
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![rt]);
}

#[tokio::test]
async fn omit_on_refresh_sends_no_refresh_token() {
    let demo =
        auto_allow(DemoOptions { refresh_rotation: RotationMode::OmitOnRefresh, ..DemoOptions::default() }).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token").to_owned();
    let (status, body) = refresh(&demo, &rt).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(refresh(&demo, &rt).await.0, StatusCode::OK, "the old one still works");
}

#[tokio::test]
async fn refresh_scope_may_narrow_but_not_widen() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile items:read").await;
    let rt = s(&first, "refresh_token").to_owned();
    let response =
        token_request(&demo, &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "admin")]).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_scope");

    let response =
        token_request(&demo, &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "profile")]).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "scope"), "profile");
    // The family keeps its original grant.
    let (_, wide) = refresh(&demo, s(&body, "refresh_token")).await;
    assert_eq!(s(&wide, "scope"), "profile items:read");
    assert_eq!(demo.token_requests()[2].scope.as_deref(), Some("profile"));
}

#[tokio::test]
async fn expired_access_tokens_are_refused_and_refresh_still_works() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let at = s(&first, "access_token");
    demo.expire_access_tokens();
    assert!(!demo.is_access_token_valid(at));
    let (status, body) = me(&demo, at).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let (status, second) = refresh(&demo, s(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me(&demo, s(&second, "access_token")).await.0, StatusCode::OK);

    // Short lifetimes and the clock knob.
    demo.set_access_token_ttl(Duration::from_secs(30));
    let (_, third) = refresh(&demo, s(&second, "refresh_token")).await;
    assert_eq!(third["expires_in"], 30);
    demo.advance_time(Duration::from_secs(31));
    assert!(!demo.is_access_token_valid(s(&third, "access_token")));
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_the_client_and_must_exist() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (status, body) = refresh(&demo, "drt_unknown").await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let response = token_request(&demo, &[("grant_type", "refresh_token")]).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "error"), "invalid_request");
}
