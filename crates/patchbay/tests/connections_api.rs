//! The connections API over real HTTP against a real `patchbay serve` and a loopback mock
//! provider: create (verified), list, get, rename, verify, delete, defaults, errors, roles.

mod common;

use common::{World, code, message};
use serde_json::{Value, json};

#[tokio::test]
async fn api_key_connection_lifecycle() {
    let w = World::start().await;
    let key = patchbay_testkit::canary("bearer");
    w.mock.add_key(&key, "ops@acme.test");

    let (status, body) =
        w.member.post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": key}})).await;
    assert_eq!(status, 201, "{body}");
    let c = &body["connection"];
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("con_") && id.len() == 36, "{id}");
    assert_eq!(c["name"], "My Mock Bearer connection");
    assert_eq!(c["status"], "active");
    assert_eq!(c["account"], "ops@acme.test");
    assert_eq!(c["credential"]["kind"], "api_key");
    assert_eq!(c["credential"]["state"], "set");
    assert_eq!(c["credential"]["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(c["last_verify"]["ok"], true);
    assert!(c["last_verified_at"].is_string());
    assert_eq!(body["authorize_url"], Value::Null);
    // The key went to the provider exactly once, in the declared header.
    let calls = w.mock.requests_to("/bearer/me");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].header("authorization"), Some(format!("Bearer {key}").as_str()));

    // Second and third get numbered default names.
    let second = w.bearer_connection(&patchbay_testkit::canary("k2"), "two@acme.test", None).await;
    assert_eq!(second["name"], "My Mock Bearer connection 2");
    let third = w.bearer_connection(&patchbay_testkit::canary("k3"), "three@acme.test", None).await;
    assert_eq!(third["name"], "My Mock Bearer connection 3");

    let (status, list) = w.viewer.get("/v1/connections").await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (_, filtered) = w.viewer.get("/v1/connections?q=THREE").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let (status, filtered) = w.viewer.get("/v1/connections?status=nope").await;
    assert_eq!(status, 400, "{filtered}");

    let (status, got) = w.viewer.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(got["id"], id.as_str());

    // Rename: inline, unique per team.
    let (status, renamed) = w.member.patch(&format!("/v1/connections/{id}"), &json!({"name": "  Billing  "})).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Billing");
    let (status, clash) =
        w.member.patch(&format!("/v1/connections/{id}"), &json!({"name": "My Mock Bearer connection 2"})).await;
    assert_eq!((status, code(&clash)), (409, "conflict"), "{clash}");
    let (status, _) = w.member.patch(&format!("/v1/connections/{id}"), &json!({"name": "Billing"})).await;
    assert_eq!(status, 200, "renaming to its own name is fine");

    // Verify: ok, then the key is revoked at the provider → needs_reauth, kept, with the reason.
    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["ok"].clone(), v["account"].clone()), (json!(true), json!("ops@acme.test")));
    w.mock.revoke_key(&key);
    let (status, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], "needs_reauth");
    assert!(v["error"].as_str().unwrap().contains("Invalid API key provided"), "{v}");
    let (_, got) = w.viewer.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(got["status"], "needs_reauth");
    assert!(got["status_reason"].as_str().unwrap().contains("HTTP 401"), "{got}");
    assert_eq!(got["account"], "ops@acme.test", "the account survives a failed verify");

    // A provider outage marks it degraded, not needs_reauth.
    w.mock.add_key(&key, "ops@acme.test");
    w.mock.fail_next(1, 503);
    let (_, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(v["status"], "degraded", "{v}");
    let (_, v) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(v["status"], "active", "{v}");

    // Delete: a receipt saying the key could not be revoked at the provider.
    let (status, receipt) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["secret_destroyed"], true);
    assert_eq!(receipt["revocation"][0]["outcome"], "not_supported");
    let (status, gone) = w.viewer.get(&format!("/v1/connections/{id}")).await;
    assert_eq!((status, code(&gone)), (404, "not_found"));
    let (status, _) = w.member.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 404);

    // The audit trail has each step, with actor and no secret.
    let (status, audit) = w.admin.get(&format!("/v1/audit?connection={id}")).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["connection.create", "connection.rename", "secret.read", "connection.verify", "connection.delete"]
    {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    assert!(audit["items"][0]["actor"].as_str().unwrap().starts_with("token:"), "{audit}");
    assert!(!audit.to_string().contains(&key));
}

