//! [`TestApp`]: the whole service built in-process by the real composition root
//! (`patchbay::app::build_with_clock`) on a [`FixedClock`], with the axum router driven through
//! `Router::oneshot` — no child process, no port, no sleeping: a test advances the clock.
//!
//! It lives here rather than in `patchbay-testkit` because it needs the composition root, and
//! the composition root's tests already depend on the testkit (a testkit → patchbay dependency
//! would be a cycle). The engine-neutral part, the in-process JSON client, is the testkit's
//! [`RouterClient`].
//!
//! What a TestApp has: a fresh database (SQLite in a temp dir, or a fresh PostgreSQL database
//! under `PATCHBAY_TEST_ENGINE=postgres`), team `acme` with a client per role (admin, member,
//! viewer, runtime) and team `globex`'s admin, plus optionally a [`MockProvider`] (its provider
//! files loaded) and Demo Cloud (the `democloud`, `democloud-full` and `democloud-cc` files).
//! The background workers do not run: a test calls a pass (`patchbay.run_due_connections()`)
//! when it wants one.

use std::sync::Arc;

use patchbay::config::{Config, ConfigArgs, MasterKey};
use patchbay_demo_provider::{Decision, DemoOptions, DemoProvider, ProviderYamlOptions};
use patchbay_domain::clock::FixedClock;
use patchbay_domain::principal::Role;
use patchbay_service::Patchbay;
use patchbay_testkit::{MockProvider, RouterClient};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The public URL the in-process service believes it has: the provider redirects the "browser"
/// there, and the test hands the callback's path and query to the router.
pub const PUBLIC_URL: &str = "http://patchbay.test";

/// A change to the resolved configuration, applied before the service is built.
type ConfigTweak = Box<dyn FnOnce(&mut Config)>;

/// How to build a [`TestApp`].
/// Writes a provider file's text from the running mock.
type MockFile = fn(&MockProvider) -> String;

#[derive(Default)]
pub struct TestAppBuilder {
    mock: bool,
    demo: Option<DemoOptions>,
    grant_lifetime: Option<&'static str>,
    demo_files: Vec<(&'static str, ProviderYamlOptions<'static>)>,
    mock_files: Vec<(&'static str, MockFile)>,
    tweak: Option<ConfigTweak>,
    files: Vec<(String, String)>,
    conformance: Option<(String, Arc<dyn reqwest::dns::Resolve>)>,
}

impl TestAppBuilder {
    /// With a [`MockProvider`] and its provider files (`mock-bearer`, `mock-basic`, …).
    pub fn mock(mut self) -> Self {
        self.mock = true;
        self
    }

    /// With Demo Cloud started with `options`, and its three provider files.
    pub fn demo(mut self, options: DemoOptions) -> Self {
        self.demo = Some(options);
        self
    }

    /// The `grant_lifetime` of the `democloud` provider file.
    pub fn grant_lifetime(mut self, lifetime: &'static str) -> Self {
        self.grant_lifetime = Some(lifetime);
        self
    }

    /// One more Demo Cloud provider file, `id.yaml`, written with `options`.
    pub fn demo_file(mut self, id: &'static str, options: ProviderYamlOptions<'static>) -> Self {
        self.demo_files.push((id, options));
        self
    }

    /// One more provider file, `id.yaml`, written from the running mock (implies [`Self::mock`]).
    pub fn mock_file(mut self, id: &'static str, make: MockFile) -> Self {
        self.mock = true;
        self.mock_files.push((id, make));
        self
    }

    /// Adjusts the resolved configuration before the service is built.
    pub fn config(mut self, tweak: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweak = Some(Box::new(tweak));
        self
    }

    /// One more provider file, `name` with `text`, in the providers directory.
    pub fn provider_file(mut self, name: &str, text: &str) -> Self {
        self.files.push((name.to_owned(), text.to_owned()));
        self
    }

