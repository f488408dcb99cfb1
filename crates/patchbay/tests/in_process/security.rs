//! Security hardening (issue 15) against Demo Cloud, a real authorization server on loopback:
//! account pinning that fails closed when the callback's identity call fails, superseded grants
//! revoked (and the delete receipt counting every grant), and bound runtime tokens with module
//! API declarations enforced by the proxy.

use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, Fault, ProviderYamlOptions, TokenOutcome};
use serde_json::{Value, json};

use crate::common::code;
use crate::common::test_app::TestApp;

const OTHER: &str = "someone.else@democloud.test";

async fn app() -> TestApp {
    TestApp::builder()
        .demo(DemoOptions::default())
        .demo_file("democloud-grantwide", ProviderYamlOptions { revocation_scope: Some("grant"), ..Default::default() })
        .build()
        .await
}

/// The refresh tokens of every code exchange, oldest first.
fn exchanged_refresh_tokens(demo: &DemoProvider) -> Vec<String> {
    demo.token_requests()
        .into_iter()
        .filter(|r| r.grant_type == "authorization_code")
        .filter_map(|r| match r.outcome {
            TokenOutcome::Issued { refresh_token, .. } => refresh_token,
            _ => None,
        })
        .collect()
}

/// Presents `refresh_token` at Demo Cloud's token endpoint as the client would; the status.
async fn refresh_at_provider(demo: &DemoProvider, refresh_token: &str) -> u16 {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .post(demo.token_url())
        .basic_auth(demo.client_id(), Some(demo.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// Starts a reauthorize, consents at Demo Cloud and returns the landing `outcome`.
async fn reauthorize(app: &TestApp, id: &str, body: Value) -> String {
    let (status, start) = app.member().post(&format!("/v1/connections/{id}/reauthorize"), &body).await;
    assert_eq!(status, 200, "{start}");
    let back = app.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    let (status, headers, body) = app.callback(&back).await;
    assert_eq!(status, 303, "{body}");
    let location = headers["location"].to_str().unwrap().to_owned();
    location.rsplit_once("outcome=").map(|(_, o)| o.to_owned()).unwrap_or(location)
}

#[tokio::test]
async fn account_pinning_fails_closed_when_the_identity_call_fails() {
    let app = app().await;
    let demo = app.demo().clone();
    let id = app.connect(json!({"provider": "democloud"})).await;
    let before = app.connection(&id).await;
    assert_eq!(before["account"], "demo.user@democloud.test");
    let pinned = exchanged_refresh_tokens(&demo)[0].clone();

    // Another account signs in at the provider, and the identity call fails in every way.
    demo.login_as(OTHER);
    let faults =
        [Fault::Status(503), Fault::RetryAfter { secs: 30 }, Fault::Reset, Fault::Status(401), Fault::Status(403)];
    for fault in faults {
        demo.fail_next_identity(1, fault.clone());
        let outcome = reauthorize(&app, &id, json!({})).await;
        assert_eq!(outcome, "account_unverified", "{fault:?}");
        let after = app.connection(&id).await;
        assert_eq!(after["account"], before["account"], "{fault:?}");
        assert_eq!(
            after["credential"]["fingerprint"], before["credential"]["fingerprint"],
            "{fault:?}: credential kept"
        );
        assert_eq!(after["last_authorization"]["outcome"], "account_unverified");
        let reason = after["last_authorization"]["reason"].as_str().unwrap();
        assert!(reason.contains("could not confirm the account"), "{reason}");
        assert!(reason.contains("the new grant was revoked") && reason.contains("Reauthorize again"), "{reason}");
        // The refused grant is dead at the provider; the pinned one lives on.
        let refused = exchanged_refresh_tokens(&demo).pop().unwrap();
        assert!(!demo.is_refresh_token_live(&refused), "{fault:?}: the refused grant was revoked");
        assert!(demo.is_refresh_token_live(&pinned), "{fault:?}: the pinned grant is untouched");
    }
    assert!(demo.live_refresh_tokens(OTHER).is_empty(), "no grant for the other account is left alive");
    // The token the runtime gets is still the pinned account's.
    let (status, token) = app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200, "{token}");
    let (_, me) = get_me(&demo, token["access_token"].as_str().unwrap()).await;
    assert_eq!(me["email"], "demo.user@democloud.test");

    // The same account with a working identity call is accepted, and pinned by its stable id.
    demo.login_as("demo.user@democloud.test");
    assert_eq!(reauthorize(&app, &id, json!({})).await, "connected");
    let after = app.connection(&id).await;
    assert_eq!(after["last_authorization"]["outcome"], "connected");
    assert_eq!(after["last_verify"]["account_id"], demo.account_id("demo.user@democloud.test"));
    // A different account with a working identity call is a mismatch, and its grant revoked.
    demo.login_as(OTHER);
    assert_eq!(reauthorize(&app, &id, json!({})).await, "account_mismatch");
    assert!(demo.live_refresh_tokens(OTHER).is_empty());
    // Allowed explicitly, the account changes (label and id together).
    assert_eq!(reauthorize(&app, &id, json!({"allow_account_change": true})).await, "connected");
    assert_eq!(app.connection(&id).await["account"], OTHER);
}

async fn get_me(demo: &DemoProvider, token: &str) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = client.get(format!("{}/api/me", demo.base_url())).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn superseded_grants_are_revoked_and_the_receipt_counts_every_grant() {
    let app = app().await;
    let demo = app.demo().clone();
    let id = app.connect(json!({"provider": "democloud"})).await;
    assert_eq!(reauthorize(&app, &id, json!({})).await, "connected");
    assert_eq!(reauthorize(&app, &id, json!({})).await, "connected");
    let grants = exchanged_refresh_tokens(&demo);
    assert_eq!(grants.len(), 3);
    assert!(!demo.is_refresh_token_live(&grants[0]) && !demo.is_refresh_token_live(&grants[1]));
    assert!(demo.is_refresh_token_live(&grants[2]), "the current grant is the only live one");
    assert_eq!(demo.live_refresh_tokens("demo.user@democloud.test"), vec![grants[2].clone()]);

    let (status, receipt) = app.member().delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{receipt}");
    let g = &receipt["grants"];
    assert_eq!(
        (g["held"].clone(), g["revoked"].clone(), g["still_live"].clone()),
        (json!(3), json!(3), json!(0)),
        "{g}"
    );
    assert_eq!(refresh_at_provider(&demo, &grants[0]).await, 400, "the original refresh token no longer refreshes");
    assert!(demo.live_refresh_tokens("demo.user@democloud.test").is_empty());

    // A provider whose revocation ends the whole authorization: the superseded grant is left
    // alive (revoking it would kill the new one), and the receipt says so.
    let id = app.connect(json!({"provider": "democloud-grantwide"})).await;
    assert_eq!(reauthorize(&app, &id, json!({})).await, "connected");
    let grants = exchanged_refresh_tokens(&demo);
    let superseded = &grants[grants.len() - 2];
    assert!(demo.is_refresh_token_live(superseded), "not revoked: that would end the new grant too");
    let (_, receipt) = app.member().delete(&format!("/v1/connections/{id}")).await;
    let g = &receipt["grants"];
    assert_eq!((g["held"].clone(), g["still_live"].clone()), (json!(2), json!(1)), "{g}");
    let detail = g["items"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("revocation_scope: grant"), "{detail}");
}

#[tokio::test]
async fn deleting_one_of_two_connections_that_share_a_grant_wide_authorization_keeps_it_for_the_other() {
    let app = app().await;
    let demo = app.demo();
    // Two connections of the same account through the same app, at a provider whose revocation
    // ends the whole authorization (as Google's does for Gmail and Drive of one account).
    let first = app.connect(json!({"provider": "democloud-grantwide", "name": "Mail"})).await;
    let second = app.connect(json!({"provider": "democloud-grantwide", "name": "Files"})).await;
    let revocations_before = demo.revocations().len();

    let (status, receipt) = app.member().delete(&format!("/v1/connections/{first}")).await;
    assert_eq!(status, 200, "{receipt}");
    let item = &receipt["revocation"][0];
    assert_eq!(item["outcome"], "kept", "{receipt}");
    assert!(item["detail"].as_str().unwrap().contains("“Files”"), "{receipt}");
    assert_eq!(demo.revocations().len(), revocations_before, "nothing was sent to the provider");
    // The other connection still works.
    let (status, v) = app.member().post_empty(&format!("/v1/connections/{second}/verify")).await;
    assert_eq!((status, v["status"].as_str()), (200, Some("active")), "{v}");

    // The last one holding it revokes it.
    let (_, receipt) = app.member().delete(&format!("/v1/connections/{second}")).await;
    assert_eq!(receipt["revocation"][0]["outcome"], "revoked", "{receipt}");
    assert!(demo.revocations().len() > revocations_before);
}

#[tokio::test]
async fn runtime_tokens_are_bound_and_modules_keep_to_their_api() {
    let app = app().await;
    let (status, scenario) = app
        .member()
        .post("/v1/scenarios", &json!({"name": "Read items", "steps": [{"module": "democloud.watch_items"}]}))
        .await;
    assert_eq!(status, 201, "{scenario}");
    let sid = scenario["id"].as_str().unwrap().to_owned();
    let id = app
        .connect(json!({"provider": "democloud", "modules": ["democloud.watch_items", "democloud.create_item"]}))
        .await;
    let steps = json!([{"module": "democloud.watch_items", "connection": id}]);
    assert_eq!(app.member().patch(&format!("/v1/scenarios/{sid}"), &json!({"steps": steps})).await.0, 200);
    let other =
        app.connect(json!({"provider": "democloud", "name": "Other", "modules": ["democloud.watch_items"]})).await;

    // Only admins manage tokens; limits are checked.
    let body = json!({"name": "reader", "role": "runtime", "scenarios": [sid]});
    assert_eq!(app.member().post("/v1/tokens", &body).await.0, 403);
    for (bad, what) in [
        (json!({"name": "x", "role": "admin", "connections": [id]}), "only runtime tokens"),
        (json!({"name": "x", "role": "runtime", "scenarios": ["scn_nope"]}), "scenario"),
        (json!({"name": "x", "role": "runtime", "expires_in": 5}), "expires_in"),
    ] {
        let (status, e) = app.admin().post("/v1/tokens", &bad).await;
        assert_eq!((status, code(&e)), (400, "invalid_request"), "{bad}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(what), "{e}");
    }
    let (status, created) = app.admin().post("/v1/tokens", &body).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["token"].as_str().unwrap().starts_with("pbt_"));
    let bound = app.anonymous.with_token(created["token"].as_str().unwrap());

    let token = |module: Option<&str>| {
        let body = module.map_or(json!({}), |m| json!({"module": m}));
        (body, bound.clone())
    };
    let (b, c) = token(None);
    let (status, e) = c.post(&format!("/v1/connections/{id}/token"), &b).await;
    assert_eq!((status, code(&e)), (403, "forbidden"), "a bound token must name the module: {e}");
    let (b, c) = token(Some("democloud.watch_items"));
    assert_eq!(c.post(&format!("/v1/connections/{id}/token"), &b).await.0, 200, "the scenario's step");
    let (b, c) = token(Some("democloud.create_item"));
    assert_eq!(c.post(&format!("/v1/connections/{id}/token"), &b).await.0, 403, "not a step of the scenario");
    let (b, c) = token(Some("democloud.watch_items"));
    assert_eq!(c.post(&format!("/v1/connections/{other}/token"), &b).await.0, 403, "not the step's connection");

    // The proxy: a module keeps to its declared API, for any token.
    let read = proxy(&bound, &id, "GET", "api/items", Some("democloud.watch_items")).await;
    assert_eq!(read, 200);
    assert_eq!(proxy(&bound, &id, "POST", "api/items", Some("democloud.watch_items")).await, 403);
    assert_eq!(proxy(&bound, &id, "GET", "api/items", None).await, 403, "a bound token names its module");
    assert_eq!(proxy(app.runtime(), &id, "POST", "api/items", Some("democloud.watch_items")).await, 403);
    let before = app.demo().api_calls().iter().filter(|c| c.method == "POST").count();
    assert_eq!(before, 0, "no refused call reached the provider");
    assert_eq!(proxy(app.runtime(), &id, "POST", "api/items", Some("democloud.create_item")).await, 201);

    // Bound to a connection: any of its modules, named.
    let (_, by_conn) = app
        .admin()
        .post("/v1/tokens", &json!({"name": "writer", "role": "runtime", "connections": [id], "expires_in": 60}))
        .await;
    let writer = app.anonymous.with_token(by_conn["token"].as_str().unwrap());
    let body = json!({"module": "democloud.create_item"});
    assert_eq!(writer.post(&format!("/v1/connections/{id}/token"), &body).await.0, 200);
    assert_eq!(
        writer.post(&format!("/v1/connections/{other}/token"), &json!({"module": "democloud.watch_items"})).await.0,
        403
    );

    // The listing marks team-wide tokens and shows limits, expiry and last use; never a secret.
    let (status, list) = app.admin().get("/v1/tokens").await;
    assert_eq!(status, 200, "{list}");
    assert!(!list.to_string().contains("pbt_"), "{list}");
    let items = list["items"].as_array().unwrap();
    let find = |name: &str| items.iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!(find("Runtime")["team_wide"], true);
    let reader = find("reader");
    assert_eq!((reader["team_wide"].clone(), reader["scenarios"].clone()), (json!(false), json!([sid])));
    assert!(reader["last_used_at"].is_string(), "{reader}");
    assert!(find("writer")["expires_at"].is_string());

    // Expiry and revocation stop a token at once.
    app.advance(std::time::Duration::from_secs(61));
    let (status, e) = writer.post(&format!("/v1/connections/{id}/token"), &body).await;
    assert_eq!(status, 401, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("expired"), "{e}");
    let (status, _) = app.admin().delete(&format!("/v1/tokens/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(status, 204);
    assert_eq!(bound.get("/v1/connections").await.0, 401);
    assert_eq!(app.admin().delete("/v1/tokens/tok_nope").await.0, 404);
}

/// A proxied call; its status.
async fn proxy(
    client: &patchbay_testkit::RouterClient,
    id: &str,
    method: &str,
    path: &str,
    module: Option<&str>,
) -> u16 {
    let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, &format!("/v1/connections/{id}/proxy/{path}"));
    if let Some(m) = module {
        request = request.header("patchbay-module", m);
    }
    let body = if path.ends_with("items") { r#"{"title": "New"}"# } else { "" };
    let request = request.header("content-type", "application/json").body(axum::body::Body::from(body)).unwrap();
    patchbay_testkit::read_response(client.call(request).await).await.0
}

#[tokio::test]
async fn iss_is_required_when_the_metadata_advertises_it_even_without_issuer_in_the_file() {
    let app = TestApp::builder()
        .demo(DemoOptions::default())
        .demo_file("democloud-noiss", ProviderYamlOptions { issuer: false, ..Default::default() })
        .build()
        .await;
    let demo = app.demo().clone();
    demo.set_iss_param(patchbay_demo_provider::IssParam::Value("http://evil.example".into()));
    let (c, url) = app.create(json!({"provider": "democloud-noiss"})).await;
    let back = app.consent(&url, Decision::Allow).await;
    let (status, _, body) = app.callback(&back).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("issuer"), "{body}");
    assert_eq!(demo.token_requests().len(), 0, "nothing was exchanged");
    // With the right `iss`, the same provider completes.
    demo.set_iss_param(patchbay_demo_provider::IssParam::Issuer);
    let (status, start) =
        app.member().post(&format!("/v1/connections/{}/reauthorize", c["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(status, 200, "{start}");
    let back = app.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
    assert_eq!(app.callback(&back).await.0, 303);
    assert_eq!(app.connection(c["id"].as_str().unwrap()).await["status"], "active");
}

#[tokio::test]
async fn json_answers_are_not_sniffed_or_framed_and_bad_path_numbers_get_the_envelope() {
    let app = TestApp::builder().mock().build().await;
    let request =
        app.member().request(axum::http::Method::GET, "/v1/connections").body(axum::body::Body::empty()).unwrap();
    let (status, headers, _) = patchbay_testkit::read_response(app.member().call(request).await).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    // Errors and unknown routes too.
    let request = app.anonymous.request(axum::http::Method::GET, "/v1/nope").body(axum::body::Body::empty()).unwrap();
    let (_, headers, _) = patchbay_testkit::read_response(app.anonymous.call(request).await).await;
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (status, scenario) = app.member().post("/v1/scenarios", &json!({"name": "S", "steps": []})).await;
    assert_eq!(status, 201, "{scenario}");
    let path = format!("/v1/scenarios/{}/steps/abc/connection", scenario["id"].as_str().unwrap());
    let (status, e) = app.member().post(&path, &json!({"provider": "mock-bearer"})).await;
    assert_eq!((status, code(&e)), (400, "invalid_request"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("path segment"), "{e}");
}

#[tokio::test]
async fn names_refuse_invisible_characters_and_nfc_twins_clash() {
    let app = TestApp::builder().mock().build().await;
    app.mock().add_key("k1", "a@x.test");
    for bad in ["Pay\u{202E}lac", "Ops\u{200B}", "\u{FEFF}Ops", "Line\u{2028}break"] {
        let body = json!({"provider": "mock-bearer", "name": bad, "credentials": {"api_key": "k1"}});
        let (status, e) = app.member().post("/v1/connections", &body).await;
        assert_eq!((status, code(&e)), (400, "invalid_request"), "{bad:?}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("U+"), "{e}");
        let (status, _) = app.member().post("/v1/scenarios", &json!({"name": bad, "steps": []})).await;
        assert_eq!(status, 400, "{bad:?}");
    }
    let composed = app.bearer_connection("k1", "a@x.test", Some("Caf\u{e9}")).await;
    assert_eq!(composed["name"], "Caf\u{e9}");
    let body = json!({"provider": "mock-bearer", "name": "Cafe\u{301}", "credentials": {"api_key": "k1"}});
    let (status, e) = app.member().post("/v1/connections", &body).await;
    assert_eq!(status, 409, "the decomposed twin is the same name: {e}");
}

/// A token endpoint that echoes what it was sent, in the forms providers use, never leaves the
/// secret in `status_reason`, the events (the webhook bodies) or the audit trail (S-05).
#[tokio::test]
async fn token_endpoint_errors_are_stored_with_the_credential_masked() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let w = app().await;
    w.demo().set_access_token_ttl(std::time::Duration::from_secs(1));
    let id = w.connect(json!({"provider": "democloud", "modules": ["democloud.watch_items"]})).await;
    w.advance(std::time::Duration::from_millis(1200));
    let refresh_token = exchanged_refresh_tokens(w.demo()).pop().expect("the consent issued a refresh token");
    let url_encoded: String = url::form_urlencoded::byte_serialize(refresh_token.as_bytes()).collect();
    let basic = STANDARD.encode(format!("{}:{}", w.demo().client_id(), w.demo().client_secret()));
    let echoes = [
        refresh_token.to_uppercase(),
        URL_SAFE_NO_PAD.encode(&refresh_token),
        STANDARD.encode(&refresh_token),
        format!("Basic {basic}"),
        url_encoded.to_lowercase(),
        w.demo().client_secret().to_owned(),
    ];
    let description = format!("refresh token not accepted: {}", echoes.join(" / "));
    w.demo().fail_next_token(
        1,
        Fault::OAuthError { status: 400, error: "invalid_grant".into(), description: Some(description) },
    );
    let (status, body) = w.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!((status, code(&body)), (409, "needs_reauth"), "{body}");

    let c = w.connection(&id).await;
    let reason = c["status_reason"].as_str().unwrap();
    assert!(reason.contains("invalid_grant") && reason.contains("refresh token not accepted: [redacted]"), "{reason}");
    let (_, audit) = w.admin().get(&format!("/v1/audit?connection={id}")).await;
    let (_, events) = w.admin().get("/v1/events").await;
    let stored = [c.to_string(), audit.to_string(), events.to_string(), body.to_string()];
    for text in &stored {
        for echo in &echoes {
            assert!(!text.to_lowercase().contains(&echo.to_lowercase()), "{echo} leaked: {text}");
        }
        assert!(!text.contains(&refresh_token), "{text}");
    }
    assert!(events.to_string().contains("[redacted]"), "the refresh_failed event carries the masked reason: {events}");
}
