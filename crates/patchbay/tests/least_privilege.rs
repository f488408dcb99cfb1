//! Least privilege end to end (issue "Scenarios and least privilege"): a connection asks for
//! exactly what its scenario's modules need, a new module's missing scopes are reported and
//! extended in place (same id), the runtime enforces them, partial grants are exact, and
//! providers that cannot limit access get — and say — full access.

mod common;

use common::code;
use common::oauth::{self, json_scopes, query, scopes};
use patchbay_demo_provider::{Decision, DemoOptions};
use serde_json::json;

#[tokio::test]
async fn scenario_scopes_drive_the_grant_and_the_runtime() {
    let w = oauth::start(DemoOptions::default(), None, Vec::new()).await;
    let (status, scenario) = w
        .member
        .post("/v1/scenarios", &json!({"name": "Sync items", "steps": [{"module": "democloud.watch_items"}]}))
        .await;
    assert_eq!(status, 201, "{scenario}");
    let sid = scenario["id"].as_str().unwrap().to_owned();
    assert_eq!(scenario["steps"][0]["status"], "needs_connection");
    assert_eq!(scenario["ready"], false);

    // Add from the step: the connection asks for the read module's scopes only.
    let (status, created) =
        w.member.post(&format!("/v1/scenarios/{sid}/steps/0/connection"), &json!({"provider": "democloud"})).await;
    assert_eq!(status, 201, "{created}");
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    assert_eq!(query(created["authorize_url"].as_str().unwrap())["scope"], "items:read profile");
    let (_, pending) = w.member.get(&format!("/v1/scenarios/{sid}")).await;
    assert_eq!(pending["steps"][0]["status"], "connection_pending");
    let back = w.consent(created["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    assert_eq!(w.callback(&back).await.0, 303);
    let (_, ready) = w.member.get(&format!("/v1/scenarios/{sid}")).await;
    assert_eq!((ready["ready"].clone(), ready["steps"][0]["status"].clone()), (json!(true), json!("ready")), "{ready}");

    let c = w.connection(&id).await;
    assert_eq!(json_scopes(&c["required_scopes"]), ["items:read", "profile"]);
    assert_eq!(c["missing_scopes"], json!([]));
    assert_eq!(c["used_by"][0]["scenario"], sid.as_str());
    assert_eq!(c["used_by"][0]["module"], "democloud.watch_items");
    assert_eq!(c["full_access"], false);

    // The runtime may read, not write.
    let (status, token) =
        w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({"module": "democloud.watch_items"})).await;
    assert_eq!(status, 200, "{token}");
    assert!(w.demo.is_access_token_valid(token["access_token"].as_str().unwrap()));
    let (status, refused) =
        w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({"module": "democloud.create_item"})).await;
    assert_eq!((status, code(&refused)), (403, "missing_scopes"), "{refused}");
    assert_eq!(refused["error"]["missing_scopes"], json!(["items:write"]));

    // Adding a write step does not fail silently: the scenario says what is missing and how to extend.
    let steps = json!([{"module": "democloud.watch_items", "connection": id}, {"module": "democloud.create_item", "connection": id}]);
    let (status, s) = w.member.patch(&format!("/v1/scenarios/{sid}"), &json!({"steps": steps})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["steps"][1]["status"], "missing_scopes");
    assert_eq!(s["steps"][1]["missing_scopes"], json!(["items:write"]));
    let extend = &s["steps"][1]["extend_permissions"];
    assert_eq!(extend["path"], format!("/v1/connections/{id}/reauthorize"));
    assert_eq!(w.connection(&id).await["missing_scopes"], json!(["items:write"]));
    let (status, _) =
        w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({"scenario": sid, "step": 1})).await;
    assert_eq!(status, 403);

    // Extend in place: same id, wider grant, nothing rebound.
    let (status, start) = w.member.post(extend["path"].as_str().unwrap(), &extend["body"]).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(query(start["authorize_url"].as_str().unwrap())["scope"], "items:read items:write profile");
    let back = w.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    assert_eq!(w.callback(&back).await.0, 303);
    let (_, s) = w.member.get(&format!("/v1/scenarios/{sid}")).await;
    assert_eq!(s["ready"], true, "{s}");
    assert_eq!(s["steps"][1]["connection"], id.as_str());
    let (status, _) =
        w.runtime.post(&format!("/v1/connections/{id}/token"), &json!({"scenario": sid, "step": 1})).await;
    assert_eq!(status, 200);

    // A partial grant: the user unticks items:delete; exactly that stays missing.
    let steps = json!([
        {"module": "democloud.watch_items", "connection": id},
        {"module": "democloud.create_item", "connection": id},
        {"module": "democloud.delete_item", "connection": id}
    ]);
    w.member.patch(&format!("/v1/scenarios/{sid}"), &json!({"steps": steps})).await;
    w.demo.grant_only(Some(vec!["profile".into(), "items:read".into(), "items:write".into()]));
    w.extend(&id, json!({"modules": ["democloud.delete_item"]})).await;
    let c = w.connection(&id).await;
    assert_eq!(scopes(&c), ["items:read", "items:write", "profile"]);
    assert_eq!(c["missing_scopes"], json!(["items:delete"]));
    let (_, s) = w.member.get(&format!("/v1/scenarios/{sid}")).await;
    assert_eq!(s["steps"][2]["missing_scopes"], json!(["items:delete"]));
    assert_eq!(s["steps"][0]["status"], "ready");

    // Deleting a used connection asks first; replace moves every step atomically.
    let (status, body) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!((status, code(&body)), (409, "conflict"));
    assert!(body["error"]["message"].as_str().unwrap().contains("Sync items"), "{body}");
    w.demo.grant_only(None);
    let other =
        w.connect(json!({"provider": "democloud", "name": "Backup", "modules": ["democloud.watch_items"]})).await;
    let (status, preview) =
        w.member.post(&format!("/v1/connections/{id}/replace?dry_run=true"), &json!({"with": other})).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["steps"].as_array().unwrap().len(), 3);
    assert_eq!(json_scopes(&preview["missing_scopes"]), ["items:delete", "items:write"]);
    assert_eq!(w.connection(&id).await["used_by"].as_array().unwrap().len(), 3, "dry run moved nothing");
    let (status, _) = w.member.post(&format!("/v1/connections/{id}/replace"), &json!({"with": other})).await;
    assert_eq!(status, 200);
    assert_eq!(w.connection(&other).await["used_by"].as_array().unwrap().len(), 3);
    let (status, receipt) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    // A forced delete unbinds the steps, which then need a connection.
    let (status, receipt) = w.member.delete(&format!("/v1/connections/{other}?force=true")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["unbound_steps"].as_array().unwrap().len(), 3);
    let (_, s) = w.member.get(&format!("/v1/scenarios/{sid}")).await;
    assert_eq!(s["steps"][0]["status"], "needs_connection");
}

