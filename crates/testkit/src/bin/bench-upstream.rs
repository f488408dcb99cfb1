//! The benchmark's upstream (bench/run.sh): the smallest useful HTTP API on loopback, so the
//! proxy's added cost is measured against something that costs almost nothing itself.
//!
//! `bench-upstream PORT` serves `GET /me` → `{"email": "bench@example.com"}` (the bench
//! provider's verify) and any other request → a 200 with a fixed 64-byte JSON body. It never
//! looks at the credential and stores nothing.

use axum::Router;
use axum::routing::get;

const BODY: &str = r#"{"items":[{"id":"item_1","name":"bench item"}],"has_more":false}"#;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).expect("usage: bench-upstream PORT");
    let app = Router::new()
        .route("/me", get(|| async { axum::Json(serde_json::json!({"email": "bench@example.com"})) }))
        .fallback(|| async { ([("content-type", "application/json")], BODY) });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the port");
    axum::serve(listener, app).await.expect("serve");
}
