//! Every built-in API-key and basic provider's verify call, run against a loopback stand-in.
//!
//! For each provider the test loads the built-in file, points its `api_base_url` at a loopback
//! server (keeping the base path: `https://{subdomain}.zendesk.com/api/v2` becomes
//! `http://127.0.0.1:PORT/api/v2`), and runs `verify_credential` with a canary credential. It then
//! checks, against the table below (written from each service's documentation, not from the file):
//!
//! - the request line (method, path and query) and the static headers the service requires;
//! - where the credential went: header name and prefix, or HTTP basic with the right username;
//! - the account label and stable id read from a realistic sample reply;
//! - that a 401 reply is a rejected credential, with the canary masked out of the message.
//!
//! Retargeting needs no seam in the crate: `Provider::api_base_url` is a public field, and the
//! credential guard (N-03) accepts exactly the host of whatever `api_base_url` the provider holds,
//! so the loopback copy sends the credential to the stand-in only. A table row is required for every
//! built-in `api_key`/`basic` provider, so a new file cannot skip this test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use common::{TestServer, client};
use patchbay_domain::credential::Credential;
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_providers::{Catalog, VerifyOutcome, verify_credential};
use secrecy::SecretString;

const KEY: &str = "CANARY-api-key-not-a-real-secret-0001";
const USER: &str = "canary-user@example.com";
const PASSWORD: &str = "CANARY-password-not-a-real-secret-0002";