#[tokio::test]
async fn bad_scenarios_are_refused_and_full_access_is_recorded() {
    let w = oauth::start(DemoOptions::default(), None, Vec::new()).await;
    let id = w.connect(json!({"provider": "democloud"})).await;
    let cases = [
        (json!({"name": "x", "steps": [{"module": "democloud"}]}), "not a module reference"),
        (json!({"name": "x", "steps": [{"module": "democloud.fly"}]}), "unknown module"),
        (
            json!({"name": "x", "steps": [{"module": "democloud-full.watch_items", "connection": id}]}),
            "needs a Demo Cloud connection",
        ),
        (
            json!({"name": "x", "steps": [{"module": "democloud.watch_items", "connection": "con_00000000000000000000000000000001"}]}),
            "no connection",
        ),
        (json!({"name": "", "steps": []}), "scenario name"),
        (json!({"name": "x", "steps": [], "color": "red"}), "unknown field"),
    ];
    for (body, expected) in cases {
        let (status, reply) = w.member.post("/v1/scenarios", &body).await;
        assert_eq!(status, 400, "{body} → {reply}");
        assert!(reply["error"]["message"].as_str().unwrap().contains(expected), "{body} → {reply}");
    }
    let (_, list) = w.member.get("/v1/scenarios").await;
    assert_eq!(list["items"], json!([]), "nothing stored");
    assert_eq!(w.runtime.post("/v1/scenarios", &json!({"name": "x", "steps": []})).await.0, 403);

    // Non-granular provider: every scope requested and recorded as full access.
    let full = w.connect(json!({"provider": "democloud-full", "modules": ["democloud-full.watch_items"]})).await;
    let c = w.connection(&full).await;
    assert_eq!(c["full_access"], true);
    assert_eq!(scopes(&c), ["admin", "items:delete", "items:read", "items:write", "profile"]);
    let (status, _) = w
        .runtime
        .post(&format!("/v1/connections/{full}/token"), &json!({"module": "democloud-full.delete_item"}))
        .await;
    assert_eq!(status, 200);
}
