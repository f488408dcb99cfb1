//! Discovery and registration against real loopback servers: Demo Cloud (RFC 8414, RFC 9728,
//! RFC 7591) and hand-written servers for the bad cases (issuer mismatch, no S256, malformed,
//! oversized, redirects), and the address guard (docs/security.md N-01).

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::{TestServer, client};
use patchbay_demo_provider::{DemoOptions, DemoProvider};
use patchbay_domain::provider::TokenEndpointAuth;
use patchbay_providers::discovery::{
    ClientRegistration, DiscoveredClient, DiscoveryError, discover, provider_from, register,
};
use patchbay_providers::{Catalog, HttpError};
use serde_json::{Value, json};

const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback";

fn registration() -> ClientRegistration {
    ClientRegistration { client_name: "Patchbay".into(), redirect_uri: REDIRECT_URI.into() }
}

/// Authorization server metadata for `base`, with `change` applied.
fn metadata(base: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut m = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["read", "write"],
    });
    change(&mut m);
    m
}

/// A server answering `body` at the RFC 8414 well-known path, its issuer being its own base.
async fn serving(body: impl Fn(&str) -> axum::response::Response + Clone + Send + Sync + 'static) -> TestServer {
    let listener_base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let base = listener_base.clone();
    let router = Router::new().route(
        "/.well-known/oauth-authorization-server",
        get(move || {
            let body = body.clone();
            let base = base.clone();
            async move { body(base.get().map(String::as_str).unwrap_or_default()) }
        }),
    );
    let server = TestServer::start(router).await;
    listener_base.set(server.base()).unwrap();
    server
}

async fn discover_json(change: impl Fn(&mut Value) + Clone + Send + Sync + 'static) -> Result<(), DiscoveryError> {
    let server = serving(move |base| axum::Json(metadata(base, change.clone())).into_response()).await;
    discover(&client(true), &server.base()).await.map(|_| ())
}