    /// Outbound calls resolved by `resolver` and trusting only the CA `ca_pem` (the conformance
    /// kit's test-only seam, `GuardedClient::with_test_roots`).
    pub fn conformance(mut self, ca_pem: String, resolver: Arc<dyn reqwest::dns::Resolve>) -> Self {
        self.conformance = Some((ca_pem, resolver));
        self
    }

    /// Builds the service, its router, the teams and the clients.
    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mock = if self.mock { Some(MockProvider::start().await) } else { None };
        let demo = match self.demo {
            Some(options) => Some(DemoProvider::start(options).await),
            None => None,
        };
        let providers = dir.path().join("providers");
        std::fs::create_dir_all(&providers).unwrap();
        if let Some(mock) = &mock {
            mock.write_provider_files(&providers);
            for (id, make) in &self.mock_files {
                std::fs::write(providers.join(format!("{id}.yaml")), make(mock)).unwrap();
            }
        }
        if let Some(demo) = &demo {
            super::oauth::write_demo_files(demo, &providers, self.grant_lifetime);
            for (id, options) in &self.demo_files {
                std::fs::write(providers.join(format!("{id}.yaml")), demo.provider_yaml(id, *options)).unwrap();
            }
        }
        for (name, text) in &self.files {
            std::fs::write(providers.join(name), text).unwrap();
        }
        let mut config = test_config(&dir, providers).await;
        if let Some(tweak) = self.tweak {
            tweak(&mut config);
        }
        let database_url = config.database_url.clone();
        let clock = Arc::new(FixedClock::starting_now());
        let http = self.conformance.map(|(ca, resolver)| {
            patchbay_providers::GuardedClient::with_test_roots(patchbay::app::client_options(&config), resolver, &ca)
                .expect("conformance client")
        });
        let patchbay = patchbay::app::build_with_http(&config, &[], clock.clone(), http).await.unwrap();
        let router = patchbay_server::router(patchbay_server::AppState {
            patchbay: patchbay.clone(),
            metrics: None,
            trusted_proxies: Arc::default(),
        });
        let anonymous = RouterClient::new(router, None);
        let (team, [admin, member, viewer, runtime]) = team_clients(&patchbay, &anonymous, "acme").await;
        let (_, [other_team, ..]) = team_clients(&patchbay, &anonymous, "globex").await;
        TestApp {
            patchbay,
            database_url,
            clock,
            team,
            mock,
            demo,
            anonymous,
            admin,
            member,
            viewer,
            runtime,
            other_team,
            browser: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap(),
            _dir: dir,
        }
    }
}

/// The configuration `patchbay serve` would resolve with no flags, pointed at the temp dir, the
/// provider files and this run's engine; loopback providers allowed.
async fn test_config(dir: &TempDir, providers: std::path::PathBuf) -> Config {
    let database_url =
        match super::on_postgres() {
            true => Some(patchbay_testkit::fresh_postgres_database().await.expect(
                "PATCHBAY_TEST_ENGINE=postgres needs PATCHBAY_TEST_DATABASE_URL (scripts/test starts a cluster)",
            )),
            false => None,
        };
    let data_dir = dir.path().join("data");
    let args = ConfigArgs {
        data_dir: Some(data_dir.clone()),
        database_url,
        public_url: Some(PUBLIC_URL.to_owned()),
        providers_dir: Some(providers),
        allow_private_networks: Some(true),
        ..ConfigArgs::default()
    };
    let mut config = Config::resolve(&args).unwrap();
    // Never a key from the test's own environment.
    config.master_key = MasterKey::File(data_dir.join("master.key"));
    // Long enough for the token calls a rotation test runs alongside to finish reading.
    config.data_key_settle = std::time::Duration::from_millis(500);
    config
}

/// Creates team `name` and a client per role: admin, member, viewer, runtime.
async fn team_clients(patchbay: &Patchbay, anonymous: &RouterClient, name: &str) -> (String, [RouterClient; 4]) {
    let team = patchbay.create_team(name).await.unwrap();
    let mut clients = Vec::new();
    for role in [Role::Admin, Role::Member, Role::Viewer, Role::Runtime] {
        let (_, token) = patchbay.create_token(team.id.as_str(), role, &format!("{role:?}")).await.unwrap();
        clients.push(anonymous.with_token(token.expose_secret()));
    }
    let clients: [RouterClient; 4] = clients.try_into().expect("four roles");
    (team.id.as_str().to_owned(), clients)
}

