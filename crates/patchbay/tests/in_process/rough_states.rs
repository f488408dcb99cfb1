//! The states just beside the happy path (issue 14): a connection whose consent was denied or
//! abandoned (every action that would need its credential answers 409 `not_connected`, never
//! 500, and it keeps what it was created for), a consent that granted less than asked
//! (`outcome=partial`), replacing an API key in place, a key saved unverified, and several steps
//! of a scenario sharing one new connection with the union of their scopes.

use std::time::Duration;

use patchbay_demo_provider::{Decision, DemoOptions};
use serde_json::{Value, json};

use crate::common::oauth::{json_scopes, query, scopes};
use crate::common::test_app::TestApp;
use crate::common::{code, message};

const FOR_ITEMS: &str = r#"{"provider": "democloud", "modules": ["democloud.watch_items", "democloud.create_item"]}"#;

fn strings(v: &Value) -> Vec<String> {
    json_scopes(v)
}

/// Creates a Demo Cloud connection for two modules and denies its consent; returns its id.
async fn denied(app: &TestApp) -> String {
    let (c, url) = app.create(serde_json::from_str(FOR_ITEMS).unwrap()).await;
    let back = app.consent(&url, Decision::Deny).await;
    let (status, headers, _) = app.callback(&back).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with("outcome=denied"));
    c["id"].as_str().unwrap().to_owned()
}

/// The runtime's token answer for a connection.
async fn token(app: &TestApp, id: &str) -> (u16, Value) {
    app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await
}

fn assert_not_connected(status: u16, body: &Value, what: &str) {
    assert_eq!((status, code(body)), (409, "not_connected"), "{what}: {body}");
    let m = message(body);
    assert!(m.contains("not connected yet") && m.contains("Connect"), "{what}: {m}");
    assert!(m.contains("access denied at Demo Cloud"), "{what} says why: {m}");
}

#[tokio::test]
async fn a_never_granted_connection_answers_not_connected_wherever_a_credential_is_needed() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let id = denied(&app).await;
    let c = app.connection(&id).await;
    assert_eq!(c["status"], "pending");
    assert_eq!(c["credential"]["state"], "not_set");

    // Verify (the bug: 500 "Internal error"), the token endpoint and the proxy.
    let (status, body) = app.member().post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_not_connected(status, &body, "verify");
    let (status, body) = app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_not_connected(status, &body, "token");
    let (status, body) =
        app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({"module": "democloud.watch_items"})).await;
    // The module check comes first: nothing is granted, so the scopes are missing.
    assert_eq!((status, code(&body)), (403, "missing_scopes"), "token for a module: {body}");
    let (status, body) = app.runtime().get(&format!("/v1/connections/{id}/proxy/api/items")).await;
    assert_not_connected(status, &body, "proxy");
    let (status, body) = app.runtime().post(&format!("/v1/connections/{id}/proxy/api/items"), &json!({})).await;
    assert_not_connected(status, &body, "proxy POST");
    // An update of the credential is for API keys and passwords only.
    let (status, body) =
        app.member().put(&format!("/v1/connections/{id}/credentials"), &json!({"credentials": {"api_key": "x"}})).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("reauthorize"), "{body}");

    // The scheduler leaves it alone: no decryption attempt, no status change.
    app.advance(Duration::from_secs(3 * 24 * 3600));
    app.patchbay.run_due_connections().await.unwrap();
    assert_eq!(app.connection(&id).await["status"], "pending");
    let (_, audit) = app.admin().get(&format!("/v1/audit?connection={id}")).await;
    let reads: Vec<&Value> =
        audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "secret.read").collect();
    assert!(reads.is_empty(), "nothing was decrypted for a connection without a credential: {reads:?}");

    // Reauthorize (Connect) works, and deleting says there was nothing to revoke.
    let (status, start) = app.member().post_empty(&format!("/v1/connections/{id}/reauthorize")).await;
    assert_eq!(status, 200, "{start}");
    let (status, receipt) = app.member().delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["revocation"][0]["outcome"], "not_needed", "{receipt}");
}

