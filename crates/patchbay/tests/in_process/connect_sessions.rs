//! Connect sessions (issue 17) through the in-process service: `POST /v1/connect/sessions` with
//! its limits (each refused with a clear message, nothing stored), the roles that may create
//! one, a reconnect session that names a connection of the team only, the token stored as a
//! digest and audited without it; and connections that carry their end user, filtered by it.

use patchbay_demo_provider::DemoOptions;
use patchbay_domain::clock::Clock as _;
use serde_json::{Value, json};

use crate::common::test_app::{PUBLIC_URL, TestApp};
use crate::common::{code, message};

async fn app() -> TestApp {
    TestApp::builder().mock().demo(DemoOptions::default()).build().await
}

fn session(extra: Value) -> Value {
    let mut body = json!({"end_user": {"id": "user-42", "display_name": "Ada Lovelace"}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

async fn audit_of(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, body) = app.admin().get("/v1/audit?limit=200").await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().iter().filter(|r| r["action"] == action).cloned().collect()
}

#[tokio::test]
async fn a_session_is_created_for_an_end_user_and_its_token_is_only_stored_as_a_digest() {
    let app = app().await;
    let body = session(json!({
        "allowed_providers": ["democloud", "mock-bearer"],
        "return_url": "https://platform.example/settings/connections?tab=apps",
        "allowed_origins": ["https://Platform.example/"],
    }));
    let (status, created) = app.member().post("/v1/connect/sessions", &body).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("pbcs_") && token.len() >= 5 + 43, "256 random bits: {token}");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("cs_"), "{id}");
    assert_eq!(created["url"], format!("{PUBLIC_URL}/connect?token={token}"));
    let expires = time::OffsetDateTime::parse(
        created["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires.unix_timestamp(), app.clock.now().unix_timestamp() + 30 * 60, "30 minutes by default");

    let (_, other) = app.admin().post("/v1/connect/sessions", &session(json!({"expires_in": 3600}))).await;
    assert_ne!(other["token"], created["token"]);

    // Stored: the digest, the limits (origins normalised), never the token.
    let store = patchbay_store::Store::connect(&app.database_url).await.unwrap();
    let digest = patchbay_domain::random::sha256(token.as_bytes());
    let row = store.connect_session_by_digest(&digest).await.unwrap().expect("found by its digest");
    assert_eq!((row.id.as_str(), row.team_id.as_str()), (id, app.team.as_str()));
    assert_eq!(row.end_user.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(row.allowed_providers, ["democloud", "mock-bearer"]);
    assert_eq!(row.allowed_origins, ["https://platform.example"]);
    assert_eq!(row.return_url.as_deref(), Some("https://platform.example/settings/connections?tab=apps"));
    if let Some(file) = app.database_url.strip_prefix("sqlite://") {
        let dir = std::path::Path::new(file).parent().unwrap();
        assert!(dir.read_dir().unwrap().count() > 0, "the database is in {dir:?}");
        assert!(patchbay_testkit::scan_dir_for(dir, token).is_empty(), "the token is not on disk");
    }

    let records = audit_of(&app, "connect_session.create").await;
    assert_eq!(records.len(), 2, "{records:?}");
    let detail = records.iter().map(|r| r["detail"].as_str().unwrap()).find(|d| d.contains(id)).unwrap();
    assert!(detail.contains("end_user=user-42") && detail.contains("providers=democloud,mock-bearer"), "{detail}");
    assert!(records.iter().all(|r| !r.to_string().contains(token)), "never the token in the trail");
}

#[tokio::test]
async fn only_admins_and_members_create_sessions() {
    let app = app().await;
    for (who, client, expected) in [
        ("admin", app.admin(), 201),
        ("member", app.member(), 201),
        ("viewer", app.viewer(), 403),
        ("runtime", app.runtime(), 403),
    ] {
        let (status, body) = client.post("/v1/connect/sessions", &session(json!({}))).await;
        assert_eq!(status, expected, "{who}: {body}");
    }
    let (status, _) = app.anonymous.post("/v1/connect/sessions", &session(json!({}))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn every_limit_is_checked_and_a_bad_request_stores_nothing() {
    let app = app().await;
    let cases = [
        (json!({"end_user": {"id": "  "}}), "end_user.id is empty"),
        (json!({"end_user": {"id": "u", "email": "x"}}), "unknown field"),
        (json!({}), "end_user"),
        (session(json!({"allowed_providers": ["nope"]})), "unknown provider `nope`"),
        (session(json!({"modules": ["democloud.watch_items"], "scopes": ["items:read"]})), "not both"),
        (session(json!({"modules": ["democloud.nope"]})), "unknown module `democloud.nope`"),
        (
            session(json!({"modules": ["democloud.watch_items"], "allowed_providers": ["mock-bearer"]})),
            "not in `allowed_providers`",
        ),
        (session(json!({"scopes": ["items:read"]})), "exactly one provider"),
        (session(json!({"scopes": ["items:nope"], "allowed_providers": ["democloud"]})), "has no scope `items:nope`"),
        (session(json!({"expires_in": 3601})), "60 to 3600"),
        (session(json!({"expires_in": 10})), "60 to 3600"),
        (session(json!({"allowed_origins": ["https://platform.example/app"]})), "path, query or fragment"),
        (session(json!({"allowed_origins": ["*"]})), "absolute URL"),
        (session(json!({"return_url": "https://platform.example/done"})), "not in `allowed_origins`"),
        (
            session(
                json!({"return_url": "https://evil.example/done", "allowed_origins": ["https://platform.example"]}),
            ),
            "not in `allowed_origins`",
        ),
        (
            session(json!({"return_url": "javascript:alert(1)", "allowed_origins": ["https://platform.example"]})),
            "http or https",
        ),
        (session(json!({"connection_id": "con_nope"})), "no connection"),
    ];
    for (body, expected) in cases {
        let (status, answer) = app.member().post("/v1/connect/sessions", &body).await;
        assert!(status == 400 || status == 404, "{body}: {status} {answer}");
        assert!(message(&answer).contains(expected), "{body}: {answer}");
    }
    assert!(audit_of(&app, "connect_session.create").await.is_empty(), "nothing was created");

    // Modules name their providers: without `allowed_providers` the session offers those.
    let (status, ok) =
        app.member().post("/v1/connect/sessions", &session(json!({"modules": ["democloud.watch_items"]}))).await;
    assert_eq!(status, 201, "{ok}");
    let store = patchbay_store::Store::connect(&app.database_url).await.unwrap();
    let digest = patchbay_domain::random::sha256(ok["token"].as_str().unwrap().as_bytes());
    let row = store.connect_session_by_digest(&digest).await.unwrap().unwrap();
    assert_eq!(row.allowed_providers, ["democloud"]);
}

#[tokio::test]
async fn a_reconnect_session_names_a_connection_of_its_own_team_only() {
    let app = app().await;
    let c = app.bearer_connection("reconnect-key", "ada@acme.test", None).await;
    let id = c["id"].as_str().unwrap();
    let (status, created) = app.member().post("/v1/connect/sessions", &session(json!({"connection_id": id}))).await;
    assert_eq!(status, 201, "{created}");
    let store = patchbay_store::Store::connect(&app.database_url).await.unwrap();
    let digest = patchbay_domain::random::sha256(created["token"].as_str().unwrap().as_bytes());
    let row = store.connect_session_by_digest(&digest).await.unwrap().unwrap();
    assert_eq!(
        (row.connection_id.as_deref(), row.allowed_providers.as_slice()),
        (Some(id), &["mock-bearer".to_owned()][..])
    );
    let records = audit_of(&app, "connect_session.create").await;
    assert_eq!(records[0]["connection_id"], id, "{records:?}");

    let (status, body) = app
        .member()
        .post("/v1/connect/sessions", &session(json!({"connection_id": id, "allowed_providers": ["democloud"]})))
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_request"), "{body}");
    assert!(message(&body).contains("only its own provider"), "{body}");

    // Another team's connection is a missing one.
    let (status, body) = app.other_team().post("/v1/connect/sessions", &session(json!({"connection_id": id}))).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
}

#[tokio::test]
async fn connections_carry_their_end_user_and_are_filtered_by_it() {
    let app = app().await;
    for (key, user) in
        [("k-ada", json!({"id": "user-42", "display_name": " Ada Lovelace "})), ("k-bob", json!({"id": "user-7"}))]
    {
        app.mock().add_key(key, &format!("{key}@acme.test"));
        let body = json!({"provider": "mock-bearer", "credentials": {"api_key": key}, "end_user": user});
        let (status, created) = app.member().post("/v1/connections", &body).await;
        assert_eq!(status, 201, "{created}");
    }
    app.bearer_connection("k-team", "team@acme.test", Some("Team's own")).await;

    let names = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    let (status, ada) = app.viewer().get("/v1/connections?end_user=user-42").await;
    assert_eq!(status, 200, "{ada}");
    assert_eq!(names(&ada), ["My Mock Bearer connection"]);
    assert_eq!(ada["items"][0]["end_user"], json!({"id": "user-42", "display_name": "Ada Lovelace"}));
    let (_, bob) = app.viewer().get("/v1/connections?end_user=user-7").await;
    assert_eq!(bob["items"][0]["end_user"], json!({"id": "user-7"}));
    let (_, prefix) = app.viewer().get("/v1/connections?end_user=user-4").await;
    assert!(names(&prefix).is_empty(), "an exact match: {prefix}");
    let (_, search) = app.viewer().get("/v1/connections?q=lovelace").await;
    assert_eq!(names(&search), ["My Mock Bearer connection"], "the search matches the end user's name");
    let (_, all) = app.viewer().get("/v1/connections").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let own = all["items"].as_array().unwrap().iter().find(|c| c["name"] == "Team's own").unwrap();
    assert_eq!(own["end_user"], Value::Null, "the team's own connection has none");

    // A bad end user is refused before anything is stored.
    app.mock().add_key("k-bad", "bad@acme.test");
    let body =
        json!({"provider": "mock-bearer", "credentials": {"api_key": "k-bad"}, "end_user": {"id": "a\u{202e}b"}});
    let (status, bad) = app.member().post("/v1/connections", &body).await;
    assert_eq!((status, code(&bad)), (400, "invalid_request"), "{bad}");
    let (_, all) = app.viewer().get("/v1/connections").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "nothing stored");
}
