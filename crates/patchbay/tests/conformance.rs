//! The conformance harness (issue 11): every built-in `oauth2` definition, and the fixture
//! definitions of `conformance/fixtures/`, runs a full life through Patchbay's real code
//! against the conformance kit's emulation of its service (`patchbay-conformance`), picked by
//! the host of the definition's `token_url`:
//!
//! create → authorize URL (followed by a "browser" to the emulator, which checks the
//! parameters the service requires) → Patchbay's callback → code exchange (the emulator
//! enforces the documented client authentication and body encoding) → verify and the account
//! label → a proxied API call → a forced refresh → delete, with the documented revocation.
//!
//! The definitions name real hosts; the service is built with the kit's test-only client
//! (`GuardedClient::with_test_roots`: the kit's resolver, only the kit's throwaway CA).
//! Client credentials come by convention from `PATCHBAY_<ID>_CLIENT_ID`/`_SECRET`: a process
//! cannot set its own environment safely, so the test re-runs itself as a child process with
//! those variables set (`CHILD`). A step the kit cannot exercise is printed as a
//! `conformance: … NOT EXERCISED` line, never skipped silently; a definition whose token
//! endpoint no profile emulates fails the run.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::test_app::{PUBLIC_URL, TestApp};
use patchbay_conformance::{Kit, Service};
use patchbay_domain::provider::{AuthMode, Provider};
use serde_json::{Value, json};

/// Marks the child run, which has the client variables in its environment.
const CHILD: &str = "PATCHBAY_CONFORMANCE_CHILD";

/// Extra definitions run alongside the built-ins, for a profile whose service is not built in
/// yet (`(file name, YAML)`); empty while every profile's service has a built-in definition.
const FIXTURES: &[(&str, &str)] = &[];

/// `PATCHBAY_<ID>_CLIENT_ID`'s `<ID>`: upper-cased, `-` → `_`.
fn env_id(id: &str) -> String {
    id.to_ascii_uppercase().replace('-', "_")
}

/// Every definition the harness runs: the built-in OAuth ones, then the fixtures.
fn definitions(env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, Provider)> {
    let builtin = patchbay_providers::Catalog::from_sources(
        patchbay_providers::builtin_files().iter().map(|(n, t)| (*n, *t)),
        env,
    )
    .expect("the built-in catalog loads");
    let fixtures = patchbay_providers::Catalog::from_sources(FIXTURES.iter().copied(), env).expect("fixtures load");
    let mut out = Vec::new();
    for p in builtin.list() {
        out.push((format!("builtin {}", p.id), (**p).clone()));
    }
    for p in fixtures.list() {
        out.push((format!("fixture {}", p.id), (**p).clone()));
    }
    out
}

/// The client variables for every definition with a profile, and for every profile's name (a
/// shared OAuth app may read those). A token URL that takes a setting (Zendesk's
/// `{subdomain}`) is matched after rendering it with the profile's own settings, as the kit does.
fn client_env(profiles: &[std::sync::Arc<dyn patchbay_conformance::Profile>]) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let profile_for = |token_url: &str| {
        profiles.iter().find(|p| {
            let mut rendered = token_url.to_owned();
            for (key, value) in p.settings() {
                rendered = rendered.replace(&format!("{{{key}}}"), value);
            }
            let host = url::Url::parse(&rendered).ok().and_then(|u| u.host_str().map(str::to_owned));
            host.is_some_and(|h| p.token_hosts().contains(&h.as_str()))
        })
    };
    for p in profiles {
        vars.push((format!("PATCHBAY_{}_CLIENT_ID", env_id(p.name())), p.client().id.to_owned()));
        vars.push((format!("PATCHBAY_{}_CLIENT_SECRET", env_id(p.name())), p.client().secret.to_owned()));
    }
    for (_, d) in definitions(&|_| None) {
        if let Some(p) = d.token_url.as_deref().and_then(profile_for) {
            vars.push((format!("PATCHBAY_{}_CLIENT_ID", env_id(&d.id)), p.client().id.to_owned()));
            vars.push((format!("PATCHBAY_{}_CLIENT_SECRET", env_id(&d.id)), p.client().secret.to_owned()));
        }
    }
    vars
}

