//! The credential-injecting proxy: `ANY /v1/connections/{id}/proxy/{path}` forwards to the
//! provider's `api_base_url` + path with the stored credential attached, so the runtime never
//! handles the secret at all.
//!
//! The URL is always built from the provider's own base URL, or one of its `api_hosts` named by
//! the `Patchbay-Api-Host` request header (docs/security.md N-03: the credential only goes to
//! the provider's declared hosts), through the guarded client (no redirects, address
//! guard, one keep-alive pool per host, HTTP/2 where offered). Bodies are streamed both ways
//! within `proxy_max_body_bytes`; a request body of up to 64 KiB is held so the call can be
//! retried once after a refresh when an OAuth provider answers 401 (a longer one is streamed
//! and the 401 is passed back). One audit record, `proxy.call`, per forwarded request, durable
//! before the credential is decrypted (S-09).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use patchbay_domain::connection::Connection;
use patchbay_domain::provider::{ApiPattern, AuthMode, Provider};
use patchbay_domain::scenario::ModuleRef;
use patchbay_domain::scope::ScopeSet;

use crate::audit::action;
use crate::lifecycle::TokenRequest;
use crate::runtime_cache::RuntimeCaller;
use crate::secrets::HandOver;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Request headers passed through to the provider (everything else is dropped: the caller's
/// own Authorization, cookies and hop-by-hop headers must not travel).
const FORWARDED_REQUEST_HEADERS: &[&str] = &["accept", "content-type", "if-match", "if-none-match", "idempotency-key"];
/// Response headers passed back.
const FORWARDED_RESPONSE_HEADERS: &[&str] = &["content-type", "etag", "retry-after", "location", "link"];
/// The request header that names one of the provider's `api_hosts` (G4): the call goes to that
/// base instead of `api_base_url`. It is Patchbay's own and never forwarded.
pub const API_HOST_HEADER: &str = "patchbay-api-host";
/// A request body up to this size is held, so a 401 can be retried after a refresh.
const REPLAYABLE_BODY_BYTES: usize = 64 * 1024;

/// A body passed through, chunk by chunk.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// A call to forward.
pub struct ProxyRequest {
    /// HTTP method.
    pub method: http::Method,
    /// Path below the provider's API base (no leading slash needed).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Request headers (only an allow-list is forwarded).
    pub headers: http::HeaderMap,
    /// Body, streamed to the provider.
    pub body: BodyStream,
    /// Module about to run, checked like on the token endpoint.
    pub module: Option<String>,
}

/// The provider's answer.
pub struct ProxyResponse {
    /// Status.
    pub status: http::StatusCode,
    /// Allow-listed headers.
    pub headers: Vec<(String, String)>,
    /// Body, streamed from the provider (fails past the cap).
    pub body: BodyStream,
    /// Scopes a `403 insufficient_scope` named that the connection lacks (now recorded on it as
    /// requested, so it shows them as missing).
    pub missing_scopes: ScopeSet,
}

/// The request line and headers, shared by both attempts.
struct Head {
    /// The `api_hosts` key named by [`API_HOST_HEADER`]; `None` for `api_base_url`.
    host: Option<String>,
    method: http::Method,
    path: String,
    query: Option<String>,
    headers: http::HeaderMap,
}

/// The request body to send: held whole (replayable), or a held start and the rest streaming.
enum Outgoing {
    Whole(Bytes),
    Streaming(Option<(Bytes, BodyStream)>),
}

fn too_large(cap: usize) -> ServiceError {
    ServiceError::Invalid(format!(
        "the request body is larger than the proxy's limit of {cap} bytes (PATCHBAY_PROXY_MAX_BODY_BYTES): \
         send less, or ask the operator to raise the limit"
    ))
}

/// Counts a streamed request body and fails it past `cap`, noting that in `over`.
fn capped(rest: BodyStream, already: usize, cap: usize, over: Arc<AtomicBool>) -> BodyStream {
    let mut seen = already;
    Box::pin(rest.map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > cap {
            over.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("request body over the proxy limit"));
        }
        Ok(chunk)
    }))
}

