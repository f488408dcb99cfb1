//! Connections through the in-process service: create/list/get/rename/verify/delete of an
//! API-key connection against the mock provider, what each of the five actors may do, team
//! isolation, and an OAuth token that expires on the fixed clock and is then refreshed.

use std::time::Duration;

use patchbay_demo_provider::DemoOptions;
use patchbay_domain::clock::Clock as _;
use serde_json::{Value, json};

use crate::common::test_app::TestApp;
use crate::common::{code, message};

#[tokio::test]
async fn an_api_key_connection_is_created_listed_read_renamed_and_deleted() {
    let app = TestApp::builder().mock().build().await;
    let key = patchbay_testkit::canary("bearer");
    app.mock().add_key(&key, "ops@acme.test");

    let (status, body) = app
        .member()
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": key}}))
        .await;
    assert_eq!(status, 201, "{body}");
    let c = &body["connection"];
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!((c["name"].clone(), c["status"].clone()), (json!("My Mock Bearer connection"), json!("active")));
    assert_eq!(c["account"], "ops@acme.test");
    assert_eq!(c["credential"]["state"], "set");
    assert_eq!(body["authorize_url"], Value::Null);
    let now = app.clock.now().unix_timestamp();
    let verified_at = time::OffsetDateTime::parse(
        c["last_verified_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(verified_at.unix_timestamp(), now, "the service reads the fixed clock");
    assert_eq!(app.mock().requests_to("/bearer/me").len(), 1, "verified once at the provider");

    let second = app.bearer_connection(&patchbay_testkit::canary("k2"), "two@acme.test", None).await;
    assert_eq!(second["name"], "My Mock Bearer connection 2");
    let (status, list) = app.viewer().get("/v1/connections").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (status, got) = app.viewer().get(&format!("/v1/connections/{id}")).await;
    assert_eq!((status, got["id"].clone()), (200, json!(id)));

    let (status, renamed) = app.member().patch(&format!("/v1/connections/{id}"), &json!({"name": "  Billing  "})).await;
    assert_eq!((status, renamed["name"].clone()), (200, json!("Billing")), "{renamed}");
    let (status, clash) =
        app.member().patch(&format!("/v1/connections/{id}"), &json!({"name": "My Mock Bearer connection 2"})).await;
    assert_eq!((status, code(&clash)), (409, "conflict"), "{clash}");

    let (status, v) = app.member().post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");

    let (status, receipt) = app.member().delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["secret_destroyed"], true);
    let (status, gone) = app.viewer().get(&format!("/v1/connections/{id}")).await;
    assert_eq!((status, code(&gone)), (404, "not_found"));
    let (_, list) = app.viewer().get("/v1/connections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn each_of_the_five_actors_may_do_exactly_its_part() {
    let app = TestApp::builder().mock().build().await;
    let c = app.bearer_connection("role-key", "roles@acme.test", Some("Shared")).await;
    let id = c["id"].as_str().unwrap();
    let create = json!({"provider": "mock-bearer", "credentials": {"api_key": "role-key"}});
    let rename = json!({"name": "Renamed"});
    let path = format!("/v1/connections/{id}");

    // Read: everyone of the team. The audit trail and webhooks: admins only.
    for (who, client) in
        [("admin", app.admin()), ("member", app.member()), ("viewer", app.viewer()), ("runtime", app.runtime())]
    {
        assert_eq!(client.get(&path).await.0, 200, "{who} reads");
        assert_eq!(client.get("/v1/connections").await.0, 200, "{who} lists");
        let expected = if who == "admin" { 200 } else { 403 };
        assert_eq!(client.get("/v1/audit").await.0, expected, "{who} and the audit trail");
        assert_eq!(client.get("/v1/webhooks").await.0, expected, "{who} and webhooks");
    }
    // Manage: admin and member; viewer and runtime are refused with `forbidden`.
    for (who, client) in [("viewer", app.viewer()), ("runtime", app.runtime())] {
        let (status, body) = client.post("/v1/connections", &create).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{who}: {body}");
        assert_eq!(client.patch(&path, &rename).await.0, 403, "{who} renames");
        assert_eq!(client.post_empty(&format!("{path}/verify")).await.0, 403, "{who} verifies");
        assert_eq!(client.delete(&path).await.0, 403, "{who} deletes");
    }
    for (who, client) in [("admin", app.admin()), ("member", app.member())] {
        assert_eq!(client.patch(&path, &json!({"name": format!("By {who}")})).await.0, 200, "{who} renames");
        assert_eq!(client.post_empty(&format!("{path}/verify")).await.0, 200, "{who} verifies");
    }
    // Use the credential: runtime and admin; member and viewer are refused.
    for (who, client, expected) in [
        ("runtime", app.runtime(), 200),
        ("admin", app.admin(), 200),
        ("member", app.member(), 403),
        ("viewer", app.viewer(), 403),
    ] {
        let (status, body) = client.post(&format!("{path}/token"), &json!({})).await;
        assert_eq!(status, expected, "{who} asks for the credential: {body}");
    }
    // No token at all.
    let (status, body) = app.anonymous.get("/v1/connections").await;
    assert_eq!(status, 401, "{body}");
    // The other team's admin is the fifth actor: it sees nothing of this team.
    let (status, body) = app.other_team().get(&path).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{}", message(&body));
}

#[tokio::test]
async fn another_team_gets_404_for_everything_and_sees_nothing() {
    let app = TestApp::builder().mock().build().await;
    let c = app.bearer_connection("iso-key", "iso@acme.test", Some("Shared")).await;
    let id = c["id"].as_str().unwrap();
    let missing = "con_00000000000000000000000000000000";
    for path in [format!("/v1/connections/{id}"), format!("/v1/connections/{missing}")] {
        let (s1, b1) = app.other_team().get(&path).await;
        let (s2, _) = app.other_team().patch(&path, &json!({"name": "stolen"})).await;
        let (s3, _) = app.other_team().post_empty(&format!("{path}/verify")).await;
        let (s4, _) = app.other_team().post(&format!("{path}/token"), &json!({})).await;
        let (s5, _) = app.other_team().delete(&path).await;
        assert_eq!([s1, s2, s3, s4, s5], [404; 5], "{path}: {b1}");
    }
    let (_, list) = app.other_team().get("/v1/connections").await;
    assert_eq!(list["items"], json!([]));
    let (_, audit) = app.other_team().get("/v1/audit").await;
    assert!(!audit.to_string().contains(id), "audit trails are per team");
    let (_, still) = app.viewer().get(&format!("/v1/connections/{id}")).await;
    assert_eq!((still["name"].clone(), still["status"].clone()), (json!("Shared"), json!("active")));
}

#[tokio::test]
async fn an_oauth_token_expires_on_the_clock_and_the_token_endpoint_refreshes_it() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    app.demo().set_access_token_ttl(Duration::from_secs(3600));
    let id = app.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    let token_path = format!("/v1/connections/{id}/token");

    let (status, first) = app.runtime().post(&token_path, &json!({})).await;
    assert_eq!(status, 200, "{first}");
    let before = app.demo().refresh_grant_count();
    // Half an hour on: still the same token, no request to the provider.
    app.advance(Duration::from_secs(1800));
    let (_, same) = app.runtime().post(&token_path, &json!({})).await;
    assert_eq!(same["access_token"], first["access_token"]);
    assert_eq!(app.demo().refresh_grant_count(), before, "not due yet: no refresh");

    // Past the expiry (no sleep: the clock moves), the token endpoint refreshes first.
    app.advance(Duration::from_secs(1801));
    let (status, fresh) = app.runtime().post(&token_path, &json!({})).await;
    assert_eq!(status, 200, "{fresh}");
    assert_ne!(fresh["access_token"], first["access_token"], "a new token");
    assert_eq!(app.demo().refresh_grant_count() - before, 1, "exactly one refresh grant");
    assert!(app.demo().is_access_token_valid(fresh["access_token"].as_str().unwrap()));
    let expires_at = time::OffsetDateTime::parse(
        fresh["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expected = app.clock.now() + time::Duration::hours(1);
    assert_eq!(expires_at.unix_timestamp(), expected.unix_timestamp(), "the new expiry counts from the clock");
    assert_eq!(app.connection(&id).await["status"], "active");
    assert_eq!(app.events("connection.refreshed").await.len(), 1);
}
