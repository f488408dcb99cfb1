//! The request side of the provider format through the whole service (issue 11): a proxied call
//! to a second declared API host named by `Patchbay-Api-Host`, module API declarations bound to
//! a host, templated headers filled from settings, setting defaults and closed choices at
//! creation, and the provider's endpoints and hosts in `GET /v1/providers/{id}`.

use patchbay_testkit::MockProvider;
use serde_json::{Value, json};

use crate::common::test_app::TestApp;

/// The mock twice: `127.0.0.1` is the API base, `localhost` a second declared host.
fn hosts_file(mock: &MockProvider) -> String {
    format!(
        "id: mock-hosts\ndisplay_name: Mock Hosts\nauth_mode: api_key\n\
         api_key: {{in: header, name: Authorization, prefix: \"Bearer \"}}\n\
         api_base_url: {base}\napi_hosts: {{alt: \"http://localhost:{port}\"}}\n\
         headers: {{X-Org: \"{{org}}\", X-Plan: \"{{plan}}\"}}\n\
         modules:\n  alt_only: {{name: Alt only, api: [\"GET alt:/echo/*\"]}}\n\
         settings:\n  - {{key: org, label: Organization, default: org-default}}\n  \
         - {{key: plan, label: Plan, choices: [free, team]}}\n",
        base = mock.base_url(),
        port = mock.port(),
    )
}

async fn proxy(app: &TestApp, id: &str, path: &str, host: Option<&str>, module: Option<&str>) -> (u16, Value) {
    let mut request = app.runtime().request(axum::http::Method::GET, &format!("/v1/connections/{id}/proxy/{path}"));
    if let Some(h) = host {
        request = request.header("patchbay-api-host", h);
    }
    if let Some(m) = module {
        request = request.header("patchbay-module", m);
    }
    let request = request.body(axum::body::Body::empty()).unwrap();
    let (status, _, body) = patchbay_testkit::read_response(app.runtime().call(request).await).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_second_api_host_templated_headers_and_setting_defaults() {
    let app = TestApp::builder().mock_file("mock-hosts", hosts_file).build().await;
    let create = |settings: Value| json!({"provider": "mock-hosts", "credentials": {"api_key": "k-CANARY-1"}, "settings": settings, "verify": false});
    // A closed choice refuses other values; nothing is saved.
    let (status, body) = app.member().post("/v1/connections", &create(json!({"plan": "enterprise"}))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("`free` (free), `team` (team)"), "{body}");
    let (status, body) = app.member().post("/v1/connections", &create(json!({"plan": "team"}))).await;
    assert_eq!(status, 201, "{body}");
    let id = body["connection"]["id"].as_str().unwrap().to_owned();
    // The default filled the setting the request left out.
    assert_eq!(app.connection(&id).await["settings"]["org"], "org-default", "{}", app.connection(&id).await);

    let (status, echo) = proxy(&app, &id, "echo/main", None, None).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["headers"]["host"], format!("127.0.0.1:{}", app.mock().port()));
    assert_eq!(echo["headers"]["x-org"], "org-default");
    assert_eq!(echo["headers"]["x-plan"], "team");
    assert_eq!(echo["headers"]["authorization"], "Bearer k-CANARY-1");

    let (status, echo) = proxy(&app, &id, "echo/alt", Some("alt"), None).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["headers"]["host"], format!("localhost:{}", app.mock().port()));
    assert_eq!(echo["headers"]["authorization"], "Bearer k-CANARY-1");
    assert!(echo["headers"].get("patchbay-api-host").is_none(), "Patchbay's own header is not forwarded");

    let (status, body) = proxy(&app, &id, "echo/x", Some("elsewhere"), None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("use one of `alt`"), "{body}");

    // A module declared on the alt host may not call the main base, and may call its own host.
    let (status, body) = proxy(&app, &id, "echo/x", None, Some("mock-hosts.alt_only")).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = proxy(&app, &id, "echo/x", Some("alt"), Some("mock-hosts.alt_only")).await;
    assert_eq!(status, 200);

    let (status, p) = app.member().get("/v1/providers/mock-hosts").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["endpoints"]["api_hosts"]["alt"], format!("http://localhost:{}", app.mock().port()));
    assert_eq!(p["endpoints"]["api_base_url"], app.mock().base_url());
    assert!(p.get("client").is_none(), "an API-key provider has no OAuth client: {p}");
    let plan = p["settings"].as_array().unwrap().iter().find(|s| s["key"] == "plan").unwrap().clone();
    assert_eq!(plan["choices"][1]["value"], "team");
    assert!(!p.to_string().contains("CANARY"));
}

#[tokio::test]
async fn built_in_oauth_providers_say_which_variables_configure_them() {
    let app = TestApp::builder().mock().build().await;
    let (status, p) = app.member().get("/v1/providers/gmail").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["client"]["oauth_app"], "google");
    assert_eq!(p["client"]["configured"], false);
    assert_eq!(p["client"]["variables"], json!(["PATCHBAY_GOOGLE_CLIENT_ID", "PATCHBAY_GOOGLE_CLIENT_SECRET"]));
    assert_eq!(p["endpoints"]["token_url"], "https://oauth2.googleapis.com/token");
    assert_eq!(p["endpoints"]["verify"], "GET https://openidconnect.googleapis.com/v1/userinfo");
    // Without a platform client and without an own one, the error names the variables.
    let (status, body) =
        app.member().post("/v1/connections", &json!({"provider": "gmail", "modules": ["gmail.send_email"]})).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("PATCHBAY_GOOGLE_CLIENT_ID and PATCHBAY_GOOGLE_CLIENT_SECRET"), "{message}");
    assert!(message.contains("advanced settings"), "{message}");
}