#[tokio::test]
async fn basic_query_and_settings_providers() {
    let w = World::start().await;
    w.mock.add_basic("AC123", "s3cret-token", "twilio@acme.test");
    let (status, body) = w
        .member
        .post(
            "/v1/connections",
            &json!({"provider": "mock-basic", "name": "SMS", "credentials": {"username": "AC123", "password": "s3cret-token"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["connection"]["account"], "twilio@acme.test");
    assert_eq!(body["connection"]["credential"]["kind"], "basic");

    w.mock.add_key("qk-1", "query@acme.test");
    let (status, body) =
        w.member.post("/v1/connections", &json!({"provider": "mock-query", "credentials": {"api_key": "qk-1"}})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(w.mock.requests_to("/query/me")[0].query_param("api_key").as_deref(), Some("qk-1"));

    w.mock.add_key("tk-1", "tenant@acme.test");
    let (status, body) = w
        .member
        .post(
            "/v1/connections",
            &json!({"provider": "mock-tenant", "settings": {"tenant": "north"}, "credentials": {"api_key": "tk-1"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["connection"]["settings"]["tenant"], "north");
    assert_eq!(w.mock.requests_to("/tenant/north/me").len(), 1);

    let (status, body) =
        w.member.post("/v1/connections", &json!({"provider": "mock-tenant", "credentials": {"api_key": "tk-1"}})).await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("needs the setting `tenant`"), "{body}");
}

#[tokio::test]
async fn bad_requests_are_explained_and_change_nothing() {
    let w = World::start().await;
    w.mock.add_key("good", "a@acme.test");
    let before = w.mock.request_count();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"provider": "nope", "credentials": {"api_key": "x"}}), 400, "unknown provider `nope`"),
        (json!({"provider": "mock-bearer"}), 400, "needs `credentials.api_key`"),
        (json!({"provider": "mock-bearer", "credentials": {"api_key": "  "}}), 400, "needs `credentials.api_key`"),
        (json!({"provider": "mock-bearer", "credentials": {"apikey": "x"}}), 400, "unknown credential field `apikey`"),
        (
            json!({"provider": "mock-bearer", "credentials": {"api_key": "x"}, "colour": 1}),
            400,
            "unknown field `colour`",
        ),
        (json!({"provider": "mock-bearer", "name": "", "credentials": {"api_key": "x"}}), 400, "name is empty"),
        (
            json!({"provider": "mock-bearer", "settings": {"region": "eu"}, "credentials": {"api_key": "x"}}),
            400,
            "unknown setting `region`",
        ),
        (
            json!({"provider": "mock-bearer", "modules": ["mock-bearer.fly"], "credentials": {"api_key": "x"}}),
            400,
            "unknown module",
        ),
        (
            json!({"provider": "zendesk", "settings": {"subdomain": "evil.example/"}, "credentials": {"username": "a@b.c/token", "password": "x"}}),
            400,
            "subdomain",
        ),
        (
            json!({"provider": "mock-bearer", "credentials": "CANARY-in-wrong-place"}),
            400,
            "does not match the expected shape",
        ),
    ];
    for (body, want_status, want_text) in cases {
        let (status, reply) = w.member.post("/v1/connections", &body).await;
        assert_eq!(status, want_status, "{body} → {reply}");
        assert!(message(&reply).contains(want_text), "{body} → {reply}");
        assert!(!reply.to_string().contains("CANARY"), "input values are not echoed: {reply}");
    }
    assert_eq!(w.mock.request_count(), before, "no bad request reached the provider");

    // Malformed JSON and the wrong content type.
    let resp = w
        .member
        .request(reqwest::Method::POST, "/v1/connections")
        .header("content-type", "application/json")
        .body("{\"provider\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(message(&body).contains("not valid JSON"), "{body}");
    let resp = w.member.request(reqwest::Method::POST, "/v1/connections").body("provider=x").send().await.unwrap();
    assert_eq!(resp.status(), 415);

    // A rejected key saves nothing and says so; an unreachable provider too.
    let (status, body) = w
        .member
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "wrong"}}))
        .await;
    assert_eq!((status, code(&body)), (422, "credential_rejected"), "{body}");
    assert!(
        message(&body).contains("Invalid API key provided") && message(&body).contains("nothing was saved"),
        "{body}"
    );
    w.mock.fail_next(1, 503);
    let (status, body) =
        w.member.post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "good"}})).await;
    assert_eq!((status, code(&body)), (502, "provider_unavailable"), "{body}");
    let (_, list) = w.viewer.get("/v1/connections").await;
    assert_eq!(list["items"], json!([]));

    // verify:false saves without calling the provider.
    let calls = w.mock.request_count();
    let (status, body) = w
        .member
        .post(
            "/v1/connections",
            &json!({"provider": "mock-bearer", "credentials": {"api_key": "unchecked"}, "verify": false}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["connection"]["last_verify"], Value::Null);
    assert_eq!(w.mock.request_count(), calls);

    // Bad ids, unknown paths, missing auth.
    let (status, body) = w.viewer.get("/v1/connections/con_123").await;
    assert_eq!(status, 404);
    assert!(message(&body).contains("32 hex digits"), "{body}");
    let (status, body) = w.viewer.get("/v1/nothing").await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let (status, body) = w.app.anonymous_client().get("/v1/connections").await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    let (status, _) = w.app.client("pbt_forged").get("/v1/connections").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn roles_and_team_isolation() {
    let w = World::start().await;
    let c = w.bearer_connection("iso-key", "iso@acme.test", Some("Shared")).await;
    let id = c["id"].as_str().unwrap();
    let create = json!({"provider": "mock-bearer", "credentials": {"api_key": "iso-key"}});

    // Viewer and runtime read but cannot change anything; only admins read the audit trail.
    for client in [&w.viewer, &w.runtime] {
        let (status, body) = client.post("/v1/connections", &create).await;
        assert_eq!((status, code(&body)), (403, "forbidden"));
        assert_eq!(client.patch(&format!("/v1/connections/{id}"), &json!({"name": "x"})).await.0, 403);
        assert_eq!(client.delete(&format!("/v1/connections/{id}")).await.0, 403);
        assert_eq!(client.post_empty(&format!("/v1/connections/{id}/verify")).await.0, 403);
        assert_eq!(client.get(&format!("/v1/connections/{id}")).await.0, 200);
    }
    assert_eq!(w.member.get("/v1/audit").await.0, 403);
    assert_eq!(w.admin.get("/v1/audit").await.0, 200);

    // Another team's connection is exactly as absent as a missing one.
    let missing = "con_00000000000000000000000000000000";
    for path in [format!("/v1/connections/{id}"), format!("/v1/connections/{missing}")] {
        let (s1, b1) = w.other_team.get(&path).await;
        let (s2, _) = w.other_team.patch(&path, &json!({"name": "stolen"})).await;
        let (s3, _) = w.other_team.post_empty(&format!("{path}/verify")).await;
        let (s4, _) = w.other_team.delete(&path).await;
        assert_eq!([s1, s2, s3, s4], [404; 4], "{path}: {b1}");
    }
    let (_, list) = w.other_team.get("/v1/connections").await;
    assert_eq!(list["items"], json!([]));
    let (_, audit) = w.other_team.get("/v1/audit").await;
    assert!(!audit.to_string().contains(id), "audit trails are per team");
    // Names are unique per team only.
    let (status, _) = w
        .other_team
        .post(
            "/v1/connections",
            &json!({"provider": "mock-bearer", "name": "Shared", "credentials": {"api_key": "iso-key"}}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, still) = w.viewer.get(&format!("/v1/connections/{id}")).await;
    assert_eq!(still["name"], "Shared");
    assert_eq!(still["status"], "active");
}

#[tokio::test]
async fn catalog_health_metrics_and_openapi() {
    let w = World::start().await;
    let (status, providers) = w.viewer.get("/v1/providers").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = providers["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    for expected in ["stripe", "openai", "zendesk", "mock-bearer"] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    let (status, zendesk) = w.viewer.get("/v1/providers/zendesk").await;
    assert_eq!(status, 200);
    assert!(zendesk["settings"].as_array().unwrap().iter().any(|s| s["key"] == "subdomain"), "{zendesk}");
    assert_eq!(w.viewer.get("/v1/providers/nope").await.0, 404);

    let anon = w.app.anonymous_client();
    assert_eq!(anon.get("/healthz").await.0, 200);
    let (status, ready) = anon.get("/readyz").await;
    assert_eq!((status, ready["status"].clone()), (200, json!("ready")));
    let (status, spec) = anon.get("/openapi.json").await;
    assert_eq!(status, 200);
    for path in ["/v1/connections", "/v1/connections/{id}", "/v1/connections/{id}/verify", "/v1/audit", "/v1/providers"]
    {
        assert!(spec["paths"][path].is_object(), "{path} missing from the spec");
    }
    let (status, metrics) = anon.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.as_str().unwrap().contains("patchbay_http_requests_total"), "{metrics}");
}
