//! `POST /oauth/token` (RFC 6749 §4.1.3, §4.4, §6) and `POST /oauth/revoke` (RFC 7009), with
//! client authentication (§2.3.1) and the injected faults.
//!
//! Order of work for a token request: parse and record it, apply a queued [`Fault`], authenticate
//! the client, run the grant, record the outcome. A fault that does not process the request
//! leaves every code and token untouched.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use url::form_urlencoded;

use crate::crypto::secrets_equal;
use crate::knobs::Fault;
use crate::ledger::{ClientAuth, TokenOutcome, TokenRequestRecord};
use crate::listener::Conn;
use crate::options::TokenEndpointAuth;
use crate::registration::{check_resource, find_client};
use crate::state::{Issued, OAuthError, Shared, scope_text};

/// A decoded `application/x-www-form-urlencoded` body.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn repeated(&self) -> Option<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).find(|name| self.0.iter().filter(|(k, _)| k == name).count() > 1)
    }
}

/// The client credentials a request carried.
struct Credentials {
    method: Option<ClientAuth>,
    claimed_id: Option<String>,
    basic: Option<(String, String)>,
}

fn credentials(headers: &HeaderMap, form: &Form) -> Credentials {
    let mut malformed_basic = false;
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        })
        .and_then(|encoded| {
            let decoded = STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok());
            let parsed = decoded.as_deref().and_then(|d| d.split_once(':')).map(|(id, secret)| {
                // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
                (form_decode(id), form_decode(secret))
            });
            if parsed.is_none() {
                malformed_basic = true;
            }
            parsed
        });
    let post_secret = form.get("client_secret").is_some();
    let method = match (basic.is_some() || malformed_basic, post_secret) {
        (true, true) => Some(ClientAuth::Both),
        (true, false) => Some(ClientAuth::Basic),
        (false, true) => Some(ClientAuth::Post),
        (false, false) => None,
    };
    let claimed_id = basic.as_ref().map(|(id, _)| id.clone()).or_else(|| form.get("client_id").map(str::to_owned));
    Credentials { method, claimed_id, basic }
}

fn form_decode(text: &str) -> String {
    form_urlencoded::parse(format!("v={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Authenticates the client (the start-up one per [`DemoOptions::token_endpoint_auth`], or a
/// registered one per its method); returns its id.
///
/// [`DemoOptions::token_endpoint_auth`]: crate::DemoOptions::token_endpoint_auth
fn authenticate(shared: &Shared, creds: &Credentials, form: &Form) -> Result<String, OAuthError> {
    let invalid_client = |description: &str| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", description);
    let client = creds.claimed_id.as_deref().and_then(|id| find_client(shared, id));
    let allowed = client.as_ref().map_or(shared.options.token_endpoint_auth, |c| c.auth);
    let (id, secret) = match creds.method {
        None => return Err(invalid_client("client authentication is required")),
        Some(ClientAuth::Both) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not HTTP basic and the body at once",
            ));
        }
        Some(ClientAuth::Basic) => {
            if allowed == TokenEndpointAuth::Post {
                return Err(invalid_client("this client authenticates with client_secret_post"));
            }
            let Some((id, secret)) = &creds.basic else {
                return Err(invalid_client("malformed HTTP basic credentials"));
            };
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(invalid_client("client_id in the body differs from HTTP basic"));
            }
            (id.as_str(), secret.as_str())
        }
        Some(ClientAuth::Post) => {
            if allowed == TokenEndpointAuth::Basic {
                return Err(invalid_client("this client authenticates with client_secret_basic"));
            }
            let id = form.get("client_id").unwrap_or_default();
            (id, form.get("client_secret").unwrap_or_default())
        }
    };
    match client {
        Some(c) if creds.claimed_id.as_deref() == Some(id) && secrets_equal(secret, &c.secret) => Ok(id.to_owned()),
        _ => Err(invalid_client("client authentication failed")),
    }
}

