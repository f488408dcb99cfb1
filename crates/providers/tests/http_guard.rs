//! The guarded client against a real loopback server (docs/security.md N-01, N-04).

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use common::{TestServer, client, options};
use patchbay_providers::{GuardedClient, HttpError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

fn hello_router() -> Router {
    Router::new().route("/hello", get(|| async { "hello" }))
}

async fn get_url(client: &GuardedClient, url: &str) -> Result<patchbay_providers::FetchedResponse, HttpError> {
    let url = url::Url::parse(url).expect("test URL parses");
    let request = client.request(http::Method::GET, url)?;
    client.fetch(request).await
}

#[tokio::test]
async fn loopback_is_refused_unless_private_networks_are_allowed() {
    let server = TestServer::start(hello_router()).await;
    let url = server.url("/hello");

    let err = get_url(&client(false), url.as_str()).await.unwrap_err();
    match &err {
        HttpError::Blocked { host, reason } => {
            assert_eq!(host, "127.0.0.1");
            assert!(reason.contains("PATCHBAY_ALLOW_PRIVATE_NETWORKS=true"), "{reason}");
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    // The name `localhost` goes through the resolver, whose answer is checked at connect time.
    let by_name = format!("http://localhost:{}/hello", server.addr.port());
    assert!(matches!(get_url(&client(false), &by_name).await, Err(HttpError::Blocked { .. })));
    assert_eq!(server.hits(), 0, "a refused call must not reach the server");

    let ok = get_url(&client(true), url.as_str()).await.unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(&ok.body[..], b"hello");
    let ok = get_url(&client(true), &by_name).await.unwrap();
    assert_eq!(&ok.body[..], b"hello");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let router = Router::new()
        .route(
            "/start",
            get(|| async {
                (StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data?api_key=CANARY")])
            }),
        )
        .route("/moved", get(|| async { (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, "/hello")]) }))
        .route("/hello", get(|| async { "hello" }));
    let server = TestServer::start(router).await;
    let err = get_url(&client(true), server.url("/start").as_str()).await.unwrap_err();
    assert_eq!(err, HttpError::Redirect { status: 302, location: "http://169.254.169.254/latest/meta-data?…".into() });
    assert!(err.to_string().contains("does not follow redirects"), "{err}");
    assert!(!err.to_string().contains("CANARY"));
    let err = get_url(&client(true), server.url("/moved").as_str()).await.unwrap_err();
    assert!(matches!(err, HttpError::Redirect { status: 308, .. }), "{err:?}");
    assert_eq!(server.hits(), 2, "the redirect target was never requested");
}

#[tokio::test]
async fn oversized_and_endless_bodies_are_errors_not_truncations() {
    let router = Router::new()
        .route("/big", get(|| async { vec![b'a'; 200 * 1024] }))
        .route(
            "/endless",
            get(|| async {
                let chunk = Bytes::from(vec![b'a'; 8 * 1024]);
                Body::from_stream(futures::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone())))
            }),
        )
        .route("/fits", get(|| async { vec![b'a'; 64 * 1024] }));
    let server = TestServer::start(router).await;
    let c = client(true);
    for path in ["/big", "/endless"] {
        let err = get_url(&c, server.url(path).as_str()).await.unwrap_err();
        assert!(matches!(err, HttpError::TooLarge { limit: 65536, .. }), "{path}: {err:?}");
    }
    assert_eq!(get_url(&c, server.url("/fits").as_str()).await.unwrap().body.len(), 64 * 1024);
}

#[tokio::test]
async fn slow_servers_time_out() {
    let router = Router::new()
        .route(
            "/slow-head",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let drip = futures::stream::unfold(0u32, |n| async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Some((Ok::<_, Infallible>(Bytes::from_static(b"x")), n + 1))
                });
                Body::from_stream(drip).into_response()
            }),
        );
    let server = TestServer::start(router).await;
    let mut opts = options(true);
    opts.request_timeout = Duration::from_millis(700);
    let c = GuardedClient::new(opts).unwrap();
    for path in ["/slow-head", "/slow-body"] {
        let started = std::time::Instant::now();
        let err = get_url(&c, server.url(path).as_str()).await.unwrap_err();
        assert!(matches!(err, HttpError::Timeout { .. }), "{path}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{path} took {:?}", started.elapsed());
    }
}

/// docs/security.md N-01 (the address table under "Outbound HTTP"): address literals in every
/// spelling, all refused before any packet.
#[tokio::test]
async fn blocked_address_literals() {
    let payloads = [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]/",
        "https://0.0.0.0/",
        "https://[::]/",
        "https://10.0.0.1/",
        "https://172.16.0.1/",
        "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://169.254.170.2/",
        "https://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "https://100.64.0.1/",
        "https://100.100.100.200/",
        "https://198.18.0.1/",
        "https://[fc00::1]/",
        "https://[fd12:3456::1]/",
        "https://[fd00::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a9fe:a9fe::]/",
        "https://224.0.0.1/",
        "https://255.255.255.255/",
        "https://192.0.2.1/",
        "https://[2001:db8::1]/",
        "https://good.example@127.0.0.1/",
        "https://127.0.0.1#@good.example/",
        "https://user:pass@api.example.com/",
        "http://example.com/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "data:text/plain,hello",
    ];
    let c = client(false);
    for p in payloads {
        match get_url(&c, p).await {
            Err(HttpError::Blocked { .. }) => {}
            other => panic!("{p}: expected Blocked, got {other:?}"),
        }
    }
    // Even with private networks allowed, metadata and unroutable addresses stay closed.
    let open = client(true);
    for p in [
        "https://169.254.169.254/",
        "https://[fd00:ec2::254]/",
        "https://0.0.0.0/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://224.0.0.1/",
    ] {
        assert!(matches!(get_url(&open, p).await, Err(HttpError::Blocked { .. })), "{p}");
    }
}

/// A resolver that answers with fixed addresses, like a DNS rebinding attacker would.
struct FixedResolver(Vec<SocketAddr>);

impl Resolve for FixedResolver {
    fn resolve(&self, _name: Name) -> Resolving {
        let addrs = self.0.clone();
        Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
    }
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused_at_connect_time() {
    for answer in
        [vec!["127.0.0.1:0"], vec!["10.0.0.7:0", "[::1]:0"], vec!["169.254.169.254:0"], vec!["[::ffff:127.0.0.1]:0"]]
    {
        let addrs = answer.iter().map(|a| a.parse().unwrap()).collect();
        let c = GuardedClient::with_resolver(options(false), Arc::new(FixedResolver(addrs))).unwrap();
        let err = get_url(&c, "https://api.innocent.example/v1/me").await.unwrap_err();
        match err {
            HttpError::Blocked { host, reason } => {
                assert_eq!(host, "api.innocent.example");
                assert!(reason.contains("is a") || reason.contains("never"), "{reason}");
            }
            other => panic!("{answer:?}: expected Blocked, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn errors_never_echo_the_query_string() {
    // A port that nothing listens on: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = get_url(&client(true), &format!("http://127.0.0.1:{port}/v1?api_key=CANARY-SECRET")).await.unwrap_err();
    assert!(matches!(err, HttpError::Connect { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("CANARY"), "{text}");
}

#[tokio::test]
async fn user_agent_names_patchbay() {
    let router = Router::new().route(
        "/ua",
        get(|headers: axum::http::HeaderMap| async move {
            headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
        }),
    );
    let server = TestServer::start(router).await;
    let r = get_url(&client(true), server.url("/ua").as_str()).await.unwrap();
    assert!(std::str::from_utf8(&r.body).unwrap().starts_with("patchbay/"));
}