#[test]
fn every_oauth_definition_lives_a_full_life_against_its_service() {
    if std::env::var_os(CHILD).is_some() {
        return tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run_all());
    }
    let profiles = patchbay_conformance::profiles::all();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["every_oauth_definition_lives_a_full_life_against_its_service", "--exact", "--nocapture"])
        .env(CHILD, "1")
        .envs(client_env(&profiles))
        .output()
        .expect("re-run the test binary");
    eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the conformance run failed (its output is above)");
}

/// What one definition's life exercised, for the summary.
#[derive(Default)]
struct Life {
    exercised: Vec<String>,
    not_exercised: Vec<String>,
}

impl Life {
    fn ok(&mut self, what: impl Into<String>) {
        self.exercised.push(what.into());
    }
    fn gap(&mut self, what: impl Into<String>) {
        self.not_exercised.push(what.into());
    }
}

async fn run_all() {
    let callback = format!("{PUBLIC_URL}/oauth/callback");
    let kit = Kit::start(&[&callback]).await;
    let env = |name: &str| std::env::var(name).ok();
    let mut app = TestApp::builder().conformance(kit.ca_pem(), kit.resolver());
    for (name, text) in FIXTURES {
        app = app.provider_file(name, text);
    }
    let app = app.build().await;
    let browser = kit.client();
    let mut oauth = 0;
    for (label, provider) in definitions(&env) {
        match provider.auth_mode {
            AuthMode::Oauth2 => {}
            AuthMode::Oauth2ClientCredentials => {
                eprintln!(
                    "conformance: {label}: NOT EXERCISED: client credentials (the kit runs authorization-code lives)"
                );
                continue;
            }
            _ => continue,
        }
        oauth += 1;
        let token_url = provider.token_url.clone().unwrap_or_default();
        // Every built-in OAuth definition must have its service emulated (issue 12: "all pass
        // the kit in CI"); a token URL that takes a setting is matched with the profile's.
        let Some(service) = kit.for_token_url(&token_url) else {
            panic!("{label}: no profile emulates the token endpoint {token_url}: add one (docs/conformance.md)");
        };
        let life = live(&app, &browser, service, &label, &provider).await;
        eprintln!("conformance: {label} on {}: exercised {}", service.profile.name(), life.exercised.join(", "));
        for gap in &life.not_exercised {
            eprintln!("conformance: {label} on {}: NOT EXERCISED: {gap}", service.profile.name());
        }
    }
    let builtin = oauth - FIXTURES.len();
    eprintln!("conformance: {oauth} OAuth definitions run ({builtin} built-in, {} fixtures)", FIXTURES.len());
    assert!(oauth >= FIXTURES.len(), "the fixtures are OAuth definitions");
}