fn oauth_error_response(e: &OAuthError, used_basic: bool) -> Response {
    let mut response = (e.status, Json(json!({"error": e.error, "error_description": e.description}))).into_response();
    let headers = response.headers_mut();
    no_store(headers);
    if e.status == StatusCode::UNAUTHORIZED && used_basic {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Demo Cloud\""));
    }
    response
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Validates the request shape, authenticates the client and runs the grant.
fn process(
    shared: &Shared,
    inner: &mut crate::state::Inner,
    headers: &HeaderMap,
    form: &Form,
    creds: &Credentials,
) -> Result<Issued, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    if let Some(name) = form.repeated() {
        return Err(OAuthError::invalid_request(format!("the parameter `{name}` appears more than once")));
    }
    let client_id = authenticate(shared, creds, form)?;
    if let Err(e) = check_resource(shared, form.get("resource")) {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_target", e));
    }
    match form.get("grant_type") {
        Some("authorization_code") => {
            inner.exchange_code(&client_id, form.get("code"), form.get("redirect_uri"), form.get("code_verifier"))
        }
        Some("refresh_token") => inner.refresh(&client_id, form.get("refresh_token"), form.get("scope")),
        Some("client_credentials") => inner.client_credentials(&client_id, form.get("scope")),
        Some(other) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        )),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    }
}

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let creds = credentials(&headers, &form);
    let mut record = TokenRequestRecord {
        grant_type: form.get("grant_type").unwrap_or_default().to_owned(),
        client_auth: creds.method,
        client_id: creds.claimed_id.clone(),
        refresh_token_presented: form.get("refresh_token").map(str::to_owned),
        code_presented: form.get("code").map(str::to_owned),
        code_verifier: form.get("code_verifier").map(str::to_owned),
        redirect_uri: form.get("redirect_uri").map(str::to_owned),
        scope: form.get("scope").map(str::to_owned),
        resource: form.get("resource").map(str::to_owned),
        fault: None,
        outcome: TokenOutcome::NotProcessed,
    };
    let fault = shared.lock().token_faults.pop_front();
    record.fault = fault.clone();
    if let Some(fault) = fault.as_ref().filter(|f| !f.processes_request()) {
        tracing::debug!(?fault, "demo provider: token request answered by an injected fault");
        shared.lock().ledger.token_requests.push(record);
        return fault_response(fault, &conn);
    }
    if let Some(Fault::Delay(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let response = {
        let mut inner = shared.lock();
        let result = process(&shared, &mut inner, &headers, &form, &creds);
        record.outcome = match &result {
            Ok(issued) => TokenOutcome::Issued {
                access_token: issued.access_token.clone(),
                refresh_token: issued.refresh_token.clone(),
                scope: scope_text(issued),
            },
            Err(e) => TokenOutcome::Rejected { status: e.status.as_u16(), error: e.error.to_owned() },
        };
        inner.ledger.token_requests.push(record);
        match result {
            Ok(issued) => token_response(&issued),
            Err(e) => {
                tracing::debug!(error = e.error, description = %e.description, "demo provider: token request rejected");
                oauth_error_response(&e, creds.method == Some(ClientAuth::Basic))
            }
        }
    };
    match fault {
        Some(Fault::ResetAfterProcessing) => {
            conn.reset();
            response
        }
        Some(Fault::DelayAfterProcessing(delay)) => {
            tokio::time::sleep(delay).await;
            response
        }
        _ => response,
    }
}

fn token_response(issued: &Issued) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": scope_text(issued),
    });
    if let Some(rt) = &issued.refresh_token {
        body["refresh_token"] = json!(rt);
    }
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    response
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) fn fault_response(fault: &Fault, conn: &Conn) -> Response {
    match fault {
        Fault::Status(code) => {
            let code = status(*code);
            let text = format!("{} {} (injected by Demo Cloud)", code.as_u16(), code.canonical_reason().unwrap_or(""));
            (code, text).into_response()
        }
        Fault::OAuthError { status: code, error, description } => {
            let mut body = json!({"error": error});
            if let Some(d) = description {
                body["error_description"] = json!(d);
            }
            let mut response = (status(*code), Json(body)).into_response();
            no_store(response.headers_mut());
            response
        }
        Fault::RetryAfter { secs } => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({
                    "error": "rate_limited",
                    "error_description": format!("Too many requests; retry after {secs} seconds"),
                })),
            )
                .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            response
        }
        Fault::Body { status: code, body } => {
            (status(*code), [(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
        }
        Fault::Reset | Fault::ResetAfterProcessing => {
            conn.reset();
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        // Processing faults never reach here.
        Fault::Delay(_) | Fault::DelayAfterProcessing(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `POST /oauth/revoke` (RFC 7009): 200 for any token, known or not, once the client is
/// authenticated.
pub(crate) async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let creds = credentials(&headers, &form);
    let token = form.get("token").map(str::to_owned);
    let hint = form.get("token_type_hint").map(str::to_owned);
    let mut inner = shared.lock();
    inner.ledger.revocations.push((token.clone().unwrap_or_default(), hint));
    if let Some(code) = inner.revoke_faults.pop_front() {
        drop(inner);
        let code = status(code);
        let error = if code.is_server_error() { "server_error" } else { "invalid_request" };
        let mut response =
            (code, Json(json!({"error": error, "error_description": "injected by Demo Cloud"}))).into_response();
        if matches!(code.as_u16(), 429 | 503) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        return response;
    }
    let client_id = match (is_form(&headers), form.repeated()) {
        (false, _) => Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")),
        (true, Some(name)) => {
            Err(OAuthError::invalid_request(format!("the parameter `{name}` appears more than once")))
        }
        (true, None) => authenticate(&shared, &creds, &form),
    };
    let client_id = match client_id {
        Ok(id) => id,
        Err(e) => return oauth_error_response(&e, creds.method == Some(ClientAuth::Basic)),
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return oauth_error_response(&OAuthError::invalid_request("token is required"), false);
    };
    inner.revoke_token(&client_id, &token);
    drop(inner);
    let mut response = StatusCode::OK.into_response();
    no_store(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds_for(auth: Option<&str>, body: &str) -> (Credentials, Form) {
        let mut headers = HeaderMap::new();
        if let Some(a) = auth {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        let form = Form::parse(body.as_bytes());
        (credentials(&headers, &form), form)
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = STANDARD.encode("my+client:s%3Acret");
        let (creds, _) = creds_for(Some(&format!("Basic {encoded}")), "");
        assert_eq!(creds.method, Some(ClientAuth::Basic));
        assert_eq!(creds.basic, Some(("my client".to_owned(), "s:cret".to_owned())));
    }

    #[test]
    fn malformed_basic_is_basic_and_fails() {
        let (creds, form) = creds_for(Some("Basic !!!"), "");
        assert_eq!(creds.method, Some(ClientAuth::Basic));
        assert!(creds.basic.is_none());
        let shared = Shared::new(crate::DemoOptions::default(), "http://127.0.0.1:1".into());
        let e = authenticate(&shared, &creds, &form).unwrap_err();
        assert_eq!(e.error, "invalid_client");
    }

    #[test]
    fn methods_are_enforced() {
        use crate::DemoOptions;
        let options = DemoOptions { token_endpoint_auth: TokenEndpointAuth::Basic, ..DemoOptions::default() };
        let body = format!("client_id={}&client_secret={}", options.client_id, options.client_secret);
        let (creds, form) = creds_for(None, &body);
        assert_eq!(creds.method, Some(ClientAuth::Post));
        let basic_only = Shared::new(options.clone(), "http://127.0.0.1:1".into());
        assert_eq!(authenticate(&basic_only, &creds, &form).unwrap_err().error, "invalid_client");
        let either = DemoOptions { token_endpoint_auth: TokenEndpointAuth::Either, ..options };
        let id = either.client_id.clone();
        let either = Shared::new(either, "http://127.0.0.1:1".into());
        assert_eq!(authenticate(&either, &creds, &form).unwrap(), id);
    }
}
