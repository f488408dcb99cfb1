//! [`MockProvider`]: a real HTTP server on loopback standing in for third-party services that
//! authenticate with an API key or HTTP basic, with knobs to inject faults and a ledger of every
//! request that reached it.
//!
//! Endpoints (all answer JSON):
//!
//! | endpoint | credential | success body |
//! |---|---|---|
//! | `GET /bearer/me` | `Authorization: Bearer <key>` | `{"email": account, "id": 42}` |
//! | `GET /header/me` | `X-Api-Key: <key>` | `{"email": account, "id": 42}` |
//! | `GET /query/me?api_key=<key>` | query parameter | `{"email": account, "id": 42}` |
//! | `GET /basic/me` | HTTP basic | `{"user": {"email": account}}` |
//! | `GET /tenant/{name}/me` | any of the above | `{"email": account, "id": 42, "tenant": name}` |
//! | `ANY /echo/{*path}` | none | the request itself: `{method, path, query, headers, body}` |
//! | `POST /oauth/revoke` | none | `200`, records the form body ([`MockProvider::revocations`]) |
//!
//! A missing or wrong credential gets `401 {"error": {"message": "Invalid API key provided"}}`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The largest request body the mock buffers (bigger bodies are recorded as empty).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// One request as it reached the mock, recorded before any injected delay or failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, upper case (`GET`).
    pub method: String,
    /// Path without the query string (`/bearer/me`).
    pub path: String,
    /// The raw query string, if the URL had one.
    pub query: Option<String>,
    /// Every header in arrival order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, decoded as UTF-8 lossily.
    pub body: String,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url_decode_pairs(query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// The kinds of provider file the mock can stand behind (see [`MockProvider::provider_yaml_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MockAuth {
    /// `api_key` in `Authorization: Bearer <key>`, verified at `/bearer/me`.
    Bearer,
    /// `api_key` in `X-Api-Key`, verified at `/header/me`.
    Header,
    /// `api_key` in the `api_key` query parameter, verified at `/query/me`.
    Query,
    /// HTTP `basic`, verified at `/basic/me` (account at `/user/email`).
    Basic,
    /// Bearer `api_key` with a required `tenant` setting templated into the verify path
    /// (`/tenant/{tenant}/me`).
    Tenant,
}

impl MockAuth {
    /// Every kind, in the order [`MockProvider::write_providers_dir`] writes them.
    pub const ALL: [MockAuth; 5] =
        [MockAuth::Bearer, MockAuth::Header, MockAuth::Query, MockAuth::Basic, MockAuth::Tenant];