impl Outgoing {
    /// Reads up to [`REPLAYABLE_BODY_BYTES`] of the body: all of it (replayable) or a start.
    async fn read(mut body: BodyStream, cap: usize, over: &Arc<AtomicBool>) -> ServiceResult<Outgoing> {
        let mut held = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ServiceError::Invalid(format!("cannot read the request body: {e}")))?;
            held.extend_from_slice(&chunk);
            if held.len() > cap {
                return Err(too_large(cap));
            }
            if held.len() > REPLAYABLE_BODY_BYTES {
                let start = held.len();
                return Ok(Outgoing::Streaming(Some((held.freeze(), capped(body, start, cap, Arc::clone(over))))));
            }
        }
        Ok(Outgoing::Whole(held.freeze()))
    }

    /// The body of the next attempt; `None` when a streamed body was already sent.
    fn attempt(&mut self) -> Option<Option<reqwest::Body>> {
        match self {
            Outgoing::Whole(b) if b.is_empty() => Some(None),
            Outgoing::Whole(b) => Some(Some(reqwest::Body::from(b.clone()))),
            Outgoing::Streaming(parts) => parts.take().map(|(start, rest)| {
                let all = futures::stream::iter([Ok(start)]).chain(rest);
                Some(reqwest::Body::wrap_stream(all))
            }),
        }
    }
}

/// A module that declares its API calls (`modules.<id>.api`) may make only those: anything else
/// is refused before the credential is read, whatever the token.
fn check_module_api(
    provider: &Provider,
    module: &str,
    host: Option<&str>,
    method: &http::Method,
    path: &str,
) -> ServiceResult<()> {
    let m = ModuleRef::parse(module).map_err(ServiceError::Invalid)?;
    let Some(declared) = provider.module(&m.module).filter(|d| !d.api.is_empty()) else {
        return Ok(());
    };
    let path = format!("/{}", path.trim_start_matches('/'));
    let allowed = declared
        .api
        .iter()
        .filter_map(|a| ApiPattern::parse(a).ok())
        .any(|p| p.matches_on(host, method.as_str(), &path));
    if allowed {
        return Ok(());
    }
    let on = host.map(|h| format!("{h}:")).unwrap_or_default();
    Err(ServiceError::Forbidden(format!(
        "`{module}` declares the API calls it makes ({}); {method} {on}{path} is not one of them",
        declared.api.join(", "),
    )))
}

/// The `api_hosts` key a proxied call names with [`API_HOST_HEADER`], checked against the
/// provider before anything else happens.
fn requested_host(provider: &Provider, headers: &http::HeaderMap) -> ServiceResult<Option<String>> {
    let Some(value) = headers.get(API_HOST_HEADER) else { return Ok(None) };
    let key = value.to_str().unwrap_or_default().trim();
    if provider.api_hosts.contains_key(key) {
        return Ok(Some(key.to_owned()));
    }
    let known: Vec<String> = provider.api_hosts.keys().map(|k| format!("`{k}`")).collect();
    Err(ServiceError::Invalid(format!(
        "{API_HOST_HEADER}: {} has no API host `{key}`; {}",
        provider.display_name,
        if known.is_empty() {
            "it declares no api_hosts, so leave the header out".to_owned()
        } else {
            format!("use one of {}, or leave the header out for its api_base_url", known.join(", "))
        }
    )))
}

