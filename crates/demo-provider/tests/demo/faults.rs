//! Every fault knob of the token endpoint.

use std::time::Duration;

use patchbay_demo_provider::{DEFAULT_ACCOUNT, DemoOptions, Fault, TokenOutcome};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn status_fault_leaves_the_code_unused() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (code, verifier) = get_code(&demo, "profile").await;
    demo.fail_next_token(2, Fault::Status(503));
    for _ in 0..2 {
        let response = token_request(
            &demo,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let (status, body) = exchange(&demo, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ledger = demo.token_requests();
    assert_eq!(ledger.len(), 3);
    assert_eq!(ledger[0].fault, Some(Fault::Status(503)));
    assert_eq!(ledger[0].outcome, TokenOutcome::NotProcessed);
    assert!(ledger[2].outcome.is_issued() && ledger[2].fault.is_none());
}

#[tokio::test]
async fn oauth_error_fault_sends_the_error_body() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token");
    demo.fail_next_token(
        1,
        Fault::OAuthError {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("Token has been expired or revoked.".into()),
        },
    );
    let (status, body) = refresh(&demo, rt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s(&body, "error"), "invalid_grant");
    assert_eq!(s(&body, "error_description"), "Token has been expired or revoked.");
    // Not processed: the refresh token was not rotated and still works.
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![rt.to_owned()]);
    assert_eq!(refresh(&demo, rt).await.0, StatusCode::OK);
    assert_eq!(demo.refresh_grant_count(), 2);
}

#[tokio::test]
async fn retry_after_fault_is_429_with_the_header() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.fail_next_token(1, Fault::RetryAfter { secs: 7 });
    let response = token_request(&demo, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(token_request(&demo, &[("grant_type", "client_credentials")]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn delay_fault_makes_impatient_clients_time_out() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.fail_next_token(1, Fault::Delay(Duration::from_secs(3)));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let err = impatient
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect_err("the request times out");
    assert!(err.is_timeout(), "{err:?}");

    // A patient client gets the answer after the delay.
    demo.fail_next_token(1, Fault::Delay(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let response = token_request(&demo, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn reset_fault_closes_the_connection_without_processing() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token");
    demo.fail_next_token(1, Fault::Reset);
    let err = client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(demo.live_refresh_tokens(DEFAULT_ACCOUNT), vec![rt.to_owned()]);
    assert_eq!(demo.token_requests().last().unwrap().fault, Some(Fault::Reset));
    // The server keeps serving.
    assert_eq!(refresh(&demo, rt).await.0, StatusCode::OK);
}

#[tokio::test]
async fn reset_after_processing_rotates_then_drops_the_answer() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token");
    demo.fail_next_token(1, Fault::ResetAfterProcessing);
    let err = client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(err.status().is_none(), "{err:?}");
    let live = demo.live_refresh_tokens(DEFAULT_ACCOUNT);
    assert_eq!(live.len(), 1);
    assert_ne!(live[0], rt, "the server rotated although the client never heard");
    match &demo.token_requests().last().unwrap().outcome {
        TokenOutcome::Issued { refresh_token, .. } => {
            assert_eq!(refresh_token.as_deref(), Some(live[0].as_str()));
        }
        other => panic!("expected Issued, got {other:?}"),
    }
    // Presenting the old token now is reuse.
    assert_eq!(refresh(&demo, rt).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(demo.reuse_detections().len(), 1);
}

#[tokio::test]
async fn delay_after_processing_rotates_before_the_client_gives_up() {
    let demo = auto_allow(DemoOptions::default()).await;
    let first = consent(&demo, "profile").await;
    let rt = s(&first, "refresh_token");
    demo.fail_next_token(1, Fault::DelayAfterProcessing(Duration::from_secs(3)));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let err = impatient
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .expect_err("the request times out");
    assert!(err.is_timeout(), "{err:?}");
    let live = demo.live_refresh_tokens(DEFAULT_ACCOUNT);
    assert_eq!(live.len(), 1);
    assert_ne!(live[0], rt);
}

#[tokio::test]
async fn body_fault_sends_the_exact_body() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.fail_next_token(
        1,
        Fault::Body { status: 200, body: r#"{"error":"unauthorized","token_type":"Bearer"}"#.into() },
    );
    let response = token_request(&demo, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"error":"unauthorized","token_type":"Bearer"}"#);
}

#[tokio::test]
async fn clear_faults_drops_the_queue() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.fail_next_token(3, Fault::Status(500));
    demo.fail_next_revoke(3, 500);
    demo.clear_faults();
    assert_eq!(token_request(&demo, &[("grant_type", "client_credentials")]).await.status(), StatusCode::OK);
    demo.clear_ledger();
    assert!(demo.token_requests().is_empty());
}

#[tokio::test]
async fn shutdown_closes_the_port_and_fixed_ports_work() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let demo = auto_allow(DemoOptions { port: Some(port), ..DemoOptions::default() }).await;
    assert_eq!(demo.port(), port);
    assert_eq!(demo.base_url(), format!("http://127.0.0.1:{port}"));
    let clone = demo.clone();
    clone.shutdown().await;
    let err = client().get(demo.base_url()).send().await.expect_err("the port is closed");
    assert!(err.is_connect(), "{err:?}");
}