/// The service, in-process, on a clock the test moves.
pub struct TestApp {
    /// The service (for worker passes: `run_due_connections`, `deliver_due_webhooks`, …).
    pub patchbay: Arc<Patchbay>,
    /// The service's database, for tests that look at the stored bytes themselves.
    pub database_url: String,
    /// The clock every use-case reads.
    pub clock: Arc<FixedClock>,
    /// Team `acme`'s id.
    pub team: String,
    /// The mock provider, when built with [`TestAppBuilder::mock`].
    pub mock: Option<MockProvider>,
    /// Demo Cloud, when built with [`TestAppBuilder::demo`].
    pub demo: Option<DemoProvider>,
    /// No token.
    pub anonymous: RouterClient,
    admin: RouterClient,
    member: RouterClient,
    viewer: RouterClient,
    runtime: RouterClient,
    other_team: RouterClient,
    browser: reqwest::Client,
    _dir: TempDir,
}

impl TestApp {
    /// A builder; `TestApp::builder().mock().build().await`.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Team `acme`'s admin.
    pub fn admin(&self) -> &RouterClient {
        &self.admin
    }

    /// Team `acme`'s member.
    pub fn member(&self) -> &RouterClient {
        &self.member
    }

    /// Team `acme`'s viewer.
    pub fn viewer(&self) -> &RouterClient {
        &self.viewer
    }

    /// Team `acme`'s runtime token.
    pub fn runtime(&self) -> &RouterClient {
        &self.runtime
    }

    /// Team `globex`'s admin.
    pub fn other_team(&self) -> &RouterClient {
        &self.other_team
    }

    /// Advances the clock by `by` (what a process-level test would `sleep`).
    pub fn advance(&self, by: std::time::Duration) {
        self.clock.advance_std(by);
    }

    /// The mock provider.
    pub fn mock(&self) -> &MockProvider {
        self.mock.as_ref().expect("built with TestAppBuilder::mock")
    }

    /// Demo Cloud.
    pub fn demo(&self) -> &DemoProvider {
        self.demo.as_ref().expect("built with TestAppBuilder::demo")
    }

    /// Creates a verified bearer-key connection (as the member) and returns its JSON.
    pub async fn bearer_connection(&self, key: &str, account: &str, name: Option<&str>) -> Value {
        self.mock().add_key(key, account);
        let body = json!({"provider": "mock-bearer", "name": name, "credentials": {"api_key": key}});
        let (status, body) = self.member.post("/v1/connections", &body).await;
        assert_eq!(status, 201, "{body}");
        body["connection"].clone()
    }

    /// Creates an OAuth connection (as the member); returns (connection JSON, authorize URL).
    pub async fn create(&self, body: Value) -> (Value, String) {
        let (status, body) = self.member.post("/v1/connections", &body).await;
        assert_eq!(status, 201, "{body}");
        (body["connection"].clone(), body["authorize_url"].as_str().unwrap().to_owned())
    }

    /// Plays the browser at Demo Cloud (auto-decision set); returns the redirect back.
    pub async fn consent(&self, authorize_url: &str, decision: Decision) -> String {
        self.demo().set_auto_decision(Some(decision));
        let resp = self.browser.get(authorize_url).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
        resp.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Hands the redirect back to the router's callback; returns (status, headers, body).
    pub async fn callback(&self, url: &str) -> (u16, axum::http::HeaderMap, String) {
        let path = url.strip_prefix(PUBLIC_URL).unwrap_or_else(|| panic!("{url} is not a redirect to {PUBLIC_URL}"));
        let request = self.anonymous.request(axum::http::Method::GET, path).body(axum::body::Body::empty()).unwrap();
        let (status, headers, body) = patchbay_testkit::read_response(self.anonymous.call(request).await).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
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

    /// A connection as the member sees it.
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
