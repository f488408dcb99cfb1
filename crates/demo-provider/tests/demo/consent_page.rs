//! The consent page as a browser sees it, and its form.

use patchbay_demo_provider::{DEFAULT_ACCOUNT, DemoOptions, DemoProvider, SCOPES};
use reqwest::StatusCode;

use crate::common::*;

/// The value of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden input") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

async fn page(demo: &DemoProvider, scope: &str, challenge: &str) -> String {
    let response = authorize(demo, scope, challenge, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_page_shows_client_account_scopes_and_both_buttons() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let (_, challenge) = pkce("page");
    let all: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
    let html = page(&demo, &all.join(" "), &challenge).await;
    assert!(html.contains("Demo Cloud"));
    assert!(html.contains(demo.client_id()));
    assert!(html.contains(DEFAULT_ACCOUNT));
    assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
    for (_, description) in SCOPES {
        assert!(html.contains(description), "missing `{description}`");
    }
    assert!(html.contains("action=\"/oauth/authorize/decision\""));
    // Self-contained: no scripts, no external resources.
    for forbidden in ["<script", "src=", "href=", "<link", "@import", "url("] {
        assert!(!html.contains(forbidden), "page contains `{forbidden}`");
    }
}

#[tokio::test]
async fn allow_with_an_edited_account_and_fewer_scopes() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let (verifier, challenge) = pkce("form");
    let html = page(&demo, "profile items:read items:write", &challenge).await;
    let request_id = hidden(&html, "request_id");
    let nonce = hidden(&html, "nonce");
    let form = [
        ("request_id", request_id.as_str()),
        ("nonce", nonce.as_str()),
        ("scope_choice", "1"),
        ("account", "grace@democloud.test"),
        ("scope", "profile"),
        ("scope", "items:write"),
        ("decision", "allow"),
    ];
    let decision_url = format!("{}/oauth/authorize/decision", demo.base_url());
    let response = client().post(&decision_url).form(&form).send().await.unwrap();
    let params = location_params(&response);
    assert_eq!(params["state"], "st-123");
    let (status, body) = exchange(&demo, &params["code"], &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s(&body, "scope"), "profile items:write");
    let (_, me_body) = me(&demo, s(&body, "access_token")).await;
    assert_eq!(s(&me_body, "email"), "grace@democloud.test");

    // The pending request is single use.
    let again = client().post(&decision_url).form(&form).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deny_from_the_form_and_a_forged_nonce() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let (_, challenge) = pkce("deny-form");
    let html = page(&demo, "profile", &challenge).await;
    let request_id = hidden(&html, "request_id");
    let decision_url = format!("{}/oauth/authorize/decision", demo.base_url());

    let forged = client()
        .post(&decision_url)
        .form(&[("request_id", request_id.as_str()), ("nonce", "forged"), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    // A forged nonce does not consume the request: the real form still works.
    let response = client()
        .post(&decision_url)
        .form(&[("request_id", request_id.as_str()), ("nonce", hidden(&html, "nonce").as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    let params = location_params(&response);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], demo.issuer());
}

#[tokio::test]
async fn home_page_answers() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let response = client().get(demo.base_url()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Demo Cloud is running"));
}
