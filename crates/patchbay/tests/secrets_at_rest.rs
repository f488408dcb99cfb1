//! Secret handling end to end (docs/security.md S-01…S-09): canaries never leave the vault in
//! clear, a tampered or moved ciphertext fails instead of returning garbage, and a wrong or missing
//! master key seals the server without writing anything.

mod common;

use common::{World, code, message};
use patchbay_testkit::{canary, scan_dir_for_encoded};
use serde_json::json;

async fn sqlite(w: &World) -> sqlx::SqlitePool {
    let path = w.app.data_dir().join("patchbay.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap()
}

async fn count(db: &sqlx::SqlitePool, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(db).await.unwrap()
}

#[tokio::test]
async fn canaries_never_reach_disk_logs_or_responses() {
    if common::sqlite_only("canaries_never_reach_disk_logs_or_responses") {
        return;
    }
    let w = World::start().await;
    let key = canary("apikey");
    let password = canary("password");
    w.mock.add_key(&key, "canary@acme.test");
    w.mock.add_basic("user-1", &password, "basic@acme.test");
    let mut responses = Vec::new();
    let (s, b) =
        w.member.post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": key}})).await;
    assert_eq!(s, 201, "{b}");
    let id = b["connection"]["id"].as_str().unwrap().to_owned();
    responses.push(b);
    let (s, b) = w
        .member
        .post(
            "/v1/connections",
            &json!({"provider": "mock-basic", "credentials": {"username": "user-1", "password": password}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    responses.push(b);
    responses.push(w.viewer.get("/v1/connections").await.1);
    responses.push(w.viewer.get(&format!("/v1/connections/{id}")).await.1);
    responses.push(w.member.post_empty(&format!("/v1/connections/{id}/verify")).await.1);
    responses.push(w.admin.get("/v1/audit").await.1);
    // A wrong-typed secret must not be echoed by the parse error.
    let (s, b) = w.member.post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": key})).await;
    assert_eq!(s, 400);
    responses.push(b);
    responses.push(w.member.delete(&format!("/v1/connections/{id}")).await.1);

    for needle in [&key, &password] {
        for r in &responses {
            assert!(!r.to_string().contains(needle.as_str()), "a response contains a secret: {r}");
        }
        let logs = w.app.logs();
        assert!(!logs.contains(needle.as_str()), "the logs contain a secret");
        let hits = scan_dir_for_encoded(w.app.data_dir(), needle.as_bytes());
        assert!(hits.is_empty(), "a secret is readable in {hits:?}");
    }
    // The database is readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.app.data_dir().join("patchbay.db")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "database mode {mode:o}");
    // Logs ran at trace level and are not empty: the scan above looked at something.
    assert!(w.app.logs().contains("connection created"), "logs were captured");
}

#[tokio::test]
async fn tampered_or_moved_ciphertext_fails_closed() {
    if common::sqlite_only("tampered_or_moved_ciphertext_fails_closed") {
        return;
    }
    let w = World::start().await;
    let a = w.bearer_connection("key-a", "a@acme.test", Some("A")).await;
    let b = w.bearer_connection("key-b", "b@acme.test", Some("B")).await;
    let (a, b) = (a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned());
    let db = sqlite(&w).await;
    let blob_of = |id: String| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT ciphertext FROM connection_secrets WHERE connection_id = $1 AND field = 'api_key'",
            )
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let original_a = blob_of(a.clone()).await;

    // Flip one bit in the middle of A's ciphertext.
    let mut flipped = original_a.clone();
    let i = flipped.len() / 2;
    flipped[i] ^= 0x10;
    sqlx::query("UPDATE connection_secrets SET ciphertext = $1 WHERE connection_id = $2")
        .bind(&flipped)
        .bind(&a)
        .execute(&db)
        .await
        .unwrap();
    let calls = w.mock.request_count();
    let (status, body) = w.member.post_empty(&format!("/v1/connections/{a}/verify")).await;
    assert_eq!((status, code(&body)), (500, "internal"), "{body}");
    assert_eq!(w.mock.request_count(), calls, "nothing was sent to the provider");
    assert!(w.app.logs().contains("failed to decrypt"), "the cause is logged");

    // B's ciphertext copied into A's row fails too (bound to its connection by the AAD).
    let original_b = blob_of(b.clone()).await;
    sqlx::query("UPDATE connection_secrets SET ciphertext = $1 WHERE connection_id = $2")
        .bind(&original_b)
        .bind(&a)
        .execute(&db)
        .await
        .unwrap();
    let (status, _) = w.member.post_empty(&format!("/v1/connections/{a}/verify")).await;
    assert_eq!(status, 500);
    assert_eq!(w.mock.request_count(), calls);

    // Restored, it works again: the failure was the tampering, not a broken connection.
    sqlx::query("UPDATE connection_secrets SET ciphertext = $1 WHERE connection_id = $2")
        .bind(&original_a)
        .bind(&a)
        .execute(&db)
        .await
        .unwrap();
    let (status, body) = w.member.post_empty(&format!("/v1/connections/{a}/verify")).await;
    assert_eq!((status, body["ok"].clone()), (200, json!(true)), "{body}");
}

#[tokio::test]
async fn wrong_or_missing_master_key_seals_without_writing() {
    if common::sqlite_only("wrong_or_missing_master_key_seals_without_writing") {
        return;
    }
    let mut w = World::start().await;
    let c = w.bearer_connection("seal-key", "s@acme.test", Some("Sealed")).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let key_file = w.app.data_dir().join("master.key");
    let right_key = std::fs::read(&key_file).unwrap();
    w.app.terminate().await;

    // A different, well-formed key.
    std::fs::write(&key_file, "v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    w.app.restart().await;
    let db = sqlite(&w).await;
    let counts = |db: sqlx::SqlitePool| async move {
        let mut v = Vec::new();
        for t in ["connections", "connection_secrets", "team_keys", "master_key_checks", "teams"] {
            v.push(count(&db, t).await);
        }
        v
    };
    let before = counts(db.clone()).await;
    let anon = w.app.anonymous_client();
    let (status, ready) = anon.get("/readyz").await;
    assert_eq!((status, ready["status"].clone()), (503, json!("sealed")), "{ready}");
    assert!(ready["reason"].as_str().unwrap().contains("does not match"), "{ready}");
    let (status, body) = w
        .member
        .post("/v1/connections", &json!({"provider": "mock-bearer", "credentials": {"api_key": "seal-key"}}))
        .await;
    assert_eq!((status, code(&body)), (503, "sealed"), "{body}");
    assert!(message(&body).contains("master key"), "{body}");
    let (status, _) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!(status, 503);
    let (status, list) = w.viewer.get("/v1/connections").await;
    assert_eq!(status, 200, "metadata stays readable: {list}");
    assert_eq!(counts(db.clone()).await, before, "nothing was written while sealed");
    w.app.terminate().await;

    // No key file at all: sealed, and no new key is generated for an existing database.
    std::fs::remove_file(&key_file).unwrap();
    w.app.restart().await;
    let (status, ready) = anon.get("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert!(ready["reason"].as_str().unwrap().contains("not found"), "{ready}");
    assert!(!key_file.exists(), "no key was generated");
    assert_eq!(counts(db.clone()).await, before);
    w.app.terminate().await;

    // The right key unseals; the connection works as before.
    std::fs::write(&key_file, right_key).unwrap();
    w.app.restart().await;
    assert_eq!(anon.get("/readyz").await.0, 200);
    let (status, body) = w.member.post_empty(&format!("/v1/connections/{id}/verify")).await;
    assert_eq!((status, body["ok"].clone()), (200, json!(true)), "{body}");
}