#[tokio::test]
async fn an_abandoned_consent_is_not_connected_either() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let (c, _url) = app.create(serde_json::from_str(FOR_ITEMS).unwrap()).await;
    let id = c["id"].as_str().unwrap();
    // The user never comes back; the flow expires.
    app.advance(Duration::from_secs(3600));
    let (status, body) = app.member().post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, code(&body)), (409, "not_connected"), "{body}");
    assert!(message(&body).contains("waiting for consent at Demo Cloud"), "{body}");
}

#[tokio::test]
async fn the_requested_permissions_survive_a_denied_consent_until_a_grant_covers_them() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let id = denied(&app).await;
    let wanted = ["items:read", "items:write", "profile"];

    // The card shows what the connection is for, not only `profile`.
    let c = app.connection(&id).await;
    assert_eq!(strings(&c["requested_scopes"]), wanted, "{c}");
    assert_eq!(strings(&c["required_scopes"]), wanted);
    assert_eq!(strings(&c["missing_scopes"]), wanted);

    // Reauthorize (Connect) with no body asks for all of it again.
    let (status, start) = app.member().post_empty(&format!("/v1/connections/{id}/reauthorize")).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(strings(&start["requested_scopes"]), wanted);
    let url = start["authorize_url"].as_str().unwrap();
    let mut asked: Vec<String> = query(url)["scope"].split(' ').map(str::to_owned).collect();
    asked.sort();
    assert_eq!(asked, wanted, "the consent page asks for what the connection was created for");

    // A grant that covers it: active, nothing missing, nothing left to remember.
    let back = app.consent(url, Decision::Allow).await;
    let (status, headers, _) = app.callback(&back).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with("outcome=connected"), "{headers:?}");
    let c = app.connection(&id).await;
    assert_eq!(c["status"], "active");
    assert_eq!(scopes(&c), wanted);
    assert_eq!(c["requested_scopes"], json!([]));
    assert_eq!(c["missing_scopes"], json!([]));
}

#[tokio::test]
async fn a_consent_that_grants_less_lands_with_outcome_partial_and_keeps_asking() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let (c, url) = app.create(serde_json::from_str(FOR_ITEMS).unwrap()).await;
    let id = c["id"].as_str().unwrap().to_owned();
    // The user unticks `items:write` on the consent page.
    app.demo().grant_only(Some(vec!["profile".into(), "items:read".into()]));
    let back = app.consent(&url, Decision::Allow).await;
    let (status, headers, _) = app.callback(&back).await;
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap();
    assert!(location.ends_with(&format!("/connections/{id}?outcome=partial")), "{location}");
    let c = app.connection(&id).await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["missing_scopes"], json!(["items:write"]), "{c}");
    assert_eq!(c["requested_scopes"], json!(["items:write"]));

    // The next reauthorize asks for it again; granted this time, the connection is complete.
    app.demo().grant_only(None);
    let (status, start) = app.member().post_empty(&format!("/v1/connections/{id}/reauthorize")).await;
    assert_eq!(status, 200, "{start}");
    assert!(strings(&start["requested_scopes"]).contains(&"items:write".to_owned()), "{start}");
    let back = app.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    let (_, headers, _) = app.callback(&back).await;
    assert!(headers["location"].to_str().unwrap().ends_with("outcome=connected"));
    assert_eq!(app.connection(&id).await["missing_scopes"], json!([]));
}

