//! [`RouterClient`]: the JSON client of [`PatchbayClient`](crate::PatchbayClient), but sending
//! each request straight into an axum [`Router`] with `tower::ServiceExt::oneshot`, in-process:
//! no port, no child process, and the test owns the service (its clock, its database).

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, header};
use serde::Serialize;
use serde_json::Value;
use tower::ServiceExt as _;

/// A bearer-token JSON client of an in-process router. Cheap to clone (the router is shared).
/// Every call returns `(status, body)` like [`PatchbayClient`](crate::PatchbayClient).
#[derive(Clone)]
pub struct RouterClient {
    router: Router,
    token: Option<String>,
}

impl std::fmt::Debug for RouterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterClient").field("authenticated", &self.token.is_some()).finish_non_exhaustive()
    }
}

impl RouterClient {
    /// A client of `router`, with an optional bearer token.
    pub fn new(router: Router, token: Option<&str>) -> RouterClient {
        RouterClient { router, token: token.map(str::to_owned) }
    }

    /// The same router with another bearer token.
    pub fn with_token(&self, token: &str) -> RouterClient {
        RouterClient { router: self.router.clone(), token: Some(token.to_owned()) }
    }

    /// A request for `path` (path and query) with the bearer token set, for anything the helpers
    /// do not cover; send it with [`RouterClient::call`].
    ///
    /// # Panics
    /// When `path` is not a valid request target.
    pub fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let builder = Request::builder().method(method).uri(path);
        match &self.token {
            Some(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
            None => builder,
        }
    }

    /// Sends one request through the router and returns the raw response.
    ///
    /// # Panics
    /// Never for a router: its error type is `Infallible`.
    pub async fn call(&self, request: Request<Body>) -> Response<Body> {
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// `method path` with an optional JSON body.
    ///
    /// # Panics
    /// When the body cannot be serialized or the response body not read.
    pub async fn send<B: Serialize + ?Sized>(&self, method: Method, path: &str, body: Option<&B>) -> (u16, Value) {
        let builder = self.request(method.clone(), path);
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(body).expect("a test body serializes"))),
            None => builder.body(Body::empty()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let (status, _, bytes) = read(self.call(request).await).await;
        (status, crate::process::parse_body(&bytes))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// `POST path` without a body.
    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::POST, path, None).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send::<Value>(Method::DELETE, path, None).await
    }
}

/// A response's status, headers and whole body.
///
/// # Panics
/// When the body cannot be read.
pub async fn read(response: Response<Body>) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("read the response body");
    (parts.status.as_u16(), parts.headers, bytes.to_vec())
}
