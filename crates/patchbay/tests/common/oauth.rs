//! A Patchbay process wired to Demo Cloud (a real authorization server on loopback), with
//! helpers to play the browser through a consent flow.

use std::collections::HashMap;

use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, ProviderYamlOptions};
use patchbay_testkit::{PatchbayClient, PatchbayProcess};
use serde_json::Value;

pub struct OAuthWorld {
    pub demo: DemoProvider,
    pub _providers: tempfile::TempDir,
    pub app: PatchbayProcess,
    pub team: String,
    pub admin: PatchbayClient,
    pub member: PatchbayClient,
    pub runtime: PatchbayClient,
    pub browser: reqwest::Client,
}

/// Provider files written for every world, process or in-process: `democloud` (granular,
/// optional grant lifetime), `democloud-full` (non-granular) and `democloud-cc` (client
/// credentials).
pub fn write_demo_files(demo: &DemoProvider, dir: &std::path::Path, grant_lifetime: Option<&str>) {
    let files = [
        ("democloud", ProviderYamlOptions { grant_lifetime, ..Default::default() }),
        ("democloud-full", ProviderYamlOptions { granular: false, ..Default::default() }),
        ("democloud-cc", ProviderYamlOptions { client_credentials: true, ..Default::default() }),
    ];
    for (id, opts) in files {
        std::fs::write(dir.join(format!("{id}.yaml")), demo.provider_yaml(id, opts)).unwrap();
    }
}

/// A process on Demo Cloud with the provider files of [`write_demo_files`].
pub async fn start(demo_options: DemoOptions, grant_lifetime: Option<&str>, env: Vec<(String, String)>) -> OAuthWorld {
    let demo = DemoProvider::start(demo_options).await;
    let providers = tempfile::tempdir().unwrap();
    write_demo_files(&demo, providers.path(), grant_lifetime);
    let super::ProcessWorld { app, team, admin, member, runtime, .. } =
        super::ProcessWorld::start(providers.path(), env).await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    OAuthWorld { demo, _providers: providers, app, team, admin, member, runtime, browser }
}

impl OAuthWorld {
    /// Creates a connection and returns (connection JSON, authorize URL).
    pub async fn create(&self, body: Value) -> (Value, String) {
        let (status, body) = self.member.post("/v1/connections", &body).await;
        assert_eq!(status, 201, "{body}");
        (body["connection"].clone(), body["authorize_url"].as_str().unwrap().to_owned())
    }

    /// Plays the browser at the provider: GET the authorize URL (auto-decision set) and return
    /// the redirect back to Patchbay.
    pub async fn consent(&self, authorize_url: &str, decision: Decision) -> String {
        self.demo.set_auto_decision(Some(decision));
        let resp = self.browser.get(authorize_url).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        resp.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Follows the redirect to Patchbay's callback; returns (status, headers, body).
    pub async fn callback(&self, url: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let resp = self.browser.get(url).send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    /// Creates an OAuth connection and completes its consent; returns its id.
    pub async fn connect(&self, body: Value) -> String {
        let (c, url) = self.create(body).await;
        let back = self.consent(&url, Decision::Allow).await;
        let (status, _, page) = self.callback(&back).await;
        assert_eq!(status, 303, "{page}");
        c["id"].as_str().unwrap().to_owned()
    }

    /// Runs a reauthorize with `body` and allows it.
    pub async fn extend(&self, id: &str, body: Value) {
        let (status, start) = self.member.post(&format!("/v1/connections/{id}/reauthorize"), &body).await;
        assert_eq!(status, 200, "{start}");
        let back = self.consent(start["authorize_url"].as_str().unwrap(), Decision::Allow).await;
        assert_eq!(self.callback(&back).await.0, 303);
    }

    pub async fn connection(&self, id: &str) -> Value {
        let (status, c) = self.member.get(&format!("/v1/connections/{id}")).await;
        assert_eq!(status, 200, "{c}");
        c
    }

    /// The team's events of one type, oldest first.
    pub async fn events(&self, event_type: &str) -> Vec<Value> {
        let (status, body) = self.admin.get(&format!("/v1/events?type={event_type}")).await;
        assert_eq!(status, 200, "{body}");
        let mut items = body["items"].as_array().unwrap().clone();
        items.reverse();
        items
    }
}

pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

pub fn scopes(c: &Value) -> Vec<String> {
    c["granted_scopes"].as_array().unwrap().iter().map(|s| s["scope"].as_str().unwrap().to_owned()).collect()
}

pub fn json_scopes(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}
