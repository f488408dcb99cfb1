//! The hosted page of a connect session (issue 17) through the in-process router, as the end
//! user's browser sees it: the token exchanged once for a cookie and dropped from the address,
//! an API-key connection and a Demo Cloud consent made for the session's team with its end
//! user, a denied consent retried on the same connection, a reconnect that keeps the id, one
//! connection per session, and the isolation cases (another app, a reused, unknown or expired
//! link, another browser at the callback, the token as an API token).

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, header};
use patchbay_demo_provider::{Decision, DemoOptions};
use serde_json::{Value, json};

use crate::common::test_app::{PUBLIC_URL, TestApp};

async fn app() -> TestApp {
    TestApp::builder().mock().demo(DemoOptions::default()).build().await
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> String {
        self.headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    fn connect_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("patchbay_connect="))
    }

    /// The hidden `csrf` field of a form.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no csrf in {}", self.body)) + marker.len();
        self.body[start..start + self.body[start..].find('"').unwrap()].to_owned()
    }
}

/// A browser: the page's cookie, sent on every request.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let path = path.strip_prefix(PUBLIC_URL).unwrap_or(path);
        let mut req = self.app.anonymous.request(method, path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, format!("patchbay_connect={c}"));
        }
        let body = match form {
            Some(fields) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter()).finish())
            }
            None => Body::empty(),
        };
        let (status, headers, body) =
            patchbay_testkit::read_response(self.app.anonymous.call(req.body(body).unwrap()).await).await;
        Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Opens the session's link: the token is exchanged for the cookie and leaves the address.
    async fn open(&mut self, url: &str) -> Answer {
        let a = self.get(url).await;
        assert_eq!((a.status, a.location()), (303, "/connect/s".to_owned()), "{}", a.body);
        let set = a.connect_cookie().expect("the page's cookie");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
        self.cookie = Some(set["patchbay_connect=".len()..set.find(';').unwrap()].to_owned());
        a
    }
}