#[tokio::test]
async fn an_api_key_is_replaced_in_place_after_the_new_one_is_verified() {
    let app = TestApp::builder().mock().build().await;
    let old_key = patchbay_testkit::canary("old");
    let new_key = patchbay_testkit::canary("new");
    let c = app.bearer_connection(&old_key, "ops@acme.test", Some("Billing")).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let old_fingerprint = c["credential"]["fingerprint"].clone();
    // A scenario step uses it: the binding must survive the update.
    let (status, s) = app
        .member()
        .post(
            "/v1/scenarios",
            &json!({"name": "Invoices", "steps": [{"module": "mock-bearer.read_items", "connection": id}]}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let path = format!("/v1/connections/{id}/credentials");

    // A key the provider rejects: 422, and the old one keeps working.
    let (status, body) = app.member().put(&path, &json!({"credentials": {"api_key": "wrong-key"}})).await;
    assert_eq!((status, code(&body)), (422, "credential_rejected"), "{body}");
    assert!(message(&body).contains("keeps the one it had"), "{body}");
    let (status, t) = token(&app, &id).await;
    assert_eq!((status, t["access_token"].clone()), (200, json!(old_key)), "the old key is still the one");
    // The provider cannot be reached: 502 naming `"verify": false`, nothing changed.
    app.mock().add_key(&new_key, "ops@acme.test");
    app.mock().fail_next(1, 503);
    let (status, body) = app.member().put(&path, &json!({"credentials": {"api_key": new_key}})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(message(&body).contains("send \"verify\": false"), "{body}");
    assert_eq!(token(&app, &id).await.1["access_token"], json!(old_key));
    // Roles: viewer and runtime may not; another team sees nothing.
    for (who, client) in [("viewer", app.viewer()), ("runtime", app.runtime())] {
        let (status, body) = client.put(&path, &json!({"credentials": {"api_key": new_key}})).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{who}: {body}");
    }
    let (status, body) = app.other_team().put(&path, &json!({"credentials": {"api_key": new_key}})).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

    // The good key: same id, name and binding, a new fingerprint, verified, never echoed.
    let (status, updated) = app.member().put(&path, &json!({"credentials": {"api_key": new_key}})).await;
    assert_eq!(status, 200, "{updated}");
    assert!(!updated.to_string().contains(&new_key) && !updated.to_string().contains(&old_key), "{updated}");
    assert_eq!((updated["id"].clone(), updated["name"].clone()), (json!(id), json!("Billing")));
    assert_ne!(updated["credential"]["fingerprint"], old_fingerprint);
    assert_eq!((updated["status"].clone(), updated["unverified"].clone()), (json!("active"), json!(false)));
    assert_eq!(updated["used_by"][0]["scenario_name"], "Invoices", "{updated}");
    assert_eq!(token(&app, &id).await.1["access_token"], json!(new_key), "the runtime gets the new key");
    // Audited, both outcomes, without the secret.
    let (_, audit) = app.admin().get(&format!("/v1/audit?connection={id}")).await;
    let updates: Vec<&Value> =
        audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "connection.credential_update").collect();
    assert_eq!(updates.iter().map(|e| e["outcome"].as_str().unwrap()).collect::<Vec<_>>(), ["ok", "rejected"]);
    assert!(updates[0]["detail"].as_str().unwrap().contains("verified=true"));
    assert!(!audit.to_string().contains(&new_key), "no secret in the audit trail");

    // Saved without verifying: no call to the provider, shown as not verified until checked.
    let unchecked = patchbay_testkit::canary("unchecked");
    let calls = app.mock().request_count();
    let (status, body) =
        app.member().put(&path, &json!({"credentials": {"api_key": unchecked}, "verify": false})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.mock().request_count(), calls, "not sent to the provider");
    assert_eq!((body["status"].clone(), body["unverified"].clone()), (json!("active"), json!(true)), "{body}");
}

#[tokio::test]
async fn a_key_saved_without_verifying_is_marked_unverified_until_checked() {
    let app = TestApp::builder().mock().build().await;
    let key = patchbay_testkit::canary("later");
    // The provider cannot be reached: the API's answer names its own way to save anyway.
    app.mock().add_key(&key, "later@acme.test");
    app.mock().fail_next(1, 503);
    let create = json!({"provider": "mock-bearer", "credentials": {"api_key": key}});
    let (status, body) = app.member().post("/v1/connections", &create).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    assert!(message(&body).ends_with("save it without verifying (send \"verify\": false)"), "{body}");

    let create = json!({"provider": "mock-bearer", "credentials": {"api_key": key}, "verify": false});
    let (status, body) = app.member().post("/v1/connections", &create).await;
    assert_eq!(status, 201, "{body}");
    let c = &body["connection"];
    assert_eq!((c["status"].clone(), c["unverified"].clone()), (json!("active"), json!(true)), "{c}");
    let id = c["id"].as_str().unwrap();
    let (status, v) = app.member().post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, v["ok"].clone()), (200, json!(true)), "{v}");
    assert_eq!(app.connection(id).await["unverified"], false);
}

