//! `GET /oauth/authorize`: decisions, partial consent, validation, `iss`, the ledger.

use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, IssParam};
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn deny_redirects_with_access_denied_state_and_iss() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    demo.set_auto_decision(Some(Decision::Deny));
    let (_, challenge) = pkce("deny");
    let response = authorize(&demo, "profile", &challenge, &[]).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("error=access_denied&error_description=The+user+denied+access&state=st-123&iss="),
        "{location}"
    );
    let params = location_params(&response);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["error_description"], "The user denied access");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], demo.issuer());
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn partial_grant_narrows_the_token_scope() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.grant_only(Some(vec!["profile".into(), "items:read".into()]));
    let body = consent(&demo, "profile items:read items:write").await;
    assert_eq!(s(&body, "scope"), "profile items:read");
    let token = s(&body, "access_token");
    let response = client()
        .post(format!("{}/api/items", demo.base_url()))
        .bearer_auth(token)
        .json(&serde_json::json!({"title": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Nothing requested is granted: access_denied.
    demo.grant_only(Some(vec!["admin".into()]));
    let (_, challenge) = pkce("none");
    let params = location_params(&authorize(&demo, "profile", &challenge, &[]).await);
    assert_eq!(params["error"], "access_denied");
}

#[tokio::test]
async fn login_as_sets_the_account() {
    let demo = auto_allow(DemoOptions::default()).await;
    demo.login_as("ada@democloud.test");
    let body = consent(&demo, "profile").await;
    let (_, me_body) = me(&demo, s(&body, "access_token")).await;
    assert_eq!(s(&me_body, "email"), "ada@democloud.test");
    assert_eq!(demo.live_refresh_tokens("ada@democloud.test").len(), 1);
}

#[tokio::test]
async fn bad_client_or_redirect_uri_gets_a_page_not_a_redirect() {
    let demo = auto_allow(DemoOptions { redirect_uris: vec![REDIRECT_URI.to_owned()], ..DemoOptions::default() }).await;
    let (_, challenge) = pkce("bad");
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("client_id", "someone-else"), ("redirect_uri", REDIRECT_URI)],
        vec![("client_id", demo.client_id()), ("redirect_uri", "http://127.0.0.1:9/elsewhere")],
        vec![("client_id", demo.client_id()), ("redirect_uri", "not a url")],
        vec![("client_id", demo.client_id()), ("redirect_uri", "ftp://127.0.0.1/cb")],
        vec![("client_id", demo.client_id())],
    ];
    for case in cases {
        let mut params =
            vec![("response_type", "code"), ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
        params.extend(case.iter().copied());
        let response = client().get(demo.authorization_url()).query(&params).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case:?}");
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("cannot be completed"), "{html}");
    }
}

#[tokio::test]
async fn other_problems_are_redirected_to_the_client() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (_, challenge) = pkce("errs");
    // Unknown scope.
    let params = location_params(&authorize(&demo, "profile root", &challenge, &[]).await);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], demo.issuer());

    // No PKCE.
    let response = client()
        .get(demo.authorization_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", demo.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location_params(&response)["error"], "invalid_request");

    // plain PKCE.
    let response = client()
        .get(demo.authorization_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", demo.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "plain"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location_params(&response)["error"], "invalid_request");

    // Wrong response type.
    let response = client()
        .get(demo.authorization_url())
        .query(&[
            ("response_type", "token"),
            ("client_id", demo.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location_params(&response)["error"], "unsupported_response_type");

    // Repeated state.
    let response = authorize(&demo, "profile", &challenge, &[("state", "again")]).await;
    assert_eq!(location_params(&response)["error"], "invalid_request");
}

#[tokio::test]
async fn pkce_is_optional_when_not_required() {
    let demo = auto_allow(DemoOptions { require_pkce: false, ..DemoOptions::default() }).await;
    let response = client()
        .get(demo.authorization_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", demo.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "profile"),
        ])
        .send()
        .await
        .unwrap();
    let code = location_params(&response)["code"].clone();
    // A verifier for a code issued without a challenge is a downgrade attempt.
    let (verifier, _) = pkce("late");
    let (status, body) = exchange(&demo, &code, &verifier).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_grant"));

    let response = client()
        .get(demo.authorization_url())
        .query(&[("response_type", "code"), ("client_id", demo.client_id()), ("redirect_uri", REDIRECT_URI)])
        .send()
        .await
        .unwrap();
    let code = location_params(&response)["code"].clone();
    let response =
        token_request(&demo, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT_URI)])
            .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(s(&body, "scope"), "profile", "no scope means profile");
}

#[tokio::test]
async fn extra_parameters_are_recorded() {
    let demo = auto_allow(DemoOptions::default()).await;
    let (_, challenge) = pkce("extra");
    authorize(
        &demo,
        "profile",
        &challenge,
        &[("include_granted_scopes", "true"), ("access_type", "offline"), ("prompt", "consent")],
    )
    .await;
    let records = demo.authorize_requests();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.param("include_granted_scopes"), Some("true"));
    assert_eq!(record.param("access_type"), Some("offline"));
    assert_eq!(record.param("prompt"), Some("consent"));
    assert_eq!(record.param("redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(record.param("code_challenge"), Some(challenge.as_str()));
}

#[tokio::test]
async fn iss_can_be_omitted_or_wrong() {
    let demo = auto_allow(DemoOptions { issue_iss: false, ..DemoOptions::default() }).await;
    let (_, challenge) = pkce("iss");
    let params = location_params(&authorize(&demo, "profile", &challenge, &[]).await);
    assert!(params.contains_key("code") && !params.contains_key("iss"));

    demo.set_iss_param(IssParam::Value("http://127.0.0.1:1".into()));
    let params = location_params(&authorize(&demo, "profile", &challenge, &[]).await);
    assert_eq!(params["iss"], "http://127.0.0.1:1");

    demo.set_iss_param(IssParam::Issuer);
    let params = location_params(&authorize(&demo, "profile", &challenge, &[]).await);
    assert_eq!(params["iss"], demo.issuer());
}

#[tokio::test]
async fn metadata_describes_the_server() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let body: serde_json::Value = client()
        .get(format!("{}/.well-known/oauth-authorization-server", demo.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s(&body, "issuer"), demo.issuer());
    assert_eq!(s(&body, "token_endpoint"), demo.token_url());
    assert_eq!(body["code_challenge_methods_supported"][0], "S256");
    assert_eq!(body["authorization_response_iss_parameter_supported"], true);
}