async fn session(app: &TestApp, extra: Value) -> (String, String) {
    let mut body = json!({"end_user": {"id": "user-42", "display_name": "Ada Lovelace"}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, created) = app.member().post("/v1/connect/sessions", &body).await;
    assert_eq!(status, 201, "{created}");
    (created["url"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned())
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let (_, body) = app.admin().get("/v1/audit?limit=200").await;
    body["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_api_key_connection_is_made_for_the_end_user_once_per_session() {
    let app = app().await;
    app.mock().add_key("end-user-key", "ada@acme.test");
    let (url, token) = session(&app, json!({"allowed_providers": ["mock-bearer"]})).await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    assert_eq!(Browser::new(&app).get(&url).await.status, 409, "the token opens its page once");

    // One app: straight to its form, which says who asks, for whom, and carries a strict CSP.
    let start = b.get("/connect/s").await;
    assert_eq!((start.status, start.location()), (303, "/connect/s/mock-bearer".to_owned()));
    let form = b.get("/connect/s/mock-bearer").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("acme wants to connect your Mock Bearer"), "{}", form.body);
    assert!(form.body.contains("For Ada Lovelace") && form.body.contains("value=\"My Mock Bearer connection\""));
    let csp = form.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") || csp.contains("default-src 'self'"), "{csp}");
    assert!(!form.body.contains(&token), "the token is not on the page");

    let csrf = form.csrf();
    let stale = b.post("/connect/s/mock-bearer", &[("csrf", "nope"), ("credential.api_key", "end-user-key")]).await;
    assert_eq!(stale.status, 403, "{}", stale.body);
    let wrong = b.post("/connect/s/mock-bearer", &[("csrf", &csrf), ("credential.api_key", "wrong-key")]).await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("The connection was not saved"), "a clear error with the form again");
    let (_, list) = app.viewer().get("/v1/connections").await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing stored");

    let form = [("csrf", csrf.as_str()), ("name", "My Mock Bearer connection"), ("credential.api_key", "end-user-key")];
    let saved = b.post("/connect/s/mock-bearer", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let landing = saved.location();
    let id = landing.split("connection=").nth(1).unwrap().to_owned();
    assert!(landing.starts_with("/connect/done?outcome=connected"), "{landing}");
    let done = b.get(&landing).await;
    assert!(
        done.body.contains("Connected") && done.body.contains(&format!("data-connection=\"{id}\"")),
        "{}",
        done.body
    );

    let c = app.connection(&id).await;
    assert_eq!(c["end_user"], json!({"id": "user-42", "display_name": "Ada Lovelace"}));
    assert_eq!((c["status"].as_str(), c["account"].as_str()), (Some("active"), Some("ada@acme.test")));

    // Used: no second connection, and the link says so.
    let again = b.post("/connect/s/mock-bearer", &[("csrf", &csrf), ("credential.api_key", "end-user-key")]).await;
    assert!(again.body.contains("Connected"), "a used session shows its result: {}", again.body);
    assert_eq!(Browser::new(&app).get(&url).await.status, 410);
    let (_, list) = app.viewer().get("/v1/connections?end_user=user-42").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one connection per session");
    let actions = audit_actions(&app).await;
    for a in ["connect_session.create", "connect_session.open", "connect_session.complete"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

/// Plays Demo Cloud's consent and hands its redirect to the callback in this browser.
async fn consent(app: &TestApp, b: &Browser<'_>, authorize_url: &str, decision: Decision) -> Answer {
    let back = app.consent(authorize_url, decision).await;
    let landed = b.get(&back).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    // Browsers apply the opener policy to redirects: the popup keeps its opener through this one.
    assert_eq!(landed.headers["cross-origin-opener-policy"], "unsafe-none");
    b.get(&landed.location()).await
}

#[tokio::test]
async fn a_demo_cloud_consent_is_retried_after_a_denial_on_the_same_connection() {
    let app = app().await;
    let (url, _) =
        session(&app, json!({"allowed_providers": ["democloud", "mock-bearer"], "modules": ["democloud.watch_items"]}))
            .await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let pick = b.get("/connect/s").await;
    assert_eq!(pick.status, 200);
    assert!(
        pick.body.contains("href=\"/connect/s/democloud\"") && pick.body.contains("href=\"/connect/s/mock-bearer\"")
    );
    assert!(!pick.body.contains("/connect/s/mock-basic"), "only the session's apps");

    let form = b.get("/connect/s/democloud").await;
    assert!(
        form.body.contains("Show advanced settings") || !form.body.contains("advanced"),
        "advanced settings fold away"
    );
    let saved = b.post("/connect/s/democloud", &[("csrf", &form.csrf()), ("name", "My Demo Cloud connection")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let denied = consent(&app, &b, &saved.location(), Decision::Deny).await;
    assert!(
        denied.body.contains("Not connected") && denied.body.contains("You did not allow access"),
        "{}",
        denied.body
    );
    assert!(denied.body.contains("href=\"/connect/s\""), "a retry");
    let first = denied.body.split("data-connection=\"").nth(1).unwrap()[..36].to_owned();

    let retry = b.post("/connect/s/democloud", &[("csrf", &form.csrf()), ("name", "My Demo Cloud connection")]).await;
    assert_eq!(retry.status, 303, "{}", retry.body);
    let done = consent(&app, &b, &retry.location(), Decision::Allow).await;
    assert!(done.body.contains("Connected") && done.body.contains(&first), "the same connection: {}", done.body);
    let c = app.connection(&first).await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["end_user"]["id"], "user-42");
    assert!(c["granted_scopes"].to_string().contains("items:read"), "the session's module: {c}");
    let (_, all) = app.viewer().get("/v1/connections").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "no second connection");
}

#[tokio::test]
async fn a_reconnect_session_keeps_the_connection_id() {
    let app = app().await;
    let id = app.connect(json!({"provider": "democloud"})).await;
    let (url, _) = session(&app, json!({"connection_id": id})).await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let start = b.get("/connect/s").await;
    assert_eq!(start.location(), "/connect/s/democloud");
    let form = b.get("/connect/s/democloud").await;
    assert!(form.body.contains("Reconnect <strong>My Demo Cloud connection</strong>"), "{}", form.body);
    let saved = b.post("/connect/s/democloud", &[("csrf", &form.csrf())]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let done = consent(&app, &b, &saved.location(), Decision::Allow).await;
    assert!(
        done.body.contains("Connected") && done.body.contains(&format!("data-connection=\"{id}\"")),
        "{}",
        done.body
    );
    let (_, all) = app.viewer().get("/v1/connections").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "the same connection, reauthorized");
}

#[tokio::test]
async fn an_api_key_reconnect_session_replaces_the_key_in_place_and_reports_a_reauthorization() {
    let app = app().await;
    app.mock().add_key("old-key", "ada@acme.test");
    app.mock().add_key("new-key", "ada@acme.test");
    let c = app.bearer_connection("old-key", "ada@acme.test", Some("Ada's key")).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let (url, _) = session(&app, json!({"connection_id": id})).await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let form = b.get("/connect/s/mock-bearer").await;
    assert!(form.body.contains("Reconnect <strong>Ada"), "{}", form.body);
    let saved = b.post("/connect/s/mock-bearer", &[("csrf", &form.csrf()), ("credential.api_key", "new-key")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(saved.location().contains(&format!("connection={id}")), "{}", saved.location());
    let (_, all) = app.viewer().get("/v1/connections").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "the same connection");
    // The runtime now gets the new key under the same id.
    let (status, token) = app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, token["access_token"].as_str()), (200, Some("new-key")), "{token}");
    let events = app.events("connection.reauthorized").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["connection_id"], json!(id));
    assert!(events[0]["data"]["session_id"].as_str().is_some_and(|s| s.starts_with("cs_")), "{events:?}");
    assert!(app.events("connection.created").await.iter().all(|e| e["data"].get("session_id").is_none()));
}

#[tokio::test]
async fn a_session_that_runs_out_unused_is_audited_once_by_the_sweep() {
    let app = app().await;
    session(&app, json!({"allowed_providers": ["mock-bearer"]})).await;
    let (opened, _) = session(&app, json!({"allowed_providers": ["mock-bearer"]})).await;
    Browser::new(&app).open(&opened).await;
    assert_eq!(app.patchbay.expire_connect_sessions().await.unwrap(), 0, "nothing ran out yet");
    app.advance(Duration::from_secs(31 * 60));
    assert_eq!(app.patchbay.expire_connect_sessions().await.unwrap(), 2);
    assert_eq!(app.patchbay.expire_connect_sessions().await.unwrap(), 0, "each expiry is audited once");
    let (_, body) = app.admin().get("/v1/audit?limit=200").await;
    let details: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "connect_session.expire")
        .map(|r| r["detail"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details.iter().any(|d| d.contains("expired unused (never opened)")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("expired unused (opened, no connection granted)")), "{details:?}");
}

#[tokio::test]
async fn a_session_page_cannot_reach_beyond_its_session() {
    let app = app().await;
    let (url, token) = session(&app, json!({"allowed_providers": ["mock-bearer"]})).await;

    // The token is not an API token.
    let (status, _) = app.anonymous.with_token(&token).get("/v1/connections").await;
    assert_eq!(status, 401);
    // Unknown and malformed links.
    assert_eq!(Browser::new(&app).get("/connect?token=pbcs_nope").await.status, 404);
    assert_eq!(Browser::new(&app).get("/connect").await.status, 404);
    assert_eq!(Browser::new(&app).get("/connect/s").await.status, 401, "no cookie, no session");

    let mut b = Browser::new(&app);
    b.open(&url).await;
    // Another app than the session's.
    assert_eq!(b.get("/connect/s/democloud").await.status, 404);
    let form = b.get("/connect/s/mock-bearer").await;
    let other = b.post("/connect/s/democloud", &[("csrf", &form.csrf())]).await;
    assert_eq!(other.status, 404, "{}", other.body);
    let (_, list) = app.viewer().get("/v1/connections").await;
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing created");

    // Expired: the page and the link say so, never a 500; the expiry is audited.
    let (late_url, _) = session(&app, json!({"allowed_providers": ["mock-bearer"]})).await;
    app.advance(Duration::from_secs(31 * 60));
    assert_eq!(b.get("/connect/s").await.status, 410);
    let expired = b.post("/connect/s/mock-bearer", &[("csrf", &form.csrf()), ("credential.api_key", "k")]).await;
    assert_eq!(expired.status, 410, "{}", expired.body);
    let late = Browser::new(&app).get(&late_url).await;
    assert_eq!(late.status, 410);
    assert!(late.body.contains("expired"), "{}", late.body);
    assert!(audit_actions(&app).await.iter().any(|a| a == "connect_session.expire"));
}

#[tokio::test]
async fn a_consent_started_on_a_session_page_completes_only_in_that_browser() {
    let app = app().await;
    let (url, _) = session(&app, json!({"allowed_providers": ["democloud"]})).await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let form = b.get("/connect/s/democloud").await;
    let saved = b.post("/connect/s/democloud", &[("csrf", &form.csrf())]).await;
    let back = app.consent(&saved.location(), Decision::Allow).await;
    let elsewhere = Browser::new(&app).get(&back).await;
    assert_eq!(elsewhere.status, 400, "another browser: {}", elsewhere.body);
}

/// A webhook receiver on loopback: its URL and the bodies it got.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let got: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}/hook"), got)
}

#[tokio::test]
async fn the_result_goes_back_to_the_return_url_and_out_by_event_and_webhook() {
    let app = app().await;
    let (hook_url, received) = receiver().await;
    let (status, hook) =
        app.admin().post("/v1/webhooks", &json!({"url": hook_url, "events": ["connection.created"]})).await;
    assert_eq!(status, 201, "{hook}");
    app.mock().add_key("returning-key", "ada@acme.test");
    let (url, _) = session(
        &app,
        json!({"allowed_providers": ["mock-bearer"], "allowed_origins": ["https://platform.example"],
               "return_url": "https://platform.example/apps?tab=connections"}),
    )
    .await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let form = b.get("/connect/s/mock-bearer").await;
    let saved =
        b.post("/connect/s/mock-bearer", &[("csrf", &form.csrf()), ("credential.api_key", "returning-key")]).await;
    let landed = b.get(&saved.location()).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    let back = landed.location();
    let id = saved.location().split("connection=").nth(1).unwrap().to_owned();
    assert_eq!(back, format!("https://platform.example/apps?tab=connections&connection_id={id}&outcome=connected"));

    let events = app.events("connection.created").await;
    let data = &events.last().unwrap()["data"];
    assert!(data["session_id"].as_str().unwrap().starts_with("cs_"), "{data}");
    assert_eq!(data["end_user"], json!({"id": "user-42", "display_name": "Ada Lovelace"}));
    app.patchbay.deliver_due_webhooks().await.unwrap();
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body.pointer("/data/session_id"), data.get("session_id"), "{body}");
    assert_eq!(body.pointer("/data/end_user/id").and_then(Value::as_str), Some("user-42"), "{body}");
}

