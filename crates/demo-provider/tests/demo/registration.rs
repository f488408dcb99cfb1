//! Discovery and dynamic registration: RFC 8414 and RFC 9728 metadata, `POST /register`
//! (RFC 7591), a registered client through the whole code flow, and the `resource` check.

use patchbay_demo_provider::{DemoOptions, REGISTERED_CLIENT_PREFIX};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{REDIRECT_URI, auto_allow, client, location_params, pkce, s};

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = client().get(url).send().await.expect("request");
    (response.status(), response.json().await.expect("JSON body"))
}

async fn register(base: &str, body: Value) -> (StatusCode, Value) {
    let response = client().post(format!("{base}/register")).json(&body).send().await.expect("register");
    (response.status(), response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn metadata_names_the_registration_endpoint_and_the_resource_points_at_the_server() {
    let demo = auto_allow(DemoOptions::default()).await;
    let base = demo.base_url();
    let (status, server) = get_json(&format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s(&server, "registration_endpoint"), demo.registration_url());
    let (status, resource) = get_json(&format!("{base}/.well-known/oauth-protected-resource/api")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s(&resource, "resource"), demo.resource_url());
    assert_eq!(resource["authorization_servers"], json!([demo.issuer()]));
    let unauthenticated = client().get(format!("{base}/api/items")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let challenge = unauthenticated.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{base}/.well-known/oauth-protected-resource/api\"")),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_registered_client_gets_codes_tokens_and_refreshes_with_the_resource() {
    let demo = auto_allow(DemoOptions::default()).await;
    let base = demo.base_url();
    let (status, reg) = register(
        &base,
        json!({"client_name": "Patchbay", "redirect_uris": [REDIRECT_URI],
               "grant_types": ["authorization_code", "refresh_token"],
               "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    let (id, secret) = (s(&reg, "client_id").to_owned(), s(&reg, "client_secret").to_owned());
    assert!(id.starts_with(REGISTERED_CLIENT_PREFIX));
    assert_eq!(s(&reg, "token_endpoint_auth_method"), "client_secret_post");
    assert_eq!(demo.registered_clients().len(), 1);

    let resource = demo.resource_url();
    let (verifier, challenge) = pkce("dyn");
    let (authorization_url, token_url) = (demo.authorization_url(), demo.token_url());
    let authorize = |redirect: &'static str, resource: String| {
        let url = authorization_url.clone();
        let id = id.clone();
        let challenge = challenge.clone();
        async move {
            client()
                .get(url)
                .query(&[
                    ("response_type", "code"),
                    ("client_id", id.as_str()),
                    ("redirect_uri", redirect),
                    ("scope", "items:read"),
                    ("state", "st"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("resource", resource.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // Only its exact redirect URI, and only this server's resource.
    let other_redirect = authorize("http://127.0.0.1:9/elsewhere", resource.clone()).await;
    assert_eq!(other_redirect.status(), StatusCode::BAD_REQUEST);
    let wrong_resource = location_params(&authorize(REDIRECT_URI, "https://other.example/api".into()).await);
    assert_eq!(wrong_resource["error"], "invalid_target");
    let params = location_params(&authorize(REDIRECT_URI, resource.clone()).await);
    let code = params["code"].clone();

    let token = |form: Vec<(&'static str, String)>| {
        let mut form = form;
        form.push(("client_id", id.clone()));
        form.push(("client_secret", secret.clone()));
        let url = token_url.clone();
        async move {
            let response = client().post(url).form(&form).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, tokens) = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", REDIRECT_URI.into()),
        ("code_verifier", verifier),
        ("resource", resource.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let refresh_token = s(&tokens, "refresh_token").to_owned();
    let (status, body) = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token.clone()),
        ("resource", "https://other.example/api".into()),
    ])
    .await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_target"));
    let (status, body) = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token),
        ("resource", resource.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(demo.token_requests().iter().any(|r| r.resource.as_deref() == Some(resource.as_str())));

    // The method it registered is the only one it may use.
    let basic = client()
        .post(demo.token_url())
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", s(&body, "refresh_token"))])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_registrations_are_refused_with_the_rfc_7591_error() {
    let demo = auto_allow(DemoOptions::default()).await;
    let base = demo.base_url();
    let (status, body) = register(&base, json!({"client_name": "x"})).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_redirect_uri"));
    let (status, body) = register(&base, json!({"redirect_uris": [REDIRECT_URI], "grant_types": ["password"]})).await;
    assert_eq!((status, s(&body, "error")), (StatusCode::BAD_REQUEST, "invalid_client_metadata"));
    demo.refuse_registrations(Some("registration is closed".into()));
    let (status, body) = register(&base, json!({"redirect_uris": [REDIRECT_URI]})).await;
    assert_eq!((status, s(&body, "error_description")), (StatusCode::BAD_REQUEST, "registration is closed"));
    assert!(demo.registered_clients().is_empty());
}
