//! Step-up: a proxied call answered `403 insufficient_scope` records the scopes it named as
//! missing on the connection, and extending permissions asks for them.

use serde_json::json;

use crate::common::test_app::TestApp;

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect()
}

#[tokio::test]
async fn insufficient_scope_is_recorded_as_missing_and_extending_grants_it() {
    let w = TestApp::builder().demo(Default::default()).build().await;
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let before = w.connection(&id).await;
    assert!(strings(&before["missing_scopes"]).is_empty(), "{before}");

    // Creating an item needs items:write, which Demo Cloud names in its 403 challenge.
    let items = format!("/v1/connections/{id}/proxy/api/items");
    let (status, body) = w.runtime().post(&items, &json!({"title": "x"})).await;
    assert_eq!(status, 403, "{body}");
    let c = w.connection(&id).await;
    assert_eq!(strings(&c["missing_scopes"]), ["items:write"], "{c}");
    assert_eq!(strings(&c["requested_scopes"]), ["items:write"]);

    // A second 403 adds nothing; an undeclared scope is never taken.
    assert_eq!(w.runtime().post(&items, &json!({"title": "x"})).await.0, 403);
    assert_eq!(strings(&w.connection(&id).await["requested_scopes"]), ["items:write"]);

    // Extending permissions (a reauthorize without a body) asks for the recorded scope.
    w.extend(&id, json!({})).await;
    let scope = w.demo().authorize_requests().last().and_then(|r| r.param("scope").map(str::to_owned)).unwrap();
    assert!(scope.split(' ').any(|s| s == "items:write"), "{scope}");
    let c = w.connection(&id).await;
    assert!(strings(&c["missing_scopes"]).is_empty(), "{c}");
    assert!(c["granted_scopes"].to_string().contains("items:write"), "{c}");
    let (status, body) = w.runtime().post(&items, &json!({"title": "x"})).await;
    assert_eq!(status, 201, "{body}");
}
