//! What an emulator received: every request, as it arrived (host, method, path, query, headers,
//! body), so the harness can assert on the exact shape Patchbay sent — the client
//! authentication, the body encoding, the revocation call.

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use serde_json::Value;

/// One request an emulator received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The `Host` header without a port (the emulated service's host name).
    pub host: String,
    /// The path, without the query.
    pub path: String,
    /// The query pairs, decoded.
    pub query: Vec<(String, String)>,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// A form field of the body.
    pub fn form_param(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The media type of the body (`Content-Type` without parameters), lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
    }

    /// The credentials of an `Authorization: Basic` header.
    pub fn basic(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, rest) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
        let dec =
            |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        Some((dec(id)?, dec(secret)?))
    }

    /// The token of an `Authorization: Bearer` header (scheme case-insensitive).
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, rest) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }

    /// `METHOD host/path`, for messages.
    pub fn line(&self) -> String {
        format!("{} {}{}", self.method, self.host, self.path)
    }
}

/// The requests of one emulator, in arrival order. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Ledger(Arc<Mutex<Vec<Recorded>>>);

impl Ledger {
    /// Everything received so far.
    pub fn all(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().clone()
    }

    /// The requests to `host` and `path`.
    pub fn to(&self, host: &str, path: &str) -> Vec<Recorded> {
        self.all().into_iter().filter(|r| r.host == host && r.path == path).collect()
    }

    /// Forgets everything received.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    fn push(&self, r: Recorded) {
        self.0.lock().unwrap().push(r);
    }
}

/// The largest body recorded; emulated endpoints take small bodies.
const MAX_BODY: usize = 1024 * 1024;

/// Middleware: records the request, then hands it on with its body intact.
pub(crate) async fn record(State(ledger): State<Ledger>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.host())
        .unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h).to_ascii_lowercase();
    let query = parts.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect());
    let recorded = Recorded {
        method: parts.method.to_string(),
        host,
        path: parts.uri.path().to_owned(),
        query: query.unwrap_or_default(),
        headers: parts.headers.clone(),
        body: bytes.to_vec(),
    };
    ledger.push(recorded.clone());
    let mut parts = parts;
    // The emulators' handlers read the request in this parsed form.
    parts.extensions.insert(recorded);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