    /// The provider id used by [`MockProvider::provider_yaml`] and the providers dir.
    pub fn default_id(self) -> &'static str {
        match self {
            MockAuth::Bearer => "mock-bearer",
            MockAuth::Header => "mock-header",
            MockAuth::Query => "mock-query",
            MockAuth::Basic => "mock-basic",
            MockAuth::Tenant => "mock-tenant",
        }
    }

    /// The display name written into the provider file.
    pub fn display_name(self) -> &'static str {
        match self {
            MockAuth::Bearer => "Mock Bearer",
            MockAuth::Header => "Mock Header",
            MockAuth::Query => "Mock Query",
            MockAuth::Basic => "Mock Basic",
            MockAuth::Tenant => "Mock Tenant",
        }
    }

    /// The kind whose [`default_id`](Self::default_id) is `id`.
    pub fn from_default_id(id: &str) -> Option<MockAuth> {
        MockAuth::ALL.into_iter().find(|k| k.default_id() == id)
    }
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, String>,
    basic: HashMap<(String, String), String>,
    fail: Option<(u32, StatusCode)>,
    delay: Duration,
    ledger: Vec<RecordedRequest>,
    revocations: Vec<Vec<(String, String)>>,
}

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not poison the mock for the server task.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A loopback HTTP server that plays an API-key / basic-auth third-party service.
///
/// Started on the current tokio runtime; it stops when dropped. Every knob is thread-safe and
/// takes effect on the next request.
pub struct MockProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProvider").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl MockProvider {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime. No key is valid until
    /// [`add_key`](Self::add_key) / [`add_basic`](Self::add_basic).
    ///
    /// # Panics
    /// When the loopback listener cannot be bound (or outside a tokio runtime).
    pub async fn start() -> MockProvider {
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0 for the mock provider");
        let addr = listener.local_addr().expect("mock provider local address");
        let shared = Arc::new(Shared::default());
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        MockProvider { addr, shared, shutdown: Some(tx), task: Some(task) }
    }

    /// Stops the server and waits (at most 5 s, then aborts it) until the listener and every
    /// connection are closed: afterwards the port refuses connections, as a provider that is down.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the mock listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Accepts `key` (bearer, `X-Api-Key` or `api_key` query) as the credential of `account`.
    pub fn add_key(&self, key: &str, account: &str) {
        self.shared.lock().keys.insert(key.to_owned(), account.to_owned());
    }

    /// Accepts HTTP basic `user`:`pass` as the credential of `account`.
    pub fn add_basic(&self, user: &str, pass: &str, account: &str) {
        self.shared.lock().basic.insert((user.to_owned(), pass.to_owned()), account.to_owned());
    }

    /// Stops accepting `key`; returns whether it was valid.
    pub fn revoke_key(&self, key: &str) -> bool {
        self.shared.lock().keys.remove(key).is_some()
    }

    /// Stops accepting every basic password of `user`; returns whether any was valid.
    pub fn revoke_basic(&self, user: &str) -> bool {
        let mut inner = self.shared.lock();
        let before = inner.basic.len();
        inner.basic.retain(|(u, _), _| u != user);
        inner.basic.len() != before
    }

    /// Answers the next `n` requests (any endpoint) with `status` and
    /// `{"error": {"message": "injected failure"}}`; they are still recorded in the ledger.
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status code.
    pub fn fail_next(&self, n: u32, status: u16) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status code");
        self.shared.lock().fail = (n > 0).then_some((n, status));
    }

    /// Delays every answer by `delay` (after recording the request); `Duration::ZERO` turns it off.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Every request that reached the mock so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().ledger.clone()
    }

    /// How many requests reached the mock so far.
    pub fn request_count(&self) -> usize {
        self.shared.lock().ledger.len()
    }

    /// The recorded requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared.lock().ledger.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Forgets the recorded requests and revocations (keys and knobs stay).
    pub fn clear_requests(&self) {
        let mut inner = self.shared.lock();
        inner.ledger.clear();
        inner.revocations.clear();
    }

    /// The decoded form bodies posted to `/oauth/revoke`, oldest first.
    pub fn revocations(&self) -> Vec<Vec<(String, String)>> {
        self.shared.lock().revocations.clone()
    }

    /// The provider file (docs/providers.md) for one of the default ids of [`MockAuth`]
    /// (`mock-bearer`, `mock-header`, `mock-query`, `mock-basic`, `mock-tenant`).
    ///
    /// # Panics
    /// For any other id; use [`provider_yaml_for`](Self::provider_yaml_for) to choose the id.
    pub fn provider_yaml(&self, id: &str) -> String {
        let kind = MockAuth::from_default_id(id).unwrap_or_else(|| {
            let ids: Vec<_> = MockAuth::ALL.iter().map(|k| k.default_id()).collect();
            panic!("unknown mock provider id `{id}`; expected one of {ids:?} (or use provider_yaml_for)")
        });
        self.provider_yaml_for(kind, id)
    }

    /// The provider file of kind `kind` under provider id `id` (`[a-z0-9-]+`), pointing at this mock.
    /// Every file declares two modules without scopes: `read_items` and `create_item`.
    pub fn provider_yaml_for(&self, kind: MockAuth, id: &str) -> String {
        let base = self.base_url();
        let name = kind.display_name();
        let auth = match kind {
            MockAuth::Bearer => "auth_mode: api_key\n\
                 api_key: {in: header, name: Authorization, prefix: \"Bearer \"}\n\
                 verify: {method: GET, path: /bearer/me, account: /email}\n"
                .to_owned(),
            MockAuth::Header => "auth_mode: api_key\n\
                 api_key: {in: header, name: X-Api-Key}\n\
                 verify: {method: GET, path: /header/me, account: /email}\n"
                .to_owned(),
            MockAuth::Query => "auth_mode: api_key\n\
                 api_key: {in: query, name: api_key}\n\
                 verify: {method: GET, path: /query/me, account: /email}\n"
                .to_owned(),
            MockAuth::Basic => "auth_mode: basic\n\
                 verify: {method: GET, path: /basic/me, account: /user/email}\n\
                 access_advice: {text: Give Patchbay a user of its own with read-only rights., \
                 url: \"https://mock.example/docs/restrict\"}\n"
                .to_owned(),
            MockAuth::Tenant => "auth_mode: api_key\n\
                 api_key: {in: header, name: Authorization, prefix: \"Bearer \"}\n\
                 verify: {method: GET, path: \"/tenant/{tenant}/me\", account: /email}\n\
                 settings:\n  \
                   - {key: tenant, label: Tenant, required: true, placeholder: acme}\n"
                .to_owned(),
        };
        format!(
            "id: {id}\n\
             display_name: {name}\n\
             description: Loopback mock provider for tests\n\
             api_base_url: {base}\n\
             {auth}\
             modules:\n  \
               read_items: {{name: Read items}}\n  \
               create_item: {{name: Create an item}}\n"
        )
    }

    /// Writes every [`MockAuth`] provider file (default ids, `<id>.yaml`) into `dir`.
    ///
    /// # Panics
    /// When a file cannot be written.
    pub fn write_provider_files(&self, dir: &Path) {
        for kind in MockAuth::ALL {
            let id = kind.default_id();
            let path = dir.join(format!("{id}.yaml"));
            std::fs::write(&path, self.provider_yaml(id)).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }

    /// A new temporary directory holding every [`MockAuth`] provider file; pass its path as
    /// `PATCHBAY_PROVIDERS_DIR` (and keep the `TempDir` alive).
    ///
    /// # Panics
    /// When the directory or a file cannot be created.
    pub fn write_providers_dir(&self) -> TempDir {
        let dir =
            tempfile::Builder::new().prefix("patchbay-providers-").tempdir().expect("create a providers temp dir");
        self.write_provider_files(dir.path());
        dir
    }
}

