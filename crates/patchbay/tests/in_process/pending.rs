//! Never-granted connections (docs/api.md, "Never-granted connections"): a denied or abandoned
//! consent leaves a `pending` connection that does not block its name (a create with it
//! continues the same connection), can be discarded, and is discarded by the background job
//! once its last flow expired more than a day ago — each discard announced by
//! `connection.discarded`.

use std::time::Duration;

use patchbay_demo_provider::{Decision, DemoOptions};
use serde_json::json;

use crate::common::test_app::TestApp;
use crate::common::{code, message};

const HOUR: Duration = Duration::from_secs(3600);

/// Creates a Demo Cloud connection named `name` and denies its consent; returns its id.
async fn denied(app: &TestApp, name: &str) -> String {
    let (c, url) =
        app.create(json!({"provider": "democloud", "name": name, "modules": ["democloud.watch_items"]})).await;
    let back = app.consent(&url, Decision::Deny).await;
    assert_eq!(app.callback(&back).await.0, 303);
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(app.connection(&id).await["status"], "pending");
    id
}

#[tokio::test]
async fn a_denied_connection_does_not_keep_its_name_and_is_continued_under_it() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let id = denied(&app, "Items").await;

    // The same name again: the same connection, a new consent flow, and this time it is granted.
    let (again, url) = app.create(json!({"provider": "democloud", "name": "Items"})).await;
    assert_eq!(again["id"], id.as_str(), "the never-granted connection is continued, not duplicated");
    let back = app.consent(&url, Decision::Allow).await;
    assert_eq!(app.callback(&back).await.0, 303);
    assert_eq!(app.connection(&id).await["status"], "active");
    let (_, list) = app.member().get("/v1/connections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // Once granted, the name is taken for good.
    let (status, clash) =
        app.member().post("/v1/connections", &json!({"provider": "democloud", "name": "Items"})).await;
    assert_eq!((status, code(&clash)), (409, "conflict"), "{clash}");
}

#[tokio::test]
async fn discard_removes_only_a_never_granted_connection_and_pickers_can_leave_them_out() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let pending = denied(&app, "Draft").await;
    let granted = app.connect(json!({"provider": "democloud", "name": "Live"})).await;

    let (status, list) = app.viewer().get("/v1/connections?status=active,degraded,needs_reauth").await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [granted.as_str()], "a picker's listing leaves the never-granted one out");

    let (status, refused) = app.member().post_empty(&format!("/v1/connections/{granted}/discard")).await;
    assert_eq!((status, code(&refused)), (409, "conflict"), "{refused}");
    assert!(message(&refused).contains("delete it instead"), "{refused}");
    assert_eq!(app.viewer().post_empty(&format!("/v1/connections/{pending}/discard")).await.0, 403);

    let (status, receipt) = app.member().post_empty(&format!("/v1/connections/{pending}/discard")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["revocation"], json!([]), "nothing was granted, so nothing is revoked");
    assert_eq!(app.member().get(&format!("/v1/connections/{pending}")).await.0, 404);
    let events = app.events("connection.discarded").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["reason"], "discarded", "{events:?}");
}

#[tokio::test]
async fn an_abandoned_consent_is_discarded_a_day_after_its_flow_expired() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let denied_id = denied(&app, "Denied").await;
    // Abandoned: the user never came back from the consent page.
    let (abandoned, _) = app.create(json!({"provider": "democloud", "name": "Abandoned"})).await;
    let abandoned = abandoned["id"].as_str().unwrap().to_owned();
    let granted = app.connect(json!({"provider": "democloud", "name": "Live"})).await;

    app.advance(23 * HOUR);
    assert_eq!(app.patchbay.discard_abandoned_connections().await.unwrap(), 0, "less than a day: kept");
    assert_eq!(app.connection(&denied_id).await["status"], "pending");

    app.advance(HOUR + Duration::from_secs(11 * 60));
    assert_eq!(app.patchbay.discard_abandoned_connections().await.unwrap(), 2);
    for id in [&denied_id, &abandoned] {
        assert_eq!(app.member().get(&format!("/v1/connections/{id}")).await.0, 404, "{id} discarded");
    }
    assert_eq!(app.connection(&granted).await["status"], "active", "a granted connection is never discarded");
    let events = app.events("connection.discarded").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["data"]["reason"] == "abandoned"), "{events:?}");
    let names: Vec<&str> = events.iter().map(|e| e["data"]["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Denied") && names.contains(&"Abandoned"), "{names:?}");
    assert_eq!(app.patchbay.discard_abandoned_connections().await.unwrap(), 0, "each is discarded once");
}

#[tokio::test]
async fn continuing_a_connection_restarts_its_day() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let id = denied(&app, "Retried").await;
    app.advance(20 * HOUR);
    // Continue from its card: a new flow, which the user abandons too.
    let (status, start) = app.member().post(&format!("/v1/connections/{id}/reauthorize"), &json!({})).await;
    assert_eq!(status, 200, "{start}");
    app.advance(20 * HOUR);
    assert_eq!(app.patchbay.discard_abandoned_connections().await.unwrap(), 0, "its last flow is recent");
    app.advance(5 * HOUR);
    assert_eq!(app.patchbay.discard_abandoned_connections().await.unwrap(), 1);
    assert_eq!(app.member().get(&format!("/v1/connections/{id}")).await.0, 404);
}
