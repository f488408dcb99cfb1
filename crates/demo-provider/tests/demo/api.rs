//! The resource API: bearer checks, scopes and the item list.

use patchbay_demo_provider::{DemoOptions, DemoProvider};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

async fn call(
    demo: &DemoProvider,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Option<Value>) {
    let mut request = client().request(method, format!("{}{path}", demo.base_url())).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).ok())
}

#[tokio::test]
async fn each_item_call_needs_its_scope() {
    let demo = auto_allow(DemoOptions::default()).await;
    let body = consent(&demo, "profile").await;
    let token = s(&body, "access_token");
    for (method, path, scope) in [
        (reqwest::Method::GET, "/api/items", "items:read"),
        (reqwest::Method::POST, "/api/items", "items:write"),
        (reqwest::Method::DELETE, "/api/items/itm_1", "items:delete"),
    ] {
        let (status, body) = call(&demo, method, path, token, Some(json!({"title": "x"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let body = body.unwrap();
        assert_eq!(s(&body, "error"), "insufficient_scope");
        assert_eq!(s(&body, "scope"), scope);
    }
}

#[tokio::test]
async fn items_can_be_listed_created_and_deleted() {
    let demo = auto_allow(DemoOptions::default()).await;
    let body = consent(&demo, "profile items:read items:write items:delete").await;
    let token = s(&body, "access_token");

    let (status, list) = call(&demo, reqwest::Method::GET, "/api/items", token, None).await;
    assert_eq!(status, StatusCode::OK);
    let seeded = list.unwrap()["items"].as_array().unwrap().len();
    assert!(seeded >= 1, "a demo call shows something");

    let (status, created) =
        call(&demo, reqwest::Method::POST, "/api/items", token, Some(json!({"title": "Buy milk"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let created = created.unwrap();
    assert_eq!(s(&created, "title"), "Buy milk");
    let id = s(&created, "id").to_owned();

    let (_, list) = call(&demo, reqwest::Method::GET, "/api/items", token, None).await;
    let items = list.unwrap()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), seeded + 1);
    assert_eq!(items.last().unwrap()["id"], id.as_str());

    let path = format!("/api/items/{id}");
    let (status, _) = call(&demo, reqwest::Method::DELETE, &path, token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&demo, reqwest::Method::DELETE, &path, token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = call(&demo, reqwest::Method::POST, "/api/items", token, Some(json!({"name": "no title"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another account sees its own list.
    demo.login_as("other@democloud.test");
    let other = consent(&demo, "items:read").await;
    let (_, list) = call(&demo, reqwest::Method::GET, "/api/items", s(&other, "access_token"), None).await;
    assert_eq!(list.unwrap()["items"].as_array().unwrap().len(), seeded);
}

#[tokio::test]
async fn bad_tokens_are_invalid_token_and_calls_are_recorded() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let (status, body) = me(&demo, "dat_unknown").await;
    assert_eq!((status, s(&body, "error")), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let response = client().get(format!("{}/api/me", demo.base_url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let calls = demo.api_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].access_token.as_deref(), Some("dat_unknown"));
    assert_eq!((calls[1].path.as_str(), calls[1].status), ("/api/me", 401));
}
