//! A stand-in for the `patchbay` binary that implements just enough of its command-line contract
//! (README "Commands", docs/operations.md: `serve` with `/healthz`, `admin create-team`,
//! `admin create-token`) to test
//! [`patchbay_testkit::PatchbayProcess`] itself. Not a Patchbay: it stores nothing secret.
//!
//! Extra endpoints: `GET /v1/whoami` → `{"token": <bearer token or null>}`, `GET /v1/env` → the
//! `PATCHBAY_*` and `RUST_LOG` variables it was given. `FAKE_EXIT_EARLY=<code>` makes `serve`
//! exit at once with that code.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::{Value, json};

fn random_hex() -> String {
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(a);
    format!("{a:016x}{b:016x}")
}

fn data_dir() -> std::path::PathBuf {
    let dir = std::env::var("PATCHBAY_DATA_DIR").unwrap_or_else(|_| "./patchbay-data".to_owned());
    std::fs::create_dir_all(&dir).expect("create the data dir");
    dir.into()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve"] => serve().await,
        ["admin", "create-team", name] => {
            std::fs::write(data_dir().join("team"), name).expect("write team");
            println!("team_{}", random_hex());
        }
        ["admin", "create-token", rest @ ..] if rest.contains(&"--team") && rest.contains(&"--role") => {
            data_dir();
            println!("pbt_{}", random_hex());
        }
        _ => {
            eprintln!("fake-patchbay: unsupported arguments {args:?}");
            std::process::exit(2);
        }
    }
}

async fn serve() {
    if let Ok(code) = std::env::var("FAKE_EXIT_EARLY") {
        eprintln!("fake-patchbay: exiting early as asked");
        std::process::exit(code.parse().unwrap_or(1));
    }
    let listen = std::env::var("PATCHBAY_LISTEN").expect("PATCHBAY_LISTEN");
    std::fs::write(data_dir().join("served"), "yes").expect("write data dir");
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/v1/whoami",
            get(|headers: HeaderMap| async move {
                let token = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_owned);
                axum::Json(json!({ "token": token }))
            }),
        )
        .route(
            "/v1/env",
            get(|| async {
                let vars: BTreeMap<String, String> =
                    std::env::vars().filter(|(k, _)| k.starts_with("PATCHBAY_") || k == "RUST_LOG").collect();
                axum::Json(serde_json::to_value(vars).unwrap_or(Value::Null))
            }),
        );
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind PATCHBAY_LISTEN");
    eprintln!("fake-patchbay: listening on {listen} (RUST_LOG={:?})", std::env::var("RUST_LOG").ok());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            term.recv().await;
            eprintln!("fake-patchbay: SIGTERM, shutting down");
        })
        .await
        .expect("serve");
    eprintln!("fake-patchbay: stopped");
}
