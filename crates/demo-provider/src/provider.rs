//! [`DemoProvider`]: starting and stopping the server, its knobs and its ledger.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, extract::State};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::consent::{home_page, html_response};
use crate::knobs::{Decision, Fault, IssParam};
use crate::ledger::{ApiCallRecord, AuthorizeRecord, Ledger, ReuseDetection, TokenRequestRecord};
use crate::listener::{Conn, ResettableListener, bound_addr};
use crate::options::{DemoOptions, TokenEndpointAuth};
use crate::scopes::SCOPES;
use crate::state::RegisteredClient;
use crate::state::Shared;
use crate::{api, authorize, registration, token};

/// The running server task; stops it when the last handle goes away.
struct Server {
    addr: SocketAddr,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}

/// Demo Cloud, running on loopback: a cheap-to-clone handle with knobs and a ledger.
///
/// Every clone controls the same server. It stops on [`shutdown`](Self::shutdown) or when the
/// last clone is dropped.
#[derive(Clone)]
pub struct DemoProvider {
    shared: Arc<Shared>,
    server: Arc<Server>,
}

impl std::fmt::Debug for DemoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoProvider")
            .field("addr", &self.server.addr)
            .field("client_id", &self.shared.options.client_id)
            .finish_non_exhaustive()
    }
}

impl DemoProvider {
    /// Binds `127.0.0.1` (port [`DemoOptions::port`] or a free one) and serves on the current
    /// tokio runtime.
    ///
    /// # Panics
    /// When the port cannot be bound or outside a tokio runtime; use
    /// [`try_start`](Self::try_start) to handle a busy port.
    pub async fn start(options: DemoOptions) -> DemoProvider {
        let port = options.port;
        Self::try_start(options)
            .await
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:{} for Demo Cloud: {e}", port.unwrap_or(0)))
    }

