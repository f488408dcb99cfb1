//! Connect a server by its URL (issue 16): `POST /v1/providers/discover` on Demo Cloud's
//! protected resource, then a connection that consents, issues tokens, proxies, refreshes exactly
//! once and is revoked on delete, all with the registered client and the `resource` parameter;
//! team scoping, roles, and what bad input leaves behind (nothing).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::test_app::{PUBLIC_URL, TestApp};

fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_server_found_by_url_gives_a_working_refreshing_revocable_connection() {
    let w = TestApp::builder().demo(Default::default()).build().await;
    let demo = w.demo().clone();
    let resource = demo.resource_url();

    let (status, body) = w.member().post("/v1/providers/discover", &json!({"url": resource})).await;
    assert_eq!(status, 403, "admins only: {body}");
    let (status, p) = w.admin().post("/v1/providers/discover", &json!({"url": resource, "id": "items"})).await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["auth_mode"], "oauth2");
    assert_eq!(p["discovered"]["source_url"], resource);
    assert_eq!(p["discovered"]["registered_client"], true);
    assert!(p["supports_revocation"].as_bool().unwrap());
    assert!(!p.to_string().contains(demo.registered_clients()[0].client_secret.as_str()), "no secret in the view");
    let registered = demo.registered_clients();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].redirect_uris, [format!("{PUBLIC_URL}/oauth/callback")]);

    // Listed with the built-ins for this team only.
    let (_, list) = w.member().get("/v1/providers").await;
    assert!(ids(&list).contains(&"items".to_owned()) && ids(&list).contains(&"democloud".to_owned()));
    let (_, other) = w.other_team().get("/v1/providers").await;
    assert!(!ids(&other).contains(&"items".to_owned()));
    assert_eq!(w.other_team().get("/v1/providers/items").await.0, 404);
    let (status, _) = w.other_team().post("/v1/connections", &json!({"provider": "items"})).await;
    assert_eq!(status, 400, "another team cannot use it");

    // A connection with least privilege, consented with the registered client and the resource.
    let id = w.connect(json!({"provider": "items", "scopes": ["items:read"]})).await;
    let authorize = demo.authorize_requests().last().cloned().unwrap();
    assert_eq!(authorize.param("client_id"), Some(registered[0].client_id.as_str()));
    assert_eq!(authorize.param("resource"), Some(resource.as_str()));
    assert_eq!(authorize.param("scope"), Some("items:read"));
    let c = w.connection(&id).await;
    assert_eq!(c["status"], "active", "{c}");

    let token = format!("/v1/connections/{id}/token");
    let (status, t) = w.runtime().post(&token, &json!({})).await;
    assert_eq!(status, 200, "{t}");
    let (status, items) = w.runtime().get(&format!("/v1/connections/{id}/proxy/items")).await;
    assert_eq!(status, 200, "{items}");

    // Refresh exactly once when due, with the resource.
    w.advance(Duration::from_secs(2 * 3600));
    let before = demo.refresh_grant_count();
    let (status, t2) = w.runtime().post(&token, &json!({})).await;
    assert_eq!(status, 200, "{t2}");
    assert_ne!(t["access_token"], t2["access_token"]);
    let (status, _) = w.runtime().post(&token, &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(demo.refresh_grant_count(), before + 1);
    assert!(demo.token_requests().iter().all(|r| r.resource.as_deref() == Some(resource.as_str())));

    // Rediscovery keeps the client; a provider in use cannot be deleted.
    let (status, again) = w.admin().post_empty("/v1/providers/items/rediscover").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(w.admin().delete("/v1/providers/items").await.0, 409);
    assert_eq!(w.runtime().post(&token, &json!({})).await.0, 200, "still works after rediscovery");

    // Deleting the connection revokes at the server; then the provider can go.
    let revoked_before = demo.revocations().len();
    let (status, receipt) = w.member().delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert!(demo.revocations().len() > revoked_before, "revoked on delete");
    assert_eq!(w.admin().delete("/v1/providers/items").await.0, 204);
    assert!(!ids(&w.member().get("/v1/providers").await.1).contains(&"items".to_owned()));
}

async fn count(w: &TestApp) -> usize {
    ids(&w.admin().get("/v1/providers").await.1).len()
}

#[tokio::test]
async fn bad_discoveries_store_nothing() {
    let w = TestApp::builder().demo(Default::default()).build().await;
    let demo = w.demo().clone();
    let before = count(&w).await;
    let (status, body) = w.admin().post("/v1/providers/discover", &json!({"url": "not a url"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        w.admin().post("/v1/providers/discover", &json!({"url": demo.base_url(), "id": "Bad Id"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        w.admin().post("/v1/providers/discover", &json!({"url": demo.base_url(), "id": "democloud"})).await;
    assert_eq!(status, 409, "a catalog id: {body}");
    demo.refuse_registrations(Some("closed today".into()));
    let (status, body) = w.admin().post("/v1/providers/discover", &json!({"url": demo.base_url()})).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.to_string().contains("closed today"), "the server's error is reported: {body}");
    let free = format!("http://127.0.0.1:{}", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let (status, _) = w.admin().post("/v1/providers/discover", &json!({"url": free})).await;
    assert_eq!(status, 502);
    assert_eq!(count(&w).await, before, "nothing was stored");
    // With the user's own client, no registration is needed.
    let (status, p) = w
        .admin()
        .post(
            "/v1/providers/discover",
            &json!({"url": demo.base_url(), "client_id": demo.client_id(), "client_secret": demo.client_secret()}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["discovered"]["registered_client"], false);
    assert!(!p.to_string().contains(demo.client_secret()));
}