impl Drop for MockProvider {
    /// Stops accepting connections and closes idle ones (in-flight requests are answered); does
    /// not wait. Use [`MockProvider::shutdown`] to wait until the provider is unreachable.
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/bearer/me", get(bearer_me))
        .route("/header/me", get(header_me))
        .route("/query/me", get(query_me))
        .route("/basic/me", get(basic_me))
        .route("/tenant/{name}/me", get(tenant_me))
        .route("/echo/{*path}", any(echo))
        .route("/oauth/revoke", post(oauth_revoke))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), record_and_inject))
        .with_state(shared)
}

/// Records the request, then applies the delay and failure knobs.
async fn record_and_inject(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let (delay, failure) = {
        let mut inner = shared.lock();
        inner.ledger.push(recorded);
        let failure = match inner.fail {
            Some((n, status)) => {
                inner.fail = (n > 1).then_some((n - 1, status));
                Some(status)
            }
            None => None,
        };
        (inner.delay, failure)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = failure {
        return (status, axum::Json(json!({"error": {"message": "injected failure"}}))).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"mock\", Basic realm=\"mock\"")],
        axum::Json(json!({"error": {"message": "Invalid API key provided"}})),
    )
        .into_response()
}

fn identity(account: String) -> Response {
    axum::Json(json!({"email": account, "id": 42})).into_response()
}

fn bearer_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim().to_owned())
}

fn header_key(headers: &HeaderMap) -> Option<String> {
    Some(headers.get("x-api-key")?.to_str().ok()?.to_owned())
}

fn query_key(query: Option<&str>) -> Option<String> {
    url_decode_pairs(query?).into_iter().find(|(k, _)| k == "api_key").map(|(_, v)| v)
}

fn basic_pair(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

fn account_for_key(shared: &Shared, key: Option<String>) -> Option<String> {
    shared.lock().keys.get(&key?).cloned()
}

fn account_for_basic(shared: &Shared, pair: Option<(String, String)>) -> Option<String> {
    shared.lock().basic.get(&pair?).cloned()
}

async fn bearer_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    account_for_key(&shared, bearer_key(&headers)).map_or_else(unauthorized, identity)
}

async fn header_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    account_for_key(&shared, header_key(&headers)).map_or_else(unauthorized, identity)
}

async fn query_me(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    account_for_key(&shared, query_key(uri.query())).map_or_else(unauthorized, identity)
}

async fn basic_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match account_for_basic(&shared, basic_pair(&headers)) {
        Some(account) => axum::Json(json!({"user": {"email": account}})).into_response(),
        None => unauthorized(),
    }
}

async fn tenant_me(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let account = account_for_key(&shared, bearer_key(&headers))
        .or_else(|| account_for_key(&shared, header_key(&headers)))
        .or_else(|| account_for_key(&shared, query_key(uri.query())))
        .or_else(|| account_for_basic(&shared, basic_pair(&headers)));
    match account {
        Some(account) => axum::Json(json!({"email": account, "id": 42, "tenant": name})).into_response(),
        None => unauthorized(),
    }
}

async fn echo(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
        .collect();
    axum::Json(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
    }))
    .into_response()
}

async fn oauth_revoke(State(shared): State<Arc<Shared>>, body: String) -> Response {
    shared.lock().revocations.push(url_decode_pairs(&body));
    StatusCode::OK.into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"message": "no such endpoint"}}))).into_response()
}

/// Splits `a=1&b=x%20y` (query string or form body) into decoded pairs.
fn url_decode_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
