//! The request side of the provider format against a real loopback server: a verify body sent
//! byte for byte (Dropbox's `null`, a GraphQL query), a success predicate inside a 2xx reply
//! (Slack's `{"ok": false}`), a verify host other than the API base, an OAuth token in another
//! header (Shopify, Zoho), headers filled from the connection (Twitch's Client-Id, an OpenAI
//! organization), several API hosts under N-03, and closed-choice regions and instance URLs.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::{TestServer, client};
use patchbay_domain::credential::Credential;
use patchbay_domain::provider::Provider;
use patchbay_providers::{
    Catalog, HttpError, VerifyOutcome, api_url_on, apply_connection_credential, verify_credential,
};
use secrecy::SecretString;
use serde_json::json;

const TOKEN: &str = "at-CANARY-5678";

/// What the server saw: (path, headers, body).
type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

async fn server() -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let rec = |seen: &Seen, path: &'static str| {
        let seen = seen.clone();
        move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((path.to_owned(), headers.clone(), body.clone()));
                reply(path, &headers, &body)
            }
        }
    };
    let router = Router::new()
        .route("/2/users/get_current_account", post(rec(&seen, "/2/users/get_current_account")))
        .route("/graphql", post(rec(&seen, "/graphql")))
        .route("/api/auth.test", post(rec(&seen, "/api/auth.test")))
        .route("/v1/userinfo", get(rec(&seen, "/v1/userinfo")))
        .route("/me", get(rec(&seen, "/me")));
    (TestServer::start(router).await, seen)
}