fn metadata_reason(result: Result<(), DiscoveryError>) -> String {
    match result {
        Err(DiscoveryError::Metadata { reason, .. }) => reason,
        other => panic!("expected a metadata error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_issuer_url_is_discovered_registered_and_becomes_a_valid_provider() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let http = client(true);
    // A trailing slash typed by the user is the same issuer.
    let found = discover(&http, &format!("{}/", demo.base_url())).await.unwrap();
    assert!(found.resource.is_none());
    assert_eq!(found.server.issuer, demo.issuer());
    assert_eq!(found.server.token_endpoint, demo.token_url());
    assert_eq!(found.server.revocation_endpoint.as_deref(), Some(demo.revocation_url().as_str()));
    assert_eq!(found.server.registration_endpoint.as_deref(), Some(demo.registration_url().as_str()));

    let registered = register(&http, &found.server, &registration()).await.unwrap();
    assert_eq!(registered.auth, TokenEndpointAuth::ClientSecretBasic, "basic is preferred when offered");
    let secret = {
        use secrecy::ExposeSecret;
        registered.client_secret.as_ref().unwrap().expose_secret().to_owned()
    };
    assert!(!format!("{registered:?}").contains(&secret));
    let at_demo = demo.registered_clients();
    assert_eq!(at_demo.len(), 1);
    assert_eq!(at_demo[0].client_id, registered.client_id);
    assert_eq!(at_demo[0].redirect_uris, [REDIRECT_URI]);
    assert_eq!(at_demo[0].grant_types, ["authorization_code", "refresh_token"]);

    let client = DiscoveredClient {
        client_id: registered.client_id.clone(),
        client_secret: registered.client_secret,
        auth: registered.auth,
    };
    let provider = provider_from("demo-found", "Demo found", &found, Some(client));
    assert_eq!(provider.issuer.as_deref(), Some(demo.issuer().as_str()));
    assert!(provider.scopes.contains_key("items:read"));
    // The definition passes the strict validator a provider file goes through.
    let yaml = yaml_serde::to_string(&provider).unwrap();
    let parsed = Catalog::parse("demo-found.yaml", &yaml, &|_| None).unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
    assert_eq!(parsed.token_url, provider.token_url);
}

#[tokio::test]
async fn a_protected_resource_leads_to_its_server_and_becomes_the_api_base_and_resource() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let found = discover(&client(true), &demo.resource_url()).await.unwrap();
    let resource = found.resource.clone().expect("a protected resource");
    assert_eq!(resource.resource, demo.resource_url());
    assert_eq!(found.server.issuer, demo.issuer());
    let provider = provider_from("items", "Items", &found, None);
    assert_eq!(provider.api_base_url.as_deref(), Some(demo.resource_url().as_str()));
    assert_eq!(provider.authorization_params.get("resource"), Some(&demo.resource_url()));
    assert!(provider.client_id.is_none());
}

#[tokio::test]
async fn a_401_challenge_names_the_resource_metadata() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let issuer = demo.issuer();
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let (b1, b2) = (base.clone(), base.clone());
    let router = Router::new()
        .route(
            "/mcp",
            get(move || {
                let b = b1.get().cloned().unwrap_or_default();
                async move {
                    let challenge = format!("Bearer resource_metadata=\"{b}/meta/mcp\"");
                    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)]).into_response()
                }
            }),
        )
        .route(
            "/meta/mcp",
            get(move || {
                let b = b2.get().cloned().unwrap_or_default();
                let issuer = issuer.clone();
                async move {
                    axum::Json(json!({"resource": format!("{b}/mcp"), "authorization_servers": [issuer],
                        "scopes_supported": ["items:read", "mcp:tools"]}))
                }
            }),
        );
    let server = TestServer::start(router).await;
    base.set(server.base()).unwrap();
    let found = discover(&client(true), &format!("{}/mcp", server.base())).await.unwrap();
    assert_eq!(found.resource.as_ref().unwrap().metadata_url, format!("{}/meta/mcp", server.base()));
    // The resource's own scopes come first.
    assert_eq!(found.scopes()[..2], ["items:read".to_owned(), "mcp:tools".to_owned()]);
    assert_eq!(found.server.issuer, demo.issuer());
}

#[tokio::test]
async fn resource_metadata_for_another_resource_is_refused() {
    let router = Router::new().route(
        "/.well-known/oauth-protected-resource/api",
        get(|| async {
            axum::Json(
                json!({"resource": "https://other.example/api", "authorization_servers": ["https://as.example"]}),
            )
        }),
    );
    let server = TestServer::start(router).await;
    let result = discover(&client(true), &format!("{}/api", server.base())).await.map(|_| ());
    assert!(metadata_reason(result).contains("RFC 9728"));
}

#[tokio::test]
async fn an_issuer_mismatch_is_refused() {
    let reason = metadata_reason(discover_json(|m| m["issuer"] = json!("https://evil.example")).await);
    assert!(reason.contains("RFC 8414 §3.3") && reason.contains("evil.example"), "{reason}");
}

#[tokio::test]
async fn servers_without_pkce_s256_or_the_code_flow_are_refused() {
    let reason = metadata_reason(
        discover_json(|m| drop(m.as_object_mut().unwrap().remove("code_challenge_methods_supported"))).await,
    );
    assert!(reason.contains("S256"), "{reason}");
    let reason = metadata_reason(discover_json(|m| m["code_challenge_methods_supported"] = json!(["plain"])).await);
    assert!(reason.contains("S256"), "{reason}");
    let reason = metadata_reason(discover_json(|m| m["response_types_supported"] = json!(["token"])).await);
    assert!(reason.contains("authorization code"), "{reason}");
}

