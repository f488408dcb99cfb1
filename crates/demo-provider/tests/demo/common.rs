//! Helpers shared by the tests: a client that does not follow redirects, PKCE pairs, and the
//! authorize → token round trip.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use url::Url;

/// Where the client says it wants to be sent back (never contacted: redirects are not followed).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback";

/// An HTTP client that never follows redirects.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// A demo server that answers consent requests with Allow.
pub async fn auto_allow(options: DemoOptions) -> DemoProvider {
    let demo = DemoProvider::start(options).await;
    demo.set_auto_decision(Some(Decision::Allow));
    demo
}

/// A PKCE pair `(verifier, S256 challenge)`.
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed}-{}", "v".repeat(50));
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(hash.as_ref()))
}

/// `GET /oauth/authorize` with the usual parameters plus `extra`.
pub async fn authorize(demo: &DemoProvider, scope: &str, challenge: &str, extra: &[(&str, &str)]) -> Response {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", demo.client_id()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", "st-123"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    client().get(demo.authorization_url()).query(&params).send().await.expect("authorize request")
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(response: &Response) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "expected a 303");
    let location = response.headers().get("location").expect("Location header").to_str().unwrap();
    Url::parse(location).expect("absolute Location").query_pairs().into_owned().collect()
}

/// Runs authorize (auto-allow must be on) and returns `(code, verifier)`.
pub async fn get_code(demo: &DemoProvider, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce("code");
    let response = authorize(demo, scope, &challenge, &[]).await;
    let params = location_params(&response);
    let code = params.get("code").cloned().expect("a code in the redirect");
    (code, verifier)
}

/// `POST /oauth/token` with HTTP basic client authentication.
pub async fn token_request(demo: &DemoProvider, form: &[(&str, &str)]) -> Response {
    client()
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(form)
        .send()
        .await
        .expect("token request")
}

/// Exchanges a code; returns the status and JSON body.
pub async fn exchange(demo: &DemoProvider, code: &str, verifier: &str) -> (StatusCode, Value) {
    let response = token_request(
        demo,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await;
    (response.status(), response.json().await.expect("JSON body"))
}

/// A full consent for `scope`; returns the token response.
pub async fn consent(demo: &DemoProvider, scope: &str) -> Value {
    let (code, verifier) = get_code(demo, scope).await;
    let (status, body) = exchange(demo, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `grant_type=refresh_token`; returns the status and JSON body.
pub async fn refresh(demo: &DemoProvider, refresh_token: &str) -> (StatusCode, Value) {
    let response = token_request(demo, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await;
    (response.status(), response.json().await.expect("JSON body"))
}

/// `GET /api/me` with a bearer token; returns the status and JSON body.
pub async fn me(demo: &DemoProvider, access_token: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}/api/me", demo.base_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("api request");
    (response.status(), response.json().await.expect("JSON body"))
}

/// A string field of a JSON body.
pub fn s<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a string in {body}"))
}
