//! A team's data key (docs/security.md S-04): rotated online through `POST /v1/team/keys/rotate`
//! with every sealed field re-encrypted and the old key destroyed; and a team deleted for good,
//! its grants revoked first and its data keys destroyed, so stored copies of its ciphertexts
//! never open again (crypto-shredding). The stored bytes are read with the store itself.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, TokenOutcome};
use patchbay_domain::ids::{ConnectionId, TeamId};
use patchbay_domain::principal::Role;
use patchbay_service::revocations::RevocationOutcome;
use patchbay_store::{AuditQuery, SealedAt, SealedField, Store};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::common::code;
use crate::common::test_app::TestApp;

async fn app() -> TestApp {
    TestApp::builder().mock().demo(DemoOptions::default()).build().await
}

async fn store(w: &TestApp) -> Store {
    Store::connect(&w.database_url).await.unwrap()
}

fn key_ids(fields: &[SealedField]) -> BTreeSet<u32> {
    fields.iter().map(|f| u32::from_be_bytes(f.ciphertext[1..5].try_into().unwrap())).collect()
}

/// Opens one stored connection field with the service's key ring, as any node would.
async fn open(w: &TestApp, db: &Store, team: &TeamId, f: &SealedField) -> Result<(), String> {
    let SealedAt::ConnectionSecret { connection_id, field } = &f.at else {
        panic!("only connection fields are opened here: {f:?}")
    };
    let cid = ConnectionId::parse(connection_id).unwrap();
    w.patchbay
        .keys()
        .open_fields(db, team, &cid, &[(field.clone(), f.ciphertext.clone())])
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn connection_fields(fields: &[SealedField]) -> Vec<&SealedField> {
    fields.iter().filter(|f| matches!(f.at, SealedAt::ConnectionSecret { .. })).collect()
}

/// A webhook receiver on loopback: its URL and the (signature, body) pairs it got.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let signature = headers["patchbay-signature"].to_str().unwrap().to_owned();
                sink.lock().unwrap().push((signature, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}/hook"), got)
}

fn signed_with(secret: &str, signature: &str, body: &str) -> bool {
    let t = signature.split(',').next().unwrap().trim_start_matches("t=");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    signature == format!("t={t},v1={hex}")
}

async fn audit(db: &Store, team: &TeamId) -> Vec<(String, String, String)> {
    db.list_audit(team, &AuditQuery { limit: 500, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.outcome, e.detail.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_team_data_key_rotates_online_and_its_old_key_is_destroyed() {
    let w = app().await;
    let db = store(&w).await;
    let team = TeamId::parse(&w.team).unwrap();
    // Sealed fields of every kind: an API key, OAuth tokens, a flow's PKCE verifier, a webhook
    // secret, and a token queued for revocation (its first revocation attempt failed).
    let key = w.bearer_connection("rotating-key-1", "k@acme.test", Some("Key")).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let oauth = w.connect(json!({"provider": "democloud", "name": "Items"})).await;
    let (_, unfinished_url) = w.create(json!({"provider": "democloud", "name": "Unfinished"})).await;
    let (hook_url, received) = receiver().await;
    let (status, hook) =
        w.admin().post("/v1/webhooks", &json!({"url": hook_url, "events": ["connection.verified"]})).await;
    assert_eq!(status, 201, "{hook}");
    let doomed = w.connect(json!({"provider": "democloud", "name": "Doomed"})).await;
    w.demo().fail_next_revoke(1, 503);
    let (status, receipt) = w.member().delete(&format!("/v1/connections/{doomed}")).await;
    assert_eq!((status, receipt["revocation"][0]["outcome"].as_str()), (200, Some("pending")), "{receipt}");
    w.mock().add_key("globex-key", "g@globex.test");
    let (status, _) = w
        .other_team()
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "globex-key"}}))
        .await;
    assert_eq!(status, 201);
    let other = db.find_team("globex").await.unwrap().unwrap().id;
    let other_before = db.team_sealed_fields(&other).await.unwrap();

    let before = db.team_sealed_fields(&team).await.unwrap();
    let kinds: BTreeSet<String> =
        before.iter().map(|f| format!("{:?}", f.at).split(' ').next().unwrap().into()).collect();
    // (A queued own client secret, the fifth column, needs a bring-your-own-client provider:
    // the store conformance test covers it.)
    assert_eq!(kinds.len(), 4, "every sealed column but one has a field: {kinds:?}");
    assert_eq!(key_ids(&before), BTreeSet::from([1]));
    let token_path = format!("/v1/connections/{oauth}/token");
    let (_, issued) = w.runtime().post(&token_path, &json!({})).await;

    // Online: the runtime keeps getting the token while the fields move under it.
    let empty = json!({});
    let uses = futures::future::join_all((0..20).map(|_| w.runtime().post(&token_path, &empty)));
    let ((status, report), uses) = futures::join!(w.admin().post_empty("/v1/team/keys/rotate"), uses);
    assert_eq!(status, 200, "{report}");
    for (status, body) in uses {
        assert_eq!((status, &body["access_token"]), (200, &issued["access_token"]), "{body}");
    }
    assert_eq!(
        report,
        json!({"key_id": 2, "resumed": false, "reencrypted": before.len(), "destroyed": [1], "kept": [], "unreadable": 0})
    );

    let after = db.team_sealed_fields(&team).await.unwrap();
    assert_eq!(key_ids(&after), BTreeSet::from([2]), "every field is under the new key");
    assert_eq!(after.iter().map(|f| &f.at).collect::<Vec<_>>(), before.iter().map(|f| &f.at).collect::<Vec<_>>());
    assert!(before.iter().zip(&after).all(|(b, a)| b.ciphertext != a.ciphertext), "each one re-encrypted");
    assert_eq!(db.team_keys(&team).await.unwrap().iter().map(|k| k.key_id).collect::<Vec<_>>(), [2]);
    assert_eq!(db.team_sealed_fields(&other).await.unwrap(), other_before, "another team is untouched");
    assert_eq!(db.team_keys(&other).await.unwrap().len(), 1);

    // The old ciphertexts, wherever a copy of them survives, name a key that no longer exists.
    for f in connection_fields(&before) {
        let err = open(&w, &db, &team, f).await.unwrap_err();
        assert!(err.contains("data key 1 of team") && err.contains("missing"), "{err}");
    }
    for f in connection_fields(&after) {
        open(&w, &db, &team, f).await.unwrap();
    }
    // Every moved field still does its job: the key verifies (and the verified event is signed
    // with the webhook secret), the unfinished consent completes with its PKCE verifier, and
    // the queued revocation is retried with its token.
    let (status, verified) = w.member().post_empty(&format!("/v1/connections/{key_id}/verify")).await;
    assert_eq!((status, &verified["ok"]), (200, &json!(true)), "{verified}");
    w.patchbay.deliver_due_webhooks().await.unwrap();
    let (signature, body) = received.lock().unwrap().first().cloned().expect("the verified event was delivered");
    assert!(signed_with(hook["secret"].as_str().unwrap(), &signature, &body), "{signature}");
    let (status, _, page) = w.callback(&w.consent(&unfinished_url, Decision::Allow).await).await;
    assert_eq!(status, 303, "{page}");
    w.advance(std::time::Duration::from_secs(30));
    w.patchbay.retry_due_revocations().await.unwrap();
    let queued = db.team_sealed_fields(&team).await.unwrap();
    assert!(!queued.iter().any(|f| matches!(f.at, SealedAt::RevocationToken { .. })), "the retry revoked it");

    let trail = audit(&db, &team).await;
    assert!(
        trail.iter().any(|(a, o, d)| a == "team.key_rotate" && o == "ok" && d.starts_with("key=2 resumed=false")),
        "{trail:?}"
    );
    assert!(trail.iter().any(|(a, _, d)| a == "secret.read" && d == "data key rotation"), "{trail:?}");
    assert!(trail.iter().any(|(a, _, d)| a == "secret.read" && d.starts_with("data key rotation whk_")), "{trail:?}");

    // Admins only; again and again; a team without secrets has no key to rotate.
    let (status, body) = w.member().post_empty("/v1/team/keys/rotate").await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, again) = w.admin().post_empty("/v1/team/keys/rotate").await;
    assert_eq!((status, &again["key_id"], &again["destroyed"]), (200, &json!(3), &json!([2])), "{again}");
    let fresh = w.patchbay.create_team("initech").await.unwrap();
    let (_, token) = w.patchbay.create_token(fresh.id.as_str(), Role::Admin, "admin").await.unwrap();
    let (status, body) = w.anonymous.with_token(token.expose_secret()).post_empty("/v1/team/keys/rotate").await;
    assert_eq!((status, code(&body)), (409, "conflict"), "{body}");
    assert!(db.team_keys(&fresh.id).await.unwrap().is_empty(), "nothing was created");
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