#[tokio::test]
async fn a_consent_result_names_the_session_and_a_denial_offers_the_way_back() {
    let app = app().await;
    let (url, _) = session(
        &app,
        json!({"allowed_providers": ["democloud"], "allowed_origins": ["https://platform.example"],
               "return_url": "https://platform.example/done"}),
    )
    .await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let form = b.get("/connect/s/democloud").await;
    let saved = b.post("/connect/s/democloud", &[("csrf", &form.csrf())]).await;
    let denied = consent(&app, &b, &saved.location(), Decision::Deny).await;
    assert!(denied.body.contains("Try again"), "{}", denied.body);
    assert!(denied.body.contains("https://platform.example/done?connection_id=con_"), "{}", denied.body);
    assert!(denied.body.contains("outcome=denied\">Back to acme"), "{}", denied.body);

    let retry = b.post("/connect/s/democloud", &[("csrf", &form.csrf())]).await;
    let back = app.consent(&retry.location(), Decision::Allow).await;
    let landed = b.get(&back).await;
    let done = b.get(&landed.location()).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location().starts_with("https://platform.example/done?connection_id=con_"), "{}", done.location());
    assert!(done.location().ends_with("&outcome=connected"));
    let created = app.events("connection.created").await;
    let data = &created.last().unwrap()["data"];
    assert!(data["session_id"].as_str().is_some_and(|s| s.starts_with("cs_")), "{data}");
    assert_eq!(data["end_user"]["id"], "user-42");
}