impl Patchbay {
    /// Forwards a call with the connection's credential injected.
    pub async fn proxy(&self, caller: &RuntimeCaller, id: &str, req: ProxyRequest) -> ServiceResult<ProxyResponse> {
        let ProxyRequest { method, path, query, headers, body, module } = req;
        if path.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(ServiceError::Invalid("the proxied path may not contain `.` or `..` segments".into()));
        }
        let cap = self.config.proxy_max_body_bytes;
        let declared = headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > cap as u64) {
            return Err(too_large(cap));
        }
        // The token endpoint's checks: role, team, module scopes, status, refresh when due.
        let check = TokenRequest { module: module.clone(), scenario: None, step: None };
        let ready = self.prepare_use(caller, id, &check).await?;
        let host = requested_host(&ready.provider, &headers)?;
        if let Some(module) = &module {
            check_module_api(&ready.provider, module, host.as_deref(), &method, &path)?;
        }
        let over = Arc::new(AtomicBool::new(false));
        let mut body = Outgoing::read(body, cap, &over).await?;
        let on = host.as_deref().map(|h| format!("{h}:")).unwrap_or_default();
        let head = Head { host, method, path, query, headers };
        let detail = format!("{} {on}/{}", head.method, head.path.trim_start_matches('/'));
        let who = &caller.principal;
        let how = HandOver { action: action::PROXY, detail: &detail, sealed: ready.sealed() };
        let first = body.attempt().unwrap_or_default();
        let response = self.forward(who, &ready.connection, &ready.provider, &head, first, how).await;
        let response = response.map_err(|e| if over.load(Ordering::Relaxed) { too_large(cap) } else { e })?;
        self.step_up(&ready.connection, &response.missing_scopes).await;
        if response.status != http::StatusCode::UNAUTHORIZED || ready.provider.auth_mode != AuthMode::Oauth2 {
            return Ok(response);
        }
        // The token may have been revoked or rotated out early: refresh once and retry, when
        // the body can be sent again.
        let Some(again) = body.attempt() else { return Ok(response) };
        let Ok(fresh) = self.refresh_connection(&ready.connection.team_id, &ready.connection.id, true).await else {
            return Ok(response);
        };
        let detail = format!("{detail} (retry after a refresh)");
        let how = HandOver { action: action::PROXY, detail: &detail, sealed: None };
        let response = self.forward(who, &fresh, &ready.provider, &head, again, how).await?;
        self.step_up(&fresh, &response.missing_scopes).await;
        Ok(response)
    }

    /// Records the scopes a `403 insufficient_scope` named (`step_up.rs`). The provider's answer
    /// is passed back whatever happens here: a failed write is logged, not returned.
    // Takes the scopes, not the response: a `&ProxyResponse` (its body stream is not `Sync`)
    // held across an await would make the proxy's future not `Send`.
    async fn step_up(&self, c: &Connection, missing: &ScopeSet) {
        if missing.is_empty() {
            return;
        }
        if let Err(e) = self.record_step_up(c, missing).await {
            tracing::warn!(connection_id = %c.id, error = %e, "could not record the scopes the provider asked for");
        }
    }

    async fn forward(
        &self,
        who: &patchbay_domain::principal::Principal,
        c: &Connection,
        provider: &Provider,
        head: &Head,
        body: Option<reqwest::Body>,
        how: HandOver<'_>,
    ) -> ServiceResult<ProxyResponse> {
        let path = format!("/{}", head.path.trim_start_matches('/'));
        let mut url = patchbay_providers::api_url_on(provider, head.host.as_deref(), &c.template_values(), &path)
            .map_err(|e| ServiceError::Invalid(format!("cannot build the provider URL: {e}")))?;
        url.set_query(head.query.as_deref().filter(|q| !q.is_empty()));
        let mut builder = self
            .http
            .request(head.method.clone(), url)
            .map_err(|e| ServiceError::ProviderUnavailable(e.to_string()))?;
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(v) = head.headers.get(*name) {
                builder = builder.header(*name, v.clone());
            }
        }
        if let Some(body) = body {
            // A streamed body keeps the length the caller declared (some APIs refuse chunked
            // uploads); the HTTP client fails the call if the body does not match it.
            if let Some(length) = head.headers.get(http::header::CONTENT_LENGTH) {
                builder = builder.header(http::header::CONTENT_LENGTH, length.clone());
            }
            builder = builder.body(body);
        }
        let credential = self.hand_over(who, c, provider, how).await?;
        let builder =
            patchbay_providers::apply_connection_credential(builder, provider, &c.template_values(), &credential)
                .map_err(|e| ServiceError::Invalid(format!("refused to attach the credential: {e}")))?;
        drop(credential);
        let unavailable = |e: patchbay_providers::HttpError| ServiceError::ProviderUnavailable(e.to_string());
        let r = self.http.send(builder).await.map_err(unavailable)?;
        let status = r.status();
        let missing_scopes = crate::step_up::missing_from_challenge(status, r.headers(), provider, &c.granted_scopes);
        let headers = FORWARDED_RESPONSE_HEADERS
            .iter()
            .filter_map(|n| r.headers().get(*n).and_then(|v| v.to_str().ok()).map(|v| ((*n).to_owned(), v.to_owned())))
            .collect();
        let body = self.http.stream_body(r, self.config.proxy_max_body_bytes).map_err(unavailable)?;
        let body: BodyStream = Box::pin(body.map(|chunk| chunk.map_err(std::io::Error::other)));
        Ok(ProxyResponse { status, headers, body, missing_scopes })
    }
}