#[tokio::test]
async fn deleting_a_team_revokes_its_grants_first_and_shreds_its_secrets() {
    let w = app().await;
    let db = store(&w).await;
    let team = TeamId::parse(&w.team).unwrap();
    w.bearer_connection("doomed-key-1", "k@acme.test", Some("Key")).await;
    let oauth = w.connect(json!({"provider": "democloud", "name": "Items"})).await;
    let refresh_token = exchanged_refresh_tokens(w.demo()).pop().unwrap();
    // What a backup, the WAL, free pages or dead tuples would still hold after the deletion.
    let copy = db.team_sealed_fields(&team).await.unwrap();
    assert_eq!(connection_fields(&copy).len(), 3, "api_key, access_token, refresh_token");

    // The exact name, or nothing happens.
    let err = w.patchbay.delete_team("acme", "ACME", true).await.unwrap_err();
    assert!(err.to_string().contains("confirm with its exact name"), "{err}");
    assert_eq!(w.member().get("/v1/connections").await.1["items"].as_array().unwrap().len(), 2);

    let report = w.patchbay.delete_team(&w.team, "acme", true).await.unwrap();
    // (Both were created at the same instant of the fixed clock: their order is the ids'.)
    let outcomes: std::collections::BTreeMap<String, Vec<(String, RevocationOutcome)>> = report
        .connections
        .iter()
        .map(|c| (c.name.clone(), c.revocation.iter().map(|r| (r.credential.clone(), r.outcome)).collect()))
        .collect();
    assert_eq!(
        outcomes,
        std::collections::BTreeMap::from([
            ("Key".to_owned(), vec![("api_key".to_owned(), RevocationOutcome::NotSupported)]),
            (
                "Items".to_owned(),
                vec![
                    ("refresh_token".to_owned(), RevocationOutcome::Revoked),
                    ("access_token".to_owned(), RevocationOutcome::Revoked)
                ]
            ),
        ])
    );
    assert_eq!(report.still_valid_at_providers, 1, "the API key: it has no revocation API");
    assert!(report.rows.contains(&("team_keys".to_owned(), 1)), "{:?}", report.rows);
    // Revoked at the provider before anything was destroyed here.
    let status = reqwest::Client::new()
        .post(w.demo().token_url())
        .basic_auth(w.demo().client_id(), Some(w.demo().client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400, "the refresh token of {oauth} is dead at Demo Cloud");

    // Shredded: no data key row is left, and no stored copy of a ciphertext opens any more.
    assert!(db.team_keys(&team).await.unwrap().is_empty());
    assert!(db.team_sealed_fields(&team).await.unwrap().is_empty());
    for f in connection_fields(&copy) {
        let err = open(&w, &db, &team, f).await.unwrap_err();
        assert!(err.contains("missing from the database"), "{err}");
    }
    // Its tokens stop at once; its audit trail stays, with the deletion recorded in it.
    assert_eq!(w.admin().get("/v1/connections").await.0, 401);
    assert_eq!(w.runtime().post(&format!("/v1/connections/{oauth}/token"), &json!({})).await.0, 401);
    let trail = audit(&db, &team).await;
    assert_eq!(
        trail.first().map(|(a, o, d)| (a.as_str(), o.as_str(), d.as_str())),
        Some(("team.delete", "ok", "name=acme connections=2 revoked_first=true still_valid_at_providers=1"))
    );
    assert_eq!(trail.iter().filter(|(a, ..)| a == "connection.delete").count(), 2, "{trail:?}");
    // Another team is untouched; the deleted one cannot be deleted twice.
    assert_eq!(w.other_team().get("/v1/connections").await.0, 200);
    let again = w.patchbay.delete_team(&w.team, "acme", true).await.unwrap_err();
    assert!(again.to_string().contains("no team"), "{again}");
}