/// Where the credential must arrive.
#[derive(Debug, Clone, Copy)]
enum Auth {
    /// The API key in this header, after this prefix.
    Header(&'static str, &'static str),
    /// HTTP basic with this username (the credential's own, or a fixed one) and the password.
    Basic(&'static str),
}

/// Bearer token in `Authorization`, the most common placement.
const BEARER: Auth = Auth::Header("authorization", "Bearer ");

struct Case {
    id: &'static str,
    settings: &'static [(&'static str, &'static str)],
    auth: Auth,
    /// Method, path and query as the service receives them.
    request: &'static str,
    /// Headers the service requires on every call (version pins, Accept).
    headers: &'static [(&'static str, &'static str)],
    /// A realistic 200 reply of the verify endpoint.
    reply: &'static str,
    account: Option<&'static str>,
    account_id: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        id: "airtable",
        settings: &[],
        auth: BEARER,
        request: "GET /v0/meta/whoami",
        headers: &[],
        reply: r#"{"id":"usrL2PNC5o3H4lBEi","email":"ada@example.com"}"#,
        account: Some("ada@example.com"),
        account_id: Some("usrL2PNC5o3H4lBEi"),
    },
    Case {
        id: "anthropic",
        settings: &[],
        auth: Auth::Header("x-api-key", ""),
        request: "GET /v1/models",
        headers: &[("anthropic-version", "2023-06-01")],
        reply: r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "asana",
        settings: &[],
        auth: BEARER,
        request: "GET /api/1.0/users/me",
        headers: &[],
        reply: r#"{"data":{"gid":"1126508793140155","email":"ada@example.com","name":"Ada Lovelace","resource_type":"user","workspaces":[{"gid":"1126509132283071","name":"Engines","resource_type":"workspace"}]}}"#,
        account: Some("ada@example.com"),
        account_id: Some("1126508793140155"),
    },
    Case {
        id: "brevo",
        settings: &[],
        auth: Auth::Header("api-key", ""),
        request: "GET /v3/account",
        headers: &[],
        reply: r#"{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","companyName":"Analytical Engines Ltd","plan":[{"type":"free","credits":300,"creditsType":"sendLimit"}]}"#,
        account: Some("Analytical Engines Ltd"),
        account_id: None,
    },
    Case {
        id: "clicksend",
        settings: &[],
        auth: Auth::Basic(USER),
        request: "GET /v3/account",
        headers: &[],
        reply: r#"{"http_code":200,"response_code":"SUCCESS","response_msg":"Here's your account","data":{"user_id":12345,"username":"adalovelace","user_email":"ada@example.com","account_name":"Analytical Engines","balance":"10.00"}}"#,
        account: Some("adalovelace"),
        account_id: Some("12345"),
    },
    Case {
        id: "cloudflare",
        settings: &[],
        auth: BEARER,
        request: "GET /client/v4/user/tokens/verify",
        headers: &[],
        reply: r#"{"success":true,"errors":[],"messages":[],"result":{"id":"f267e341f3dd4697bd3b9f71dd96247f","status":"active","not_before":"2018-07-01T05:20:00Z","expires_on":"2030-01-01T00:00:00Z"}}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "datadog",
        settings: &[],
        auth: Auth::Header("dd-api-key", ""),
        request: "GET /api/v1/validate",
        headers: &[],
        reply: r#"{"valid":true}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "datadog-eu",
        settings: &[],
        auth: Auth::Header("dd-api-key", ""),
        request: "GET /api/v1/validate",
        headers: &[],
        reply: r#"{"valid":true}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "digitalocean",
        settings: &[],
        auth: BEARER,
        request: "GET /v2/account",
        headers: &[],
        reply: r#"{"account":{"droplet_limit":25,"floating_ip_limit":5,"email":"sammy@example.com","name":"Sammy the Shark","uuid":"b6fr89dbf6d9156cace5f3c78dc9851d957381ef","email_verified":true,"status":"active","status_message":" ","team":{"uuid":"5df3e3004a17e242b7c20ca6c9fc25b701a47ece","name":"My Team"}}}"#,
        account: Some("My Team"),
        account_id: Some("b6fr89dbf6d9156cace5f3c78dc9851d957381ef"),
    },
    Case {
        id: "freshdesk",
        settings: &[("domain", "acme")],
        auth: Auth::Basic(USER),
        request: "GET /api/v2/agents/me",
        headers: &[],
        reply: r#"{"available":true,"occasional":false,"id":432,"ticket_scope":1,"type":"support_agent","contact":{"active":true,"email":"clark@example.com","name":"Clark Kent","language":"en","time_zone":"Chennai"}}"#,
        account: Some("clark@example.com"),
        account_id: Some("432"),
    },
    Case {
        id: "github",
        settings: &[],
        auth: BEARER,
        request: "GET /user",
        headers: &[("x-github-api-version", "2022-11-28"), ("accept", "application/vnd.github+json")],
        reply: r#"{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","type":"User","name":"monalisa octocat"}"#,
        account: Some("octocat"),
        account_id: Some("1"),
    },
    Case {
        id: "gitlab",
        settings: &[],
        auth: BEARER,
        request: "GET /api/v4/user",
        headers: &[],
        reply: r#"{"id":1,"username":"john_smith","name":"John Smith","state":"active","web_url":"https://gitlab.com/john_smith"}"#,
        account: Some("john_smith"),
        account_id: Some("1"),
    },
    Case {
        id: "hubspot",
        settings: &[],
        auth: BEARER,
        request: "GET /account-info/2026-03/details",
        headers: &[],
        reply: r#"{"portalId":123456,"accountType":"STANDARD","timeZone":"US/Eastern","companyCurrency":"USD","additionalCurrencies":[],"utcOffset":"-05:00","utcOffsetMilliseconds":-18000000,"uiDomain":"app.hubspot.com","dataHostingLocation":"na1"}"#,
        account: Some("123456"),
        account_id: Some("123456"),
    },
    Case {
        id: "jira",
        settings: &[("site", "acme")],
        auth: Auth::Basic(USER),
        request: "GET /rest/api/3/myself",
        headers: &[],
        reply: r#"{"accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","emailAddress":"mia@example.com","displayName":"Mia Krystof","active":true,"timeZone":"Australia/Sydney"}"#,
        account: Some("mia@example.com"),
        account_id: Some("5b10a2844c20165700ede21g"),
    },
    Case {
        id: "klaviyo",
        settings: &[],
        auth: Auth::Header("authorization", "Klaviyo-API-Key "),
        request: "GET /api/accounts",
        headers: &[("revision", "2026-01-15")],
        reply: r#"{"data":[{"type":"account","id":"AbC123","attributes":{"test_account":false,"contact_information":{"default_sender_name":"Engines","default_sender_email":"news@example.com","website_url":"https://example.com","organization_name":"Analytical Engines"},"industry":"Software","timezone":"Europe/London","preferred_currency":"GBP","public_api_key":"AbC123"}}],"links":{"self":"https://a.klaviyo.com/api/accounts/"}}"#,
        account: Some("Analytical Engines"),
        account_id: Some("AbC123"),
    },
    Case {
        id: "mailchimp",
        settings: &[("dc", "us6")],
        auth: Auth::Basic("patchbay"),
        request: "GET /3.0/",
        headers: &[],
        reply: r#"{"account_id":"8d3a3db4d97663a9074efcc16","login_id":"8d3a3db4d97663a9074efcc16","account_name":"Freddie's Jokes","email":"freddie@example.com","total_subscribers":42}"#,
        account: Some("Freddie's Jokes"),
        account_id: Some("8d3a3db4d97663a9074efcc16"),
    },
    Case {
        id: "mailgun",
        settings: &[],
        auth: Auth::Basic("api"),
        request: "GET /v4/domains?limit=1",
        headers: &[],
        reply: r#"{"total_count":1,"items":[{"name":"mg.example.com","state":"active","type":"custom"}]}"#,
        account: Some("mg.example.com"),
        account_id: None,
    },
    Case {
        id: "mailgun-eu",
        settings: &[],
        auth: Auth::Basic("api"),
        request: "GET /v4/domains?limit=1",
        headers: &[],
        reply: r#"{"total_count":1,"items":[{"name":"mg.example.eu","state":"active","type":"custom"}]}"#,
        account: Some("mg.example.eu"),
        account_id: None,
    },
    Case {
        id: "mailjet",
        settings: &[],
        auth: Auth::Basic(USER),
        request: "GET /v3/REST/user",
        headers: &[],
        reply: r#"{"Count":1,"Data":[{"ACL":"","CreatedAt":"2020-01-01T00:00:00Z","Email":"ada@example.com","ID":1234567,"Locale":"en_US","Timezone":"Europe/Paris","Username":"ada@example.com"}],"Total":1}"#,
        account: Some("ada@example.com"),
        account_id: Some("1234567"),
    },
    Case {
        id: "mistral",
        settings: &[],
        auth: BEARER,
        request: "GET /v1/models",
        headers: &[],
        reply: r#"{"object":"list","data":[{"id":"mistral-small-latest","object":"model","owned_by":"mistralai"}]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "notion",
        settings: &[],
        auth: BEARER,
        request: "GET /v1/users/me",
        headers: &[("notion-version", "2022-06-28")],
        reply: r#"{"object":"user","id":"16d84278-ab0e-484c-9bdd-b35da3bd8905","name":"pied piper","avatar_url":null,"type":"bot","bot":{"owner":{"type":"workspace","workspace":true},"workspace_name":"Pied Piper"}}"#,
        account: Some("Pied Piper"),
        account_id: Some("16d84278-ab0e-484c-9bdd-b35da3bd8905"),
    },
    Case {
        id: "openai",
        settings: &[],
        auth: BEARER,
        request: "GET /v1/models",
        headers: &[],
        reply: r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "pagerduty",
        settings: &[],
        auth: Auth::Header("authorization", "Token token="),
        request: "GET /abilities",
        headers: &[("accept", "application/vnd.pagerduty+json;version=2")],
        reply: r#"{"abilities":["teams","read_only_users","service_support_hours"]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "pipedrive",
        settings: &[],
        auth: Auth::Header("x-api-token", ""),
        request: "GET /v1/users/me",
        headers: &[],
        reply: r#"{"success":true,"data":{"id":123,"name":"Ada Lovelace","email":"ada@example.com","company_id":456,"company_domain":"engines"}}"#,
        account: Some("ada@example.com"),
        account_id: Some("123"),
    },
    Case {
        id: "postmark",
        settings: &[],
        auth: Auth::Header("x-postmark-server-token", ""),
        request: "GET /server",
        headers: &[("accept", "application/json")],
        reply: r#"{"ID":1,"Name":"Staging Testing","ApiTokens":["server token"],"Color":"red","SmtpApiActivated":true}"#,
        account: Some("Staging Testing"),
        account_id: Some("1"),
    },
    Case {
        id: "resend",
        settings: &[],
        auth: BEARER,
        request: "GET /domains",
        headers: &[],
        reply: r#"{"object":"list","has_more":false,"data":[{"id":"d91cd9bd-1176-453e-8fc1-35364d380206","name":"example.com","status":"verified","region":"us-east-1"}]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "sendgrid",
        settings: &[],
        auth: BEARER,
        request: "GET /v3/scopes",
        headers: &[],
        reply: r#"{"scopes":["mail.send","alerts.read"]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "sendgrid-eu",
        settings: &[],
        auth: BEARER,
        request: "GET /v3/scopes",
        headers: &[],
        reply: r#"{"scopes":["mail.send"]}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "sentry",
        settings: &[("organization", "acme-org")],
        auth: BEARER,
        request: "GET /api/0/organizations/acme-org/projects/",
        headers: &[],
        reply: r#"[{"id":"2","slug":"pump-station","name":"Pump Station","platform":"python","status":"active"}]"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "stripe",
        settings: &[],
        auth: BEARER,
        request: "GET /v1/account",
        headers: &[],
        reply: r#"{"id":"acct_1032D82eZvKYlo2C","object":"account","business_profile":{"name":null},"email":"jenny@example.com","settings":{"dashboard":{"display_name":"Stripe.com","timezone":"US/Pacific"}}}"#,
        account: Some("Stripe.com"),
        account_id: Some("acct_1032D82eZvKYlo2C"),
    },
    Case {
        id: "todoist",
        settings: &[],
        auth: BEARER,
        request: "GET /api/v1/user",
        headers: &[],
        reply: r#"{"id":"2671355","email":"ada@example.com","full_name":"Ada Lovelace","inbox_project_id":"220474322","tz_info":{"timezone":"Europe/London"},"is_premium":false}"#,
        account: Some("ada@example.com"),
        account_id: Some("2671355"),
    },
    Case {
        id: "twilio",
        settings: &[("account_sid", "AC00000000000000000000000000000000")],
        auth: Auth::Basic(USER),
        request: "GET /2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json?PageSize=1",
        headers: &[],
        reply: r#"{"messages":[],"end":0,"first_page_uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json?PageSize=1&Page=0","next_page_uri":null,"page":0,"page_size":1,"previous_page_uri":null,"start":0,"uri":"/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json?PageSize=1&Page=0"}"#,
        account: None,
        account_id: None,
    },
    Case {
        id: "vercel",
        settings: &[],
        auth: BEARER,
        request: "GET /v2/user",
        headers: &[],
        reply: r#"{"user":{"id":"AEIIDYVk59zbFF2Sxfyxxmua","email":"ada@example.com","name":"Ada Lovelace","username":"ada","defaultTeamId":null}}"#,
        account: Some("ada@example.com"),
        account_id: Some("AEIIDYVk59zbFF2Sxfyxxmua"),
    },
    Case {
        id: "zendesk",
        settings: &[("subdomain", "acme")],
        auth: Auth::Basic(USER),
        request: "GET /api/v2/users/me.json",
        headers: &[],
        reply: r#"{"user":{"id":35436,"name":"Johnny Agent","email":"johnny@example.com","role":"agent","active":true}}"#,
        account: Some("johnny@example.com"),
        account_id: Some("35436"),
    },
];