#[tokio::test]
async fn malformed_metadata_is_refused_with_the_field() {
    let reason = metadata_reason(discover_json(|m| drop(m.as_object_mut().unwrap().remove("token_endpoint"))).await);
    assert!(reason.contains("`token_endpoint` is missing"), "{reason}");
    let reason = metadata_reason(discover_json(|m| m["scopes_supported"] = json!("read write")).await);
    assert!(reason.contains("`scopes_supported`"), "{reason}");
    let reason = metadata_reason(discover_json(|m| m["token_endpoint"] = json!("not a url")).await);
    assert!(reason.contains("`token_endpoint`"), "{reason}");
    let err = discover_json(|m| m["token_endpoint"] = json!("ftp://as.example/token")).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::Http { error: HttpError::Blocked { .. }, .. }), "{err:?}");
    let server = serving(|_| "this is not json".into_response()).await;
    let reason = metadata_reason(discover(&client(true), &server.base()).await.map(|_| ()));
    assert!(reason.contains("not valid JSON"), "{reason}");
}

#[tokio::test]
async fn oversized_metadata_is_refused() {
    let server =
        serving(|base| axum::Json(metadata(base, |m| m["padding"] = json!("x".repeat(100 * 1024)))).into_response())
            .await;
    let err = discover(&client(true), &server.base()).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::Http { error: HttpError::TooLarge { .. }, .. }), "{err:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server =
        serving(|_| axum::response::Redirect::temporary("https://elsewhere.example/meta").into_response()).await;
    let err = discover(&client(true), &server.base()).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::Http { error: HttpError::Redirect { .. }, .. }), "{err:?}");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed_and_nothing_is_sent() {
    let server = serving(|base| axum::Json(metadata(base, |_| {})).into_response()).await;
    let err = discover(&client(false), &server.base()).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::Http { error: HttpError::Blocked { .. }, .. }), "{err:?}");
    assert!(err.to_string().contains("PATCHBAY_ALLOW_PRIVATE_NETWORKS"), "{err}");
    assert_eq!(server.hits(), 0, "a refused discovery sends nothing");
    // By name too: `localhost` is checked at connect time, for the address actually used.
    let by_name = format!("http://localhost:{}", server.addr.port());
    assert!(matches!(discover(&client(false), &by_name).await, Err(DiscoveryError::Http { .. })));
    assert_eq!(server.hits(), 0);
    // A public-looking resource may not point discovery at a private issuer either.
    let router = Router::new().route(
        "/.well-known/oauth-protected-resource/api",
        get(|headers: axum::http::HeaderMap| async move {
            let host = headers[header::HOST].to_str().unwrap().to_owned();
            axum::Json(
                json!({"resource": format!("http://{host}/api"), "authorization_servers": ["https://169.254.169.254"]}),
            )
        }),
    );
    let server = TestServer::start(router).await;
    let err = discover(&client(true), &format!("{}/api", server.base())).await.unwrap_err();
    assert!(
        matches!(&err, DiscoveryError::Http { error: HttpError::Blocked { reason, .. }, .. } if reason.contains("metadata")),
        "{err:?}"
    );
    for bad in ["ftp://as.example", "https://as.example/?x=1", "not a url"] {
        assert!(matches!(discover(&client(true), bad).await, Err(DiscoveryError::BadUrl { .. })), "{bad}");
    }
}

#[tokio::test]
async fn no_metadata_anywhere_names_the_places_tried() {
    let server = TestServer::start(Router::new()).await;
    let err = discover(&client(true), &format!("{}/tenant", server.base())).await.unwrap_err();
    let DiscoveryError::NotFound { tried, .. } = &err else { panic!("{err:?}") };
    assert!(tried.contains("/.well-known/oauth-authorization-server/tenant"), "{tried}");
    assert!(tried.contains("/tenant/.well-known/openid-configuration"), "{tried}");
}

