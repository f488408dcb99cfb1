//! The credential-injecting proxy: `ANY /v1/connections/{id}/proxy/{path}` forwards to the
//! provider's `api_base_url` + path with the stored credential attached, so the runtime never
//! handles the secret at all.
//!
//! The URL is always built from the provider's own base URL (docs/security.md N-03: the credential
//! only goes to the provider's declared host), through the guarded client (no redirects, size cap,
//! address guard). An OAuth token is refreshed first when due, and once more on a 401.

use bytes::Bytes;
use patchbay_domain::principal::Principal;
use patchbay_domain::provider::AuthMode;

use crate::audit::action;
use crate::lifecycle::TokenRequest;
use crate::{Patchbay, ServiceError, ServiceResult};

/// Request headers passed through to the provider (everything else is dropped: the caller's
/// own Authorization, cookies and hop-by-hop headers must not travel).
const FORWARDED_REQUEST_HEADERS: &[&str] = &["accept", "content-type", "if-match", "if-none-match", "idempotency-key"];
/// Response headers passed back.
const FORWARDED_RESPONSE_HEADERS: &[&str] = &["content-type", "etag", "retry-after", "location", "link"];

/// A call to forward.
#[derive(Debug)]
pub struct ProxyRequest {
    /// HTTP method.
    pub method: http::Method,
    /// Path below the provider's API base (no leading slash needed).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Request headers (only an allow-list is forwarded).
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Module about to run, checked like on the token endpoint.
    pub module: Option<String>,
}

/// The provider's answer.
#[derive(Debug)]
pub struct ProxyResponse {
    /// Status.
    pub status: http::StatusCode,
    /// Allow-listed headers.
    pub headers: Vec<(String, String)>,
    /// Body (size-capped by the guarded client).
    pub body: Bytes,
}

impl Patchbay {
    /// Forwards a call with the connection's credential injected.
    pub async fn proxy(&self, who: &Principal, id: &str, req: ProxyRequest) -> ServiceResult<ProxyResponse> {
        if req.path.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(ServiceError::Invalid("the proxied path may not contain `.` or `..` segments".into()));
        }
        // The token endpoint's checks: module scopes, status, refresh when due.
        let check = TokenRequest { module: req.module.clone(), scenario: None, step: None };
        let (c, provider, _) = self.prepare_use(who, id, &check).await?;
        let mut response = self.forward(who, &c, &provider, &req).await?;
        if response.status == http::StatusCode::UNAUTHORIZED && provider.auth_mode == AuthMode::Oauth2 {
            // The token may have been revoked or rotated out early: refresh once and retry.
            if let Ok(fresh) = self.refresh_connection(&c.team_id, &c.id, true).await {
                response = self.forward(who, &fresh, &provider, &req).await?;
            }
        }
        let detail = format!("{} /{} -> {}", req.method, req.path.trim_start_matches('/'), response.status.as_u16());
        self.audit(who, action::PROXY, Some(&c.id), "ok", Some(&detail)).await?;
        Ok(response)
    }

    async fn forward(
        &self,
        who: &Principal,
        c: &patchbay_domain::connection::Connection,
        provider: &patchbay_domain::provider::Provider,
        req: &ProxyRequest,
    ) -> ServiceResult<ProxyResponse> {
        let mut url =
            patchbay_providers::api_url(provider, &c.settings, &format!("/{}", req.path.trim_start_matches('/')))
                .map_err(|e| ServiceError::Invalid(format!("cannot build the provider URL: {e}")))?;
        url.set_query(req.query.as_deref().filter(|q| !q.is_empty()));
        let credential = self.read_credential(who, c, provider, "proxy").await?;
        let mut builder =
            self.http.request(req.method.clone(), url).map_err(|e| ServiceError::ProviderUnavailable(e.to_string()))?;
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(v) = req.headers.get(*name) {
                builder = builder.header(*name, v.clone());
            }
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body.clone());
        }
        let builder = patchbay_providers::apply_credential(builder, provider, &credential)
            .map_err(|e| ServiceError::Invalid(format!("refused to attach the credential: {e}")))?;
        drop(credential);
        let r = self.http.fetch(builder).await.map_err(|e| ServiceError::ProviderUnavailable(e.to_string()))?;
        let headers = FORWARDED_RESPONSE_HEADERS
            .iter()
            .filter_map(|n| r.headers.get(*n).and_then(|v| v.to_str().ok()).map(|v| ((*n).to_owned(), v.to_owned())))
            .collect();
        Ok(ProxyResponse { status: r.status, headers, body: r.body })
    }
}