/// What the stand-in saw, and what it answers next.
#[derive(Default)]
struct Stand {
    seen: Vec<(String, String, HeaderMap)>,
    reply: (u16, String),
}

async fn stand_in() -> (TestServer, Arc<Mutex<Stand>>) {
    let stand = Arc::new(Mutex::new(Stand::default()));
    let state = stand.clone();
    let router = Router::new().fallback(move |request: Request<Body>| {
        let state = state.clone();
        async move {
            let target = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
            let mut s = state.lock().unwrap();
            s.seen.push((request.method().to_string(), target, request.headers().clone()));
            let (status, body) = s.reply.clone();
            (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], body).into_response()
        }
    });
    (TestServer::start(router).await, stand)
}

/// The provider with its API host replaced by the stand-in; the base path is kept.
fn on_loopback(provider: &Provider, base: &str) -> Provider {
    let api = provider.api_base_url.as_deref().expect("built-in providers declare api_base_url");
    let after_scheme = api.split_once("://").map_or(api, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let mut copy = provider.clone();
    copy.api_base_url = Some(format!("{base}{path}"));
    copy
}

fn credential(mode: AuthMode) -> Credential {
    match mode {
        AuthMode::ApiKey => Credential::ApiKey { key: SecretString::from(KEY) },
        AuthMode::Basic => {
            Credential::Basic { username: SecretString::from(USER), password: SecretString::from(PASSWORD) }
        }
        other => panic!("not an API-key or basic provider: {other:?}"),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn every_builtin_api_key_and_basic_provider_has_a_case() {
    let catalog = Catalog::load(None, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let builtin: BTreeSet<&str> = catalog
        .list()
        .filter(|p| matches!(p.auth_mode, AuthMode::ApiKey | AuthMode::Basic))
        .map(|p| p.id.as_str())
        .collect();
    let cases: BTreeSet<&str> = CASES.iter().map(|c| c.id).collect();
    assert_eq!(builtin, cases, "add a row to CASES for every built-in API-key or basic provider");
    assert_eq!(cases.len(), CASES.len(), "one row per provider");
    assert!(builtin.len() >= 32, "{}", builtin.len());
}

#[tokio::test]
async fn every_builtin_verify_call_reaches_the_stand_in_with_the_credential_in_place() {
    let catalog = Catalog::load(None, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let (server, stand) = stand_in().await;
    let http = client(true);
    let mut failures = Vec::new();
    for case in CASES {
        if let Err(e) = run_case(&catalog, &server, &stand, &http, case).await {
            failures.push(format!("{}: {e}", case.id));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

async fn run_case(
    catalog: &Catalog,
    server: &TestServer,
    stand: &Arc<Mutex<Stand>>,
    http: &patchbay_providers::GuardedClient,
    case: &Case,
) -> Result<(), String> {
    let provider = catalog.get(case.id).ok_or("not in the built-in catalog")?;
    let provider = on_loopback(provider, &server.base());
    let settings: BTreeMap<String, String> =
        case.settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let cred = credential(provider.auth_mode);

    // A valid credential: the documented request, the credential in place, the account read.
    {
        let mut s = stand.lock().unwrap();
        s.seen.clear();
        s.reply = (200, case.reply.to_owned());
    }
    let outcome = verify_credential(http, &provider, &settings, &cred).await;
    let (method, target, headers) = {
        let mut s = stand.lock().unwrap();
        if s.seen.len() != 1 {
            return Err(format!("expected one request, the stand-in saw {}", s.seen.len()));
        }
        s.seen.remove(0)
    };
    let line = format!("{method} {target}");
    if line != case.request {
        return Err(format!("request `{line}`, expected `{}`", case.request));
    }
    for (name, value) in case.headers {
        if header(&headers, name) != Some(value) {
            return Err(format!("header {name}: {:?}, expected {value:?}", header(&headers, name)));
        }
    }
    match case.auth {
        Auth::Header(name, prefix) => {
            let want = format!("{prefix}{KEY}");
            if header(&headers, name) != Some(want.as_str()) {
                return Err(format!("header {name}: {:?}, expected {want:?}", header(&headers, name)));
            }
            if name != "authorization" && headers.contains_key("authorization") {
                return Err("an Authorization header was sent besides the key header".into());
            }
        }
        Auth::Basic(user) => {
            let want =
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{PASSWORD}")));
            if header(&headers, "authorization") != Some(want.as_str()) {
                return Err(format!(
                    "Authorization {:?}, expected basic {user}:<password>",
                    header(&headers, "authorization")
                ));
            }
        }
    }
    if target.contains("CANARY") {
        return Err("the credential is in the URL".into());
    }
    let want =
        VerifyOutcome::Ok { account: case.account.map(str::to_owned), account_id: case.account_id.map(str::to_owned) };
    if outcome != want {
        return Err(format!("outcome {outcome:?}, expected {want:?}"));
    }

    // A 401 is a rejected credential, and the secret the reply echoes is masked.
    let secret = if provider.auth_mode == AuthMode::ApiKey { KEY } else { PASSWORD };
    stand.lock().unwrap().reply = (401, format!(r#"{{"message":"Invalid credentials: {secret}"}}"#));
    match verify_credential(http, &provider, &settings, &cred).await {
        VerifyOutcome::Rejected { status: 401, message } if !message.contains("CANARY") => Ok(()),
        other => Err(format!("a 401 reply gave {other:?}, expected a rejected credential with the secret masked")),
    }
}