#[tokio::test]
async fn the_popup_keeps_its_opener_and_posts_the_result_only_to_the_allowed_origins() {
    let app = app().await;
    app.mock().add_key("popup-key", "ada@acme.test");
    let (url, _) = session(
        &app,
        json!({"allowed_providers": ["mock-bearer"], "allowed_origins": ["https://platform.example", "http://127.0.0.1:9"]}),
    )
    .await;
    let mut b = Browser::new(&app);
    b.open(&url).await;
    let form = b.get("/connect/s/mock-bearer").await;
    let opener = |a: &Answer| a.headers["cross-origin-opener-policy"].to_str().unwrap().to_owned();
    assert_eq!(opener(&form), "unsafe-none", "the platform's page must see the popup");
    let saved = b.post("/connect/s/mock-bearer", &[("csrf", &form.csrf()), ("credential.api_key", "popup-key")]).await;
    let done = b.get(&saved.location()).await;
    assert_eq!(done.status, 200, "no return_url: the result page");
    assert_eq!(opener(&done), "unsafe-none");
    assert!(done.body.contains("<script src=\"/static/connect-result.js\" defer></script>"), "{}", done.body);
    assert!(done.body.contains("data-origins=\"https://platform.example http://127.0.0.1:9\""), "{}", done.body);
    assert!(done.body.contains("data-session=\"cs_"), "{}", done.body);
    let csp = done.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");

    // Every other page still isolates its opener.
    assert_eq!(opener(&b.get("/login").await), "same-origin");

    let script = b.get("/connect.js").await;
    assert_eq!(script.status, 200);
    assert!(script.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(script.headers["cross-origin-resource-policy"], "cross-origin", "loaded by the platform's page");
    assert!(script.body.contains("PatchbayConnect") && script.body.contains("event.origin !== origin"));
    let result = b.get("/static/connect-result.js").await;
    assert!(result.body.contains("postMessage(message, origin)"), "a target origin, never `*`");
    assert!(!result.body.contains("\"*\""));
}