#[tokio::test]
async fn registration_failures_carry_the_servers_error() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let http = client(true);
    let found = discover(&http, &demo.base_url()).await.unwrap();
    demo.refuse_registrations(Some("registration is closed for today".into()));
    let err = register(&http, &found.server, &registration()).await.unwrap_err();
    let DiscoveryError::RegistrationRefused { error, description, .. } = &err else { panic!("{err:?}") };
    assert_eq!(error, "invalid_client_metadata");
    assert_eq!(description.as_deref(), Some("registration is closed for today"));
    assert!(err.to_string().contains("registration is closed"), "{err}");

    // Without a registration endpoint the user is told to bring a client.
    let mut no_endpoint = found.server.clone();
    no_endpoint.registration_endpoint = None;
    let err = register(&http, &no_endpoint, &registration()).await.unwrap_err();
    assert!(err.to_string().contains("client id and secret"), "{err}");
    // A server that answers 201 with no client is not a registration.
    let router = Router::new().route("/register", post(|| async { (StatusCode::CREATED, axum::Json(json!({}))) }));
    let server = TestServer::start(router).await;
    let mut broken = found.server.clone();
    broken.registration_endpoint = Some(format!("{}/register", server.base()));
    let err = register(&http, &broken, &registration()).await.unwrap_err();
    assert!(err.to_string().contains("`client_id` is missing"), "{err}");
}

fn discovering_file(id: &str, url: &str, extra: &str) -> String {
    format!("id: {id}\ndisplay_name: Found\nauth_mode: oauth2\ndiscovery_url: {url}\n{extra}")
}

#[tokio::test]
async fn discovery_url_in_a_provider_file_fills_its_endpoints_at_start() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let by_issuer = discovering_file("by-issuer", &demo.base_url(), "scopes:\n  items:read: Read items\n");
    let by_resource = discovering_file("by-resource", &demo.resource_url(), "");
    let mut catalog =
        Catalog::from_sources([("a.yaml", by_issuer.as_str()), ("b.yaml", by_resource.as_str())], &|_| None).unwrap();
    assert!(catalog.get("by-issuer").unwrap().token_url.is_none(), "nothing is fetched while parsing");
    assert_eq!(catalog.resolve_discovery(&client(true)).await.unwrap(), 2);
    let issuer = catalog.get("by-issuer").unwrap();
    assert_eq!(issuer.token_url.as_deref(), Some(demo.token_url().as_str()));
    assert_eq!(issuer.revocation_url.as_deref(), Some(demo.revocation_url().as_str()));
    assert_eq!(issuer.scopes.len(), 1, "the file's scopes win");
    let resource = catalog.get("by-resource").unwrap();
    assert_eq!(resource.api_base_url.as_deref(), Some(demo.resource_url().as_str()));
    assert_eq!(resource.authorization_params.get("resource"), Some(&demo.resource_url()));
    assert!(resource.scopes.contains_key("items:write"));
}

#[tokio::test]
async fn a_failed_discovery_url_fails_the_catalog_unless_the_file_has_its_endpoints() {
    let server = TestServer::start(Router::new()).await;
    let alone = discovering_file("alone", &server.base(), "");
    let mut catalog = Catalog::from_sources([("a.yaml", alone.as_str())], &|_| None).unwrap();
    let errors = catalog.resolve_discovery(&client(true)).await.unwrap_err().to_string();
    assert!(errors.contains("discovery_url") && errors.contains("no OAuth authorization server metadata"), "{errors}");
    // The guard applies: loopback is refused without PATCHBAY_ALLOW_PRIVATE_NETWORKS.
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let private = discovering_file("private", &demo.base_url(), "");
    let mut catalog = Catalog::from_sources([("p.yaml", private.as_str())], &|_| None).unwrap();
    let errors = catalog.resolve_discovery(&client(false)).await.unwrap_err().to_string();
    assert!(errors.contains("PATCHBAY_ALLOW_PRIVATE_NETWORKS"), "{errors}");
    let written = discovering_file(
        "written",
        &server.base(),
        "authorization_url: https://as.example/authorize\ntoken_url: https://as.example/token\n",
    );
    let mut catalog = Catalog::from_sources([("w.yaml", written.as_str())], &|_| None).unwrap();
    assert_eq!(catalog.resolve_discovery(&client(true)).await.unwrap(), 0);
    assert_eq!(catalog.get("written").unwrap().token_url.as_deref(), Some("https://as.example/token"));
}

