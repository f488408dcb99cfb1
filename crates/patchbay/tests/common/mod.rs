//! Shared set-up of the black-box tests: a mock provider on loopback, a real `patchbay serve`
//! process using it, and two teams with tokens of every role.

#![allow(dead_code)]

pub mod oauth;

use patchbay_testkit::{MockProvider, PatchbayClient, PatchbayOptions, PatchbayProcess};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A running Patchbay wired to a mock provider.
pub struct World {
    pub mock: MockProvider,
    pub providers: TempDir,
    pub app: PatchbayProcess,
    pub team: String,
    pub admin: PatchbayClient,
    pub member: PatchbayClient,
    pub viewer: PatchbayClient,
    pub runtime: PatchbayClient,
    pub other_team: PatchbayClient,
}

pub const BIN: &str = env!("CARGO_BIN_EXE_patchbay");

impl World {
    pub async fn start() -> World {
        Self::start_with(Vec::new()).await
    }

    pub async fn start_with(extra_env: Vec<(String, String)>) -> World {
        let mock = MockProvider::start().await;
        let providers = mock.write_providers_dir();
        let app = PatchbayProcess::start(
            BIN,
            PatchbayOptions { providers_dir: Some(providers.path().to_path_buf()), extra_env, data_dir: None },
        )
        .await;
        let team = app.create_team("acme").await;
        let other = app.create_team("globex").await;
        let admin = app.client(&app.create_token(&team, "admin").await);
        let member = app.client(&app.create_token(&team, "member").await);
        let viewer = app.client(&app.create_token(&team, "viewer").await);
        let runtime = app.client(&app.create_token(&team, "runtime").await);
        let other_team = app.client(&app.create_token(&other, "admin").await);
        World { mock, providers, app, team, admin, member, viewer, runtime, other_team }
    }

    /// Creates a verified bearer-key connection and returns its JSON.
    pub async fn bearer_connection(&self, key: &str, account: &str, name: Option<&str>) -> Value {
        self.mock.add_key(key, account);
        let (status, body) = self
            .member
            .post("/v1/connections", &json!({"provider": "mock-bearer", "name": name, "credentials": {"api_key": key}}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["connection"].clone()
    }
}

/// The `error.code` of an error envelope.
pub fn code(body: &Value) -> &str {
    body.pointer("/error/code").and_then(Value::as_str).unwrap_or("<no error code>")
}

/// The `error.message` of an error envelope.
pub fn message(body: &Value) -> &str {
    body.pointer("/error/message").and_then(Value::as_str).unwrap_or("<no error message>")
}