/// A scenario of three Demo Cloud steps (two of them needing more than `profile`) and a Stripe
/// step, none connected; returns its id.
async fn unconnected_scenario(app: &TestApp) -> String {
    let body = json!({"name": "Shared", "steps": [
        {"module": "democloud.watch_items"}, {"module": "democloud.create_item"},
        {"module": "stripe.list_customers"}, {"module": "democloud.get_profile"}]});
    let (status, s) = app.member().post("/v1/scenarios", &body).await;
    assert_eq!(status, 201, "{s}");
    s["id"].as_str().unwrap().to_owned()
}

async fn connection_count(app: &TestApp) -> usize {
    app.member().get("/v1/connections").await.1["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn several_steps_of_one_app_share_one_new_connection_with_the_union_of_their_scopes() {
    let app = TestApp::builder().demo(DemoOptions::default()).build().await;
    let sid = unconnected_scenario(&app).await;
    let path = format!("/v1/scenarios/{sid}/connection");

    // Bad input is refused before anything is created or bound.
    let refused = [
        (json!({"steps": [], "connection": {"provider": "democloud"}}), 400, "at least one step"),
        (json!({"steps": [0, 9], "connection": {"provider": "democloud"}}), 404, "has no step 9"),
        (json!({"steps": [0, 2], "connection": {"provider": "democloud"}}), 400, "step 2 runs `stripe.list_customers`"),
        (json!({"steps": [0], "connection": {"provider": "democloud"}, "also": 1}), 400, "unknown field"),
    ];
    for (body, want, text) in refused {
        let (status, answer) = app.member().post(&path, &body).await;
        assert_eq!(status, want, "{body}: {answer}");
        assert!(message(&answer).contains(text), "{body}: {answer}");
    }
    let (status, answer) =
        app.viewer().post(&path, &json!({"steps": [0], "connection": {"provider": "democloud"}})).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(connection_count(&app).await, 0, "nothing was created");

    // One connection for steps 0, 1 and 3 (a repeat counts once): one consent asks for all of it.
    let body = json!({"steps": [1, 0, 3, 1], "connection": {"provider": "democloud", "name": "Items", "modules": ["democloud.delete_item"]}});
    let (status, created) = app.member().post(&path, &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    let mut asked: Vec<String> =
        query(created["authorize_url"].as_str().unwrap())["scope"].split(' ').map(str::to_owned).collect();
    asked.sort();
    assert_eq!(asked, ["items:read", "items:write", "profile"], "the steps' modules, not the body's");
    assert_eq!(connection_count(&app).await, 1);

    // Every step named is bound at once and waits for the consent; the Stripe step is untouched.
    let (_, s) = app.member().get(&format!("/v1/scenarios/{sid}")).await;
    let statuses: Vec<&str> = s["steps"].as_array().unwrap().iter().map(|st| st["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["connection_pending", "connection_pending", "needs_connection", "connection_pending"]);
    for p in [0, 1, 3] {
        assert_eq!(s["steps"][p]["connection"], id.as_str(), "step {p}");
    }

    // Once granted, each of them is ready with the one connection.
    let back = app.consent(created["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    assert_eq!(app.callback(&back).await.0, 303);
    let (_, s) = app.member().get(&format!("/v1/scenarios/{sid}")).await;
    for p in [0, 1, 3] {
        assert_eq!(s["steps"][p]["status"], "ready", "step {p}: {s}");
    }
    let c = app.connection(&id).await;
    assert_eq!(strings(&c["missing_scopes"]), Vec::<String>::new(), "{c}");
    assert_eq!(c["used_by"].as_array().unwrap().len(), 3, "{c}");

    // The one-step endpoint still asks for exactly its step's module.
    let (status, one) =
        app.member().post(&format!("/v1/scenarios/{sid}/steps/0/connection"), &json!({"provider": "democloud"})).await;
    assert_eq!(status, 201, "{one}");
    assert_eq!(query(one["authorize_url"].as_str().unwrap())["scope"], "items:read profile");
}