#[test]
fn discovery_url_is_checked_like_every_url_and_only_for_oauth2() {
    let errors = |text: &str| {
        Catalog::parse("t.yaml", text, &|_| None)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert!(errors(&discovering_file("x", "http://as.example", "")).iter().any(|e| e.contains("discovery_url")));
    let cc = "id: x\ndisplay_name: X\nauth_mode: oauth2_client_credentials\ntoken_url: https://a.example/t\n\
              discovery_url: https://a.example\n";
    assert!(errors(cc).iter().any(|e| e.contains("discovery_url")), "{:?}", errors(cc));
    let no_endpoints = "id: x\ndisplay_name: X\nauth_mode: oauth2\n";
    assert!(errors(no_endpoints).iter().any(|e| e.contains("token_url")));
    assert!(errors(&discovering_file("x", "https://as.example", "")).is_empty());
}

/// From only the resource's URL: discover, register, consent, exchange, refresh and revoke with
/// the OAuth client, `resource` on the authorize and every token request (RFC 8707).
#[tokio::test]
async fn a_discovered_resource_works_end_to_end_with_the_oauth_client() {
    use patchbay_domain::scope::ScopeSet;
    use patchbay_providers::oauth::{self, AuthorizeParams, OAuthClient};
    let demo = DemoProvider::start(DemoOptions::default()).await;
    demo.set_auto_decision(Some(patchbay_demo_provider::Decision::Allow));
    let http = client(true);
    let found = discover(&http, &demo.resource_url()).await.unwrap();
    let registered = register(&http, &found.server, &registration()).await.unwrap();
    let oauth_client = OAuthClient {
        client_id: registered.client_id.clone(),
        client_secret: registered.client_secret.clone(),
        auth: registered.auth,
    };
    let provider = provider_from("items", "Items", &found, None);
    let settings = Default::default();
    let scopes = ScopeSet::parse("items:read", " ");
    let verifier = "v".repeat(50);
    let params = AuthorizeParams {
        client_id: &registered.client_id,
        redirect_uri: REDIRECT_URI,
        scopes: &scopes,
        state: "st",
        pkce_verifier: Some(&verifier),
        extra: &[],
    };
    let url = oauth::authorize_url(&provider, &settings, &params).unwrap();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = browser.get(url).send().await.unwrap();
    let location = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    let verifier = secrecy::SecretString::from(verifier);
    let tokens = oauth::exchange_code(&http, &provider, &settings, &oauth_client, &code, REDIRECT_URI, Some(&verifier))
        .await
        .unwrap();
    let refreshed = oauth::refresh(&http, &provider, &settings, &oauth_client, tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    let resource = demo.resource_url();
    let authorize_resource = demo.authorize_requests().last().and_then(|r| r.param("resource").map(str::to_owned));
    assert_eq!(authorize_resource.as_deref(), Some(resource.as_str()));
    let requests = demo.token_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.resource.as_deref() == Some(resource.as_str())), "{requests:?}");
    {
        use secrecy::ExposeSecret;
        assert!(demo.is_access_token_valid(refreshed.access_token.expose_secret()));
    }
    let outcome = oauth::revoke(
        &http,
        &provider,
        &settings,
        &oauth_client,
        refreshed.refresh_token.as_ref().unwrap(),
        "refresh_token",
    )
    .await;
    assert!(matches!(outcome, oauth::RevokeOutcome::Revoked), "{outcome:?}");
    assert_eq!(demo.revocations().len(), 1);
}