    /// As [`start`](Self::start), returning the bind error instead of panicking.
    ///
    /// # Errors
    /// When the loopback port cannot be bound (already in use).
    pub async fn try_start(options: DemoOptions) -> io::Result<DemoProvider> {
        let tcp = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port.unwrap_or(0))).await?;
        let listener = ResettableListener(tcp);
        let addr = bound_addr(&listener)?;
        let shared = Arc::new(Shared::new(options, format!("http://{addr}")));
        let app = router(shared.clone()).into_make_service_with_connect_info::<Conn>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "demo provider: server stopped with an error");
            }
        });
        tracing::info!(%addr, "demo provider: Demo Cloud listening");
        Ok(DemoProvider {
            shared,
            server: Arc::new(Server { addr, shutdown: Mutex::new(Some(tx)), task: Mutex::new(Some(task)) }),
        })
    }

    /// Stops the server for every handle and waits (at most 5 s, then aborts it) until the
    /// listener and every connection are closed: afterwards the port refuses connections.
    pub async fn shutdown(&self) {
        if let Some(tx) = self.server.shutdown.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
        let task = self.server.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }

    // ----- persistence ----------------------------------------------------------------------

    /// The grants issued so far (token families, refresh and access tokens, items) as JSON,
    /// to hand to [`import_state`](Self::import_state) after a restart. It contains live
    /// tokens: store it like a credential (`patchbay demo` writes it mode 0600).
    pub fn export_state(&self) -> String {
        serde_json::to_string(&self.shared.lock().snapshot()).expect("a snapshot always serializes")
    }

    /// Replaces the grants with an earlier [`export_state`](Self::export_state), so tokens
    /// issued before a restart keep working (access tokens until their original expiry).
    ///
    /// # Errors
    /// When `json` is not such a snapshot; the state is unchanged then.
    pub fn import_state(&self, json: &str) -> Result<(), String> {
        let snapshot: crate::snapshot::Snapshot =
            serde_json::from_str(json).map_err(|e| format!("not a Demo Cloud state: {e}"))?;
        self.shared.lock().restore(snapshot);
        Ok(())
    }

    // ----- addresses ------------------------------------------------------------------------

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The RFC 9207 issuer, equal to [`base_url`](Self::base_url).
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }

    /// `{base}/oauth/authorize`.
    pub fn authorization_url(&self) -> String {
        format!("{}/oauth/authorize", self.shared.issuer)
    }

    /// `{base}/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.shared.issuer)
    }

    /// `{base}/oauth/revoke`.
    pub fn revocation_url(&self) -> String {
        format!("{}/oauth/revoke", self.shared.issuer)
    }

    /// `{base}/register` (RFC 7591).
    pub fn registration_url(&self) -> String {
        format!("{}/register", self.shared.issuer)
    }

    /// The protected resource (RFC 9728), `{base}/api`: what a `resource` parameter must name.
    pub fn resource_url(&self) -> String {
        registration::resource_url(&self.shared)
    }

    /// Clients created by `POST /register`, in no particular order.
    pub fn registered_clients(&self) -> Vec<RegisteredClient> {
        self.shared.clients().values().cloned().collect()
    }

    /// `Some(message)`: `POST /register` answers every request with `invalid_client_metadata`
    /// and this description; `None` (the default) registers.
    pub fn refuse_registrations(&self, message: Option<String>) {
        self.shared.lock().registration_refusal = message;
    }

    /// The registered client id.
    pub fn client_id(&self) -> &str {
        &self.shared.options.client_id
    }

    /// The registered client secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.options.client_secret
    }

    /// The options the server started with.
    pub fn options(&self) -> &DemoOptions {
        &self.shared.options
    }

    // ----- behaviour knobs ------------------------------------------------------------------

    /// `Some(Allow | Deny)`: `GET /oauth/authorize` skips the consent page and answers the 303
    /// directly, as if the user had clicked (tests follow the redirect without a browser).
    /// `None` (the default) shows the page.
    pub fn set_auto_decision(&self, decision: Option<Decision>) {
        self.shared.lock().auto_decision = decision;
    }

    /// Partial consent: `Some(scopes)` makes the user grant only these of the requested scopes
    /// (the consent page pre-ticks only them; client-credentials grants are narrowed too).
    /// When nothing requested is left, the answer is `access_denied`. `None` grants everything.
    pub fn grant_only(&self, scopes: Option<Vec<String>>) {
        self.shared.lock().grant_only = scopes;
    }

    /// The account the user is signed in as (default [`DEFAULT_ACCOUNT`](crate::DEFAULT_ACCOUNT)).
    /// The consent page shows it in an editable field; auto-decisions use it as is.
    pub fn login_as(&self, account: impl Into<String>) {
        self.shared.lock().login_as = account.into();
    }

    /// The account the user is signed in as.
    pub fn current_account(&self) -> String {
        self.shared.lock().login_as.clone()
    }

    /// What redirects to the client carry in `iss` (RFC 9207). Starts as
    /// [`IssParam::Issuer`], or [`IssParam::Omit`] when [`DemoOptions::issue_iss`] is false.
    pub fn set_iss_param(&self, iss: IssParam) {
        self.shared.lock().iss_param = iss;
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_access_token_ttl(&self, ttl: Duration) {
        self.shared.lock().access_token_ttl = ttl;
    }

    /// Moves the server's clock forward: codes, pending consent pages and access tokens age by
    /// `by` (a code is valid for ten minutes).
    pub fn advance_time(&self, by: Duration) {
        self.shared.lock().time_offset += by;
    }

    // ----- fault knobs ----------------------------------------------------------------------

    /// The next `n` token requests (any grant) get `fault`. Calls queue up: faults already
    /// queued come first.
    pub fn fail_next_token(&self, n: usize, fault: Fault) {
        let mut inner = self.shared.lock();
        for _ in 0..n {
            inner.token_faults.push_back(fault.clone());
        }
    }

    /// The next `n` revocation requests are answered with `status` (and an OAuth error body;
    /// `Retry-After: 1` for 429 and 503) without revoking anything. They are still recorded.
    pub fn fail_next_revoke(&self, n: usize, status: u16) {
        let mut inner = self.shared.lock();
        for _ in 0..n {
            inner.revoke_faults.push_back(status);
        }
    }

    /// The next `n` calls to the identity endpoint `GET /api/me` get `fault` instead of the
    /// account: [`Fault::Status`] (503, 401, 403…), [`Fault::RetryAfter`] (429), [`Fault::Reset`],
    /// [`Fault::Body`] or [`Fault::Delay`] (then answered normally). They are recorded in the API
    /// ledger with status 0 for a reset.
    pub fn fail_next_identity(&self, n: usize, fault: Fault) {
        let mut inner = self.shared.lock();
        for _ in 0..n {
            inner.identity_faults.push_back(fault.clone());
        }
    }

    /// Drops every queued token, revocation and identity fault.
    pub fn clear_faults(&self) {
        let mut inner = self.shared.lock();
        inner.token_faults.clear();
        inner.revoke_faults.clear();
        inner.identity_faults.clear();
    }

    /// Makes every access token issued so far expired (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        self.shared.lock().expire_access_tokens();
    }

    /// Revokes every access and refresh token issued so far, as a user removing the app would.
    pub fn revoke_all(&self) {
        self.shared.lock().revoke_all();
    }

    // ----- ledger ---------------------------------------------------------------------------

    /// Every token request, oldest first (faulted ones included).
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        self.shared.lock().ledger.token_requests.clone()
    }

    /// How many `grant_type=refresh_token` requests reached the token endpoint, whatever their
    /// outcome.
    pub fn refresh_grant_count(&self) -> usize {
        self.shared.lock().ledger.token_requests.iter().filter(|r| r.grant_type == "refresh_token").count()
    }

    /// Every call to the revocation endpoint as `(token, token_type_hint)`, oldest first (the
    /// token is empty when the request had none).
    pub fn revocations(&self) -> Vec<(String, Option<String>)> {
        self.shared.lock().ledger.revocations.clone()
    }

    /// Every `GET /oauth/authorize`, with all its query parameters.
    pub fn authorize_requests(&self) -> Vec<AuthorizeRecord> {
        self.shared.lock().ledger.authorize_requests.clone()
    }

    /// Every replay (superseded refresh token or reused code) that revoked a token family.
    pub fn reuse_detections(&self) -> Vec<ReuseDetection> {
        self.shared.lock().ledger.reuse_detections.clone()
    }

    /// Every resource API call, oldest first.
    pub fn api_calls(&self) -> Vec<ApiCallRecord> {
        self.shared.lock().ledger.api_calls.clone()
    }

    /// Forgets the ledger (tokens, knobs and items stay).
    pub fn clear_ledger(&self) {
        self.shared.lock().ledger = Ledger::default();
    }

    /// The newest live refresh token of each live token family of `account`, oldest family
    /// first. With rotation there is one per consent; after a reuse detection there is none.
    pub fn live_refresh_tokens(&self, account: &str) -> Vec<String> {
        self.shared.lock().live_refresh_tokens(account)
    }

    /// Whether `token` is a refresh token the server would still accept (not superseded, not
    /// revoked, its family alive).
    pub fn is_refresh_token_live(&self, token: &str) -> bool {
        self.shared.lock().is_refresh_live(token)
    }

    /// The stable user id `GET /api/me` reports for `account` (its `id`).
    pub fn account_id(&self, account: &str) -> String {
        crate::crypto::user_id(account)
    }

    /// Whether `token` is an access token that is neither expired nor revoked.
    pub fn is_access_token_valid(&self, token: &str) -> bool {
        self.shared.lock().bearer(token).is_some()
    }

    // ----- provider file --------------------------------------------------------------------

    /// The provider file (docs/providers.md) of this server; see [`ProviderYamlOptions`].
    ///
    /// [`ProviderYamlOptions`]: crate::ProviderYamlOptions
    pub fn provider_yaml(&self, id: &str, opts: crate::ProviderYamlOptions<'_>) -> String {
        let default_auth = match self.shared.options.token_endpoint_auth {
            TokenEndpointAuth::Post => "client_secret_post",
            TokenEndpointAuth::Basic | TokenEndpointAuth::Either => "client_secret_basic",
        };
        crate::yaml::render(
            id,
            &self.shared.issuer,
            &self.shared.options.client_id,
            &self.shared.options.client_secret,
            default_auth,
            &opts,
        )
    }

    /// The provider file of a Demo Cloud that does not run in this process (`patchbay providers
    /// list --demo`): the same id, modes, scopes and modules, with `base_url` as its address and
    /// a placeholder secret.
    pub fn provider_yaml_for(
        base_url: &str,
        client_id: &str,
        id: &str,
        opts: crate::ProviderYamlOptions<'_>,
    ) -> String {
        crate::yaml::render(id, base_url, client_id, "listing-only", "client_secret_basic", &opts)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/oauth-protected-resource/api", get(registration::resource_metadata))
        .route("/register", post(registration::register))
        .route("/oauth/authorize", get(authorize::authorize))
        .route("/oauth/authorize/decision", post(authorize::decision))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
        .route("/api/me", get(api::me))
        .route("/api/items", get(api::list_items).post(api::create_item))
        .route("/api/items/{id}", delete(api::delete_item))
        .fallback(not_found)
        .with_state(shared)
}

async fn home(State(shared): State<Arc<Shared>>) -> Response {
    html_response(StatusCode::OK, home_page(&shared.issuer))
}

/// RFC 8414 authorization server metadata.
async fn metadata(State(shared): State<Arc<Shared>>) -> Response {
    let base = &shared.issuer;
    let auth_methods: &[&str] = match shared.options.token_endpoint_auth {
        TokenEndpointAuth::Basic => &["client_secret_basic"],
        TokenEndpointAuth::Post => &["client_secret_post"],
        TokenEndpointAuth::Either => &["client_secret_basic", "client_secret_post"],
    };
    let iss_supported = !matches!(shared.lock().iss_param, IssParam::Omit);
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "registration_endpoint": format!("{base}/register"),
        "scopes_supported": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": iss_supported,
    }))
    .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "error_description": "Demo Cloud has no such endpoint"})))
        .into_response()
}