/// One full life of `provider` at `service`; panics on any step that went wrong.
async fn live(app: &TestApp, browser: &reqwest::Client, service: &Service, label: &str, provider: &Provider) -> Life {
    let mut life = Life::default();
    let profile = &service.profile;
    service.ledger.clear();
    let scopes: Vec<&String> = provider.scopes.keys().collect();
    let settings: serde_json::Map<String, Value> =
        profile.settings().iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let (status, created) = app
        .member()
        .post("/v1/connections", &json!({"provider": provider.id, "scopes": scopes, "settings": settings}))
        .await;
    assert_eq!(status, 201, "{label}: create: {created}");
    let id = created["connection"]["id"].as_str().unwrap().to_owned();
    let authorize_url = created["authorize_url"].as_str().unwrap().to_owned();

    // The browser at the emulated consent page: it refuses what the service would refuse.
    let response = browser.get(&authorize_url).send().await.unwrap_or_else(|e| panic!("{label}: authorize: {e}"));
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
    let Some(back) = location.filter(|_| status == 302) else {
        panic!(
            "{label}: the emulated {} refused the authorize URL {authorize_url}: {status} {}",
            profile.name(),
            response.text().await.unwrap_or_default()
        );
    };
    let params: BTreeMap<String, String> =
        url::Url::parse(&authorize_url).unwrap().query_pairs().into_owned().collect();
    life.ok(format!("authorize ({})", params.keys().cloned().collect::<Vec<_>>().join(" ")));

    let (status, _, page) = app.callback(&back).await;
    assert_eq!(status, 303, "{label}: callback {back}: {page}");
    let token_call = service
        .requests()
        .into_iter()
        .find(|r| {
            r.method == "POST"
                && patchbay_conformance::profile::param(r, "grant_type").as_deref() == Some("authorization_code")
        })
        .unwrap_or_else(|| panic!("{label}: no code exchange reached {}", profile.name()));
    let auth = if token_call.basic().is_some() {
        "HTTP Basic"
    } else if token_call.query_param("client_secret").is_some() {
        "credentials in the query string"
    } else {
        "credentials in the body"
    };
    life.ok(format!("code exchange ({auth}, {})", token_call.media_type().unwrap_or_default()));

    let c = app.connection(&id).await;
    assert_eq!(c["status"], "active", "{label}: after the callback: {c}");
    match c["account"].as_str() {
        Some(account) => {
            assert!(
                profile.account_labels().contains(&account),
                "{label}: account label {account:?} is none of {:?}",
                profile.account_labels()
            );
            life.ok(format!("verify (account {account})"));
        }
        None if provider.verify.is_none() => life.gap("verify (the definition declares none)"),
        None => panic!("{label}: verify gave no account: {c}"),
    }

    if let Some(call) = &provider.context {
        life.ok(context_call(service, label, call, &c));
    }

    let proxied = proxy_call(app, service, provider, &id).await;
    match &proxied {
        Some(what) => life.ok(format!("proxied call ({what})")),
        None => life.gap(format!("proxied call: the profile emulates no API call under {:?}", provider.api_base_url)),
    }

    // Force a refresh: five hours (past Dropbox's 4 h), or past the access token's own expiry
    // when it lives longer (Linear's 24 h).
    let refreshes_before = refreshes(service);
    app.advance(past_expiry(app, &app.connection(&id).await));
    let (status, token) = app.runtime().post(&format!("/v1/connections/{id}/token"), &json!({})).await;
    assert_eq!(status, 200, "{label}: token after the access token expired: {token}");
    if refreshes(service) > refreshes_before {
        let after = proxy_call(app, service, provider, &id).await;
        if after.is_some() {
            let last = service.ctx.grants.last_access_token().unwrap_or_default();
            let used = service.requests().last().is_some_and(|r| carries(r, &last));
            assert!(used, "{label}: the proxied call after the refresh did not use the refreshed access token");
        }
        life.ok("refresh");
    } else {
        life.gap("refresh (no refresh was due or no refresh token was issued)");
    }

    let (status, receipt) = app.member().delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(status, 200, "{label}: delete: {receipt}");
    let revoked = service.requests().into_iter().any(|r| profile.is_documented_revocation(&r));
    match (profile.revocation(), provider.revocation_url.as_deref()) {
        (Some(_), _) if revoked => {
            if profile.revocation_spares_access_tokens() {
                let left = service.ctx.grants.live_refresh_tokens();
                assert_eq!(left, 0, "{label}: a refresh token is still live after the revocation");
            } else {
                assert_eq!(
                    service.ctx.grants.live_grants(),
                    0,
                    "{label}: the grant is still live after the revocation"
                );
            }
            life.ok("revocation");
        }
        (Some(doc), None) => life
            .gap(format!("revocation: the definition declares none; the service documents {} ({})", doc.what, doc.doc)),
        (Some(doc), Some(url)) => {
            panic!("{label}: revocation at {url} is not the documented {} ({}): {receipt}", doc.what, doc.doc)
        }
        (None, None) => life.ok("no revocation (the service has none)"),
        (None, Some(url)) => panic!("{label}: declares revocation at {url}, which {} does not have", profile.name()),
    }
    life
}