fn bearer(headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn reply(path: &str, headers: &HeaderMap, body: &[u8]) -> axum::response::Response {
    let json_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) == Some("application/json");
    match path {
        // Dropbox refuses anything but the JSON body `null` on an argument-less RPC.
        "/2/users/get_current_account" if body == b"null" && json_type && bearer(headers) => {
            axum::Json(json!({"account_id": "dbid:AAA", "email": "ada@example.com", "name": {"display_name": "Ada"}}))
                .into_response()
        }
        "/2/users/get_current_account" => (StatusCode::BAD_REQUEST, "Error in call to API function").into_response(),
        "/graphql" => {
            let q: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            if q["query"] == "{ viewer { id name email } }" && bearer(headers) {
                axum::Json(json!({"data": {"viewer": {"id": "u-1", "name": "Ada", "email": "ada@example.com"}}}))
                    .into_response()
            } else {
                axum::Json(json!({"errors": [{"message": "Authentication required"}]})).into_response()
            }
        }
        // Slack: HTTP 200 either way, `ok` says whether the token works.
        "/api/auth.test" if bearer(headers) => {
            axum::Json(json!({"ok": true, "team_id": "T1", "user_id": "U1", "team": "Acme"})).into_response()
        }
        "/api/auth.test" => axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response(),
        "/v1/userinfo" if bearer(headers) => {
            axum::Json(json!({"sub": "1090", "email": "ada@example.com"})).into_response()
        }
        "/me" => axum::Json(json!({"id": 7})).into_response(),
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn provider(yaml: &str) -> Provider {
    Catalog::parse("t.yaml", yaml, &|_| None).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn oauth(token: &str) -> Credential {
    Credential::OAuth2 { access_token: SecretString::from(token.to_owned()), refresh_token: None }
}

fn oauth_file(base: &str, rest: &str) -> String {
    format!(
        "id: t\ndisplay_name: T\nauth_mode: oauth2\nauthorization_url: {base}/authorize\ntoken_url: {base}/token\n\
         api_base_url: {base}\n{rest}"
    )
}

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[tokio::test]
async fn dropbox_style_verify_sends_the_literal_json_null() {
    let (s, seen) = server().await;
    let p = provider(&oauth_file(
        &s.base(),
        "verify: {method: POST, path: /2/users/get_current_account, body: \"null\", account: [/email], account_id: /account_id}\n",
    ));
    let got = verify_credential(&client(true), &p, &BTreeMap::new(), &oauth(TOKEN)).await;
    assert_eq!(got, VerifyOutcome::Ok { account: Some("ada@example.com".into()), account_id: Some("dbid:AAA".into()) });
    let seen = seen.lock().unwrap();
    assert_eq!(&seen[0].2[..], b"null");
    assert_eq!(seen[0].1[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn graphql_identity_call_with_a_success_predicate() {
    let (s, _) = server().await;
    let p = provider(&oauth_file(
        &s.base(),
        "verify:\n  method: POST\n  path: /graphql\n  body: '{\"query\": \"{ viewer { id name email } }\"}'\n  \
         success: {pointer: /data/viewer/id, equals: u-1}\n  account: /data/viewer/email\n  account_id: /data/viewer/id\n",
    ));
    let c = client(true);
    assert!(verify_credential(&c, &p, &BTreeMap::new(), &oauth(TOKEN)).await.is_ok());
    // GraphQL says "no" with HTTP 200 and an `errors` list: the predicate makes that a refusal.
    match verify_credential(&c, &p, &BTreeMap::new(), &oauth("dead")).await {
        VerifyOutcome::Rejected { message, .. } => assert!(message.contains("Authentication required"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn slack_ok_false_in_a_200_is_a_rejection() {
    let (s, _) = server().await;
    let p = provider(&oauth_file(
        &s.base(),
        "verify: {method: POST, path: /api/auth.test, success: {pointer: /ok, equals: true, error: /error}, \
         account: /team, account_id: /team_id}\n",
    ));
    let c = client(true);
    assert_eq!(
        verify_credential(&c, &p, &BTreeMap::new(), &oauth(TOKEN)).await,
        VerifyOutcome::Ok { account: Some("Acme".into()), account_id: Some("T1".into()) }
    );
    match verify_credential(&c, &p, &BTreeMap::new(), &oauth("xoxp-dead-CANARY")).await {
        VerifyOutcome::Rejected { status: 200, message } => {
            assert!(message.contains("invalid_auth"), "{message}");
            assert!(!message.contains("CANARY"), "{message}");
        }
        other => panic!("a 200 with ok:false must not count as success: {other:?}"),
    }
}

/// The verify call goes to a declared API host (Google's userinfo host) while the API base is
/// another; `localhost` and `127.0.0.1` are two hosts of the same loopback server.
#[tokio::test]
async fn verify_on_another_declared_host() {
    let (s, seen) = server().await;
    let other = format!("http://localhost:{}", s.addr.port());
    let p = provider(&oauth_file(
        &s.base(),
        &format!(
            "api_hosts: {{userinfo: {other}}}\nverify: {{host: userinfo, path: /v1/userinfo, account: /email, account_id: /sub}}\n"
        ),
    ));
    assert_eq!(
        verify_credential(&client(true), &p, &BTreeMap::new(), &oauth(TOKEN)).await,
        VerifyOutcome::Ok { account: Some("ada@example.com".into()), account_id: Some("1090".into()) }
    );
    assert_eq!(seen.lock().unwrap()[0].1[header::HOST], format!("localhost:{}", s.addr.port()));
}

#[tokio::test]
async fn oauth_token_placement_and_templated_headers_reach_the_server() {
    let (s, seen) = server().await;
    let p = provider(&oauth_file(
        &s.base(),
        "client_id: twitch-app-id\nclient_secret: s\noauth_token: {header: Authorization, prefix: \"Zoho-oauthtoken \"}\n\
         headers:\n  Client-Id: \"{client_id}\"\n  OpenAI-Organization: \"{organization}\"\n  X-Version: \"2\"\n\
         settings:\n  - {key: organization, label: Organization}\n\
         verify: {path: /me, account_id: /id}\n",
    ));
    let c = client(true);
    assert!(verify_credential(&c, &p, &settings(&[("organization", "org-42")]), &oauth(TOKEN)).await.is_ok());
    // Without the optional setting its header is left out, the others still go.
    assert!(verify_credential(&c, &p, &BTreeMap::new(), &oauth(TOKEN)).await.is_ok());
    let seen = seen.lock().unwrap();
    let (first, second) = (&seen[0].1, &seen[1].1);
    assert_eq!(first[header::AUTHORIZATION], format!("Zoho-oauthtoken {TOKEN}"));
    assert_eq!(first["client-id"], "twitch-app-id");
    assert_eq!(first["openai-organization"], "org-42");
    assert_eq!(first["x-version"], "2");
    assert!(second.get("openai-organization").is_none());
    assert_eq!(second["client-id"], "twitch-app-id");

    let shopify = provider(&oauth_file(&s.base(), "oauth_token: {header: X-Shopify-Access-Token}\n"));
    let built = apply_connection_credential(
        reqwest::Client::new().get(s.url("/me")),
        &shopify,
        &BTreeMap::new(),
        &oauth(TOKEN),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(built.headers()["x-shopify-access-token"], TOKEN);
    assert!(built.headers().get(header::AUTHORIZATION).is_none());
}

/// N-03 with several hosts: the credential goes to `api_base_url` and each `api_hosts` entry,
/// rendered with the connection's own settings, and nowhere else.
#[tokio::test]
async fn credentials_go_only_to_declared_hosts() {
    let p = provider(
        "id: t\ndisplay_name: T\nauth_mode: api_key\napi_key: {in: header, name: X-Key}\n\
         api_base_url: https://{region}.api.acme.example/v1\napi_hosts: {content: https://content.acme.example}\n\
         settings:\n  - {key: region, label: Region, required: true}\n",
    );
    let key = Credential::ApiKey { key: SecretString::from("k".to_owned()) };
    let s = settings(&[("region", "eu")]);
    let attach = |url: &str| {
        apply_connection_credential(reqwest::Client::new().get(url), &p, &s, &key).map(|r| r.build().unwrap())
    };
    assert!(attach("https://eu.api.acme.example/v1/things").is_ok());
    assert!(attach("https://content.acme.example/2/files/upload").is_ok());
    for bad in [
        "https://us.api.acme.example/v1/x",
        "https://evil.example/",
        "http://content.acme.example/",
        "https://content.acme.example:444/",
    ] {
        assert!(matches!(attach(bad), Err(HttpError::Blocked { .. })), "{bad}");
    }
    assert_eq!(
        api_url_on(&p, Some("content"), &s, "/2/files/upload").unwrap().as_str(),
        "https://content.acme.example/2/files/upload"
    );
    let err = api_url_on(&p, Some("uploads"), &s, "/x").unwrap_err().to_string();
    assert!(err.contains("`content`"), "{err}");
}

/// G5: a closed-choice region may stand for several host labels (Zoho's `com.au`), and only its
/// listed values render; an instance URL gives the whole origin and is still https-only.
#[tokio::test]
async fn regions_and_instances_render_only_vetted_hosts() {
    let zoho = provider(
        "id: zoho\ndisplay_name: Zoho\nauth_mode: oauth2\nauthorization_url: https://accounts.zoho.{dc}/oauth/v2/auth\n\
         token_url: https://accounts.zoho.{dc}/oauth/v2/token\napi_base_url: https://www.zohoapis.{dc}\n\
         oauth_token: {header: Authorization, prefix: \"Zoho-oauthtoken \"}\n\
         settings:\n  - {key: dc, label: Data center, default: com, choices: [com, eu, in, com.au, jp]}\n",
    );
    let url = |dc: &str| api_url_on(&zoho, None, &settings(&[("dc", dc)]), "/crm/v2/users");
    assert_eq!(url("com.au").unwrap().as_str(), "https://www.zohoapis.com.au/crm/v2/users");
    for bad in ["evil.example", "com.evil", "example", "com/", ""] {
        assert!(url(bad).is_err(), "{bad}");
    }
    let key = oauth(TOKEN);
    let au = settings(&[("dc", "com.au")]);
    let ok = apply_connection_credential(reqwest::Client::new().get("https://www.zohoapis.com.au/x"), &zoho, &au, &key);
    assert!(ok.is_ok());
    let other = apply_connection_credential(reqwest::Client::new().get("https://www.zohoapis.eu/x"), &zoho, &au, &key);
    assert!(other.is_err(), "another region's host is not this connection's");

    let (s, seen) = server().await;
    let gitlab = provider(
        "id: gitlab\ndisplay_name: GitLab\nauth_mode: oauth2\nauthorization_url: \"{instance}/oauth/authorize\"\n\
         token_url: \"{instance}/oauth/token\"\napi_base_url: \"{instance}\"\nverify: {path: /me, account_id: /id}\n\
         settings:\n  - {key: instance, label: GitLab address, required: true, kind: instance_url}\n  \
         - {key: client_id, label: Client ID, required: true}\n  - {key: client_secret, label: Secret, secret: true}\n",
    );
    let here = settings(&[("instance", &s.base())]);
    // The loopback instance is refused by the address guard unless private networks are allowed.
    assert!(matches!(verify_credential(&client(false), &gitlab, &here, &key).await, VerifyOutcome::Failed { .. }));
    assert!(verify_credential(&client(true), &gitlab, &here, &key).await.is_ok());
    assert_eq!(seen.lock().unwrap().len(), 1);
    for bad in ["http://gitlab.example.com", "https://gitlab.example.com/api", "https://u@gitlab.example.com"] {
        assert!(api_url_on(&gitlab, None, &settings(&[("instance", bad)]), "/me").is_err(), "{bad}");
    }
    assert_eq!(
        api_url_on(&gitlab, None, &settings(&[("instance", "https://gitlab.example.com")]), "/api/v4/user")
            .unwrap()
            .as_str(),
        "https://gitlab.example.com/api/v4/user"
    );
}