/// Checks the definition's `context:` call reached the service with the new access token and
/// that every metadata key it names was kept on the connection; what it learned.
fn context_call(
    service: &Service,
    label: &str,
    call: &patchbay_domain::grant_format::ContextCall,
    connection: &Value,
) -> String {
    let url = url::Url::parse(&call.url).unwrap();
    let seen = service
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && Some(r.host.as_str()) == url.host_str() && r.path == url.path())
        .unwrap_or_else(|| {
            panic!("{label}: the context call GET {} never reached {}", call.url, service.profile.name())
        });
    let token = service.ctx.grants.last_access_token().unwrap_or_default();
    assert!(carries(&seen, &token), "{label}: the context call did not carry the new access token");
    let learned: Vec<String> = call
        .metadata
        .keys()
        .map(|key| {
            let value = connection["metadata"][key.as_str()].as_str();
            let value = value.unwrap_or_else(|| panic!("{label}: the context call gave no `{key}`: {connection}"));
            format!("{key}={value}")
        })
        .collect();
    format!("context call (GET {} → {})", call.url, learned.join(", "))
}

/// How far to move the clock so the connection's access token is due for a refresh: five
/// hours, or a minute past its `expires_at` when that is later.
fn past_expiry(app: &TestApp, connection: &Value) -> Duration {
    use patchbay_domain::clock::Clock;
    let floor = Duration::from_secs(5 * 3600);
    let expires = connection["expires_at"]
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
    let Some(expires) = expires else { return floor };
    let left = (expires - app.clock.now()).whole_seconds().max(0).unsigned_abs();
    floor.max(Duration::from_secs(left + 60))
}

/// Token-endpoint refreshes the emulator has answered.
fn refreshes(service: &Service) -> usize {
    service
        .requests()
        .iter()
        .filter(|r| patchbay_conformance::profile::param(r, "grant_type").as_deref() == Some("refresh_token"))
        .count()
}

/// Proxies the first emulated API call under the definition's `api_base_url`; what it called.
async fn proxy_call(app: &TestApp, service: &Service, provider: &Provider, id: &str) -> Option<String> {
    // A base that takes the connection's settings or what the provider said about the grant
    // (Salesforce `{instance_url}`, QuickBooks `{realm_id}`) is rendered with them, as Patchbay does.
    let connection = app.connection(id).await;
    let mut base = provider.api_base_url.as_deref()?.trim_end_matches('/').to_owned();
    for source in ["settings", "metadata"] {
        for (key, value) in connection[source].as_object().into_iter().flatten() {
            if let Some(v) = value.as_str() {
                base = base.replace(&format!("{{{key}}}"), v);
            }
        }
    }
    let base = base.trim_end_matches('/');
    // The QuickBooks company the emulated consent picked stands in for `{realm}`.
    let url_of =
        |c: &patchbay_conformance::ApiCall| c.url.replace("{realm}", patchbay_conformance::profiles::quickbooks::REALM);
    let call = service.profile.api_calls().iter().find(|c| url_of(c).starts_with(&format!("{base}/")))?;
    let url = url_of(call);
    let path = &url[base.len() + 1..];
    let method = axum::http::Method::from_bytes(call.method.as_bytes()).unwrap();
    let body: Option<Value> = call.body.map(|b| serde_json::from_str(b).unwrap());
    let (status, reply) =
        app.runtime().send(method, &format!("/v1/connections/{id}/proxy/{path}"), body.as_ref()).await;
    assert_eq!(status, 200, "{}: proxied {} {}: {reply}", provider.id, call.method, call.url);
    let seen = service.requests().last().cloned().expect("the proxied call reached the emulator");
    // Most services take `Authorization: Bearer`; some their own scheme or header (Zoho
    // `Zoho-oauthtoken`, Shopify `X-Shopify-Access-Token`): the current access token must be in one.
    let current = service.ctx.grants.last_access_token().unwrap_or_default();
    assert!(carries(&seen, &current), "{}: the proxied call did not carry the current access token", provider.id);
    Some(format!("{} {}", call.method, call.url))
}

/// Whether `r` carries `token` in a header: `Authorization: Bearer` for most services, another
/// scheme or header for some (Zoho `Zoho-oauthtoken`, Shopify `X-Shopify-Access-Token`).
fn carries(r: &patchbay_conformance::Recorded, token: &str) -> bool {
    !token.is_empty() && r.headers.values().any(|v| v.to_str().is_ok_and(|v| v.contains(token)))
}
