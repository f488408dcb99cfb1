//! The built-in catalog and loading from PATCHBAY_PROVIDERS_DIR.

use std::collections::BTreeSet;
use std::path::Path;

use patchbay_domain::provider::{AuthMode, Category};
use patchbay_providers::{Catalog, builtin_files};

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn the_builtin_catalog_loads_without_errors() {
    let catalog = Catalog::load(None, &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert!(catalog.len() >= 32, "{}", catalog.len());
    let ids: Vec<&str> = catalog.list().map(|p| p.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "list() is sorted by id");
    for p in catalog.list() {
        if p.auth_mode == AuthMode::Oauth2 {
            // Every built-in OAuth provider reads its app's client by convention, and lets a
            // user bring their own.
            let app = p.app_id().to_ascii_uppercase().replace('-', "_");
            assert_eq!(
                p.client_variables,
                [format!("PATCHBAY_{app}_CLIENT_ID"), format!("PATCHBAY_{app}_CLIENT_SECRET")]
            );
            assert!(!p.has_platform_client(), "{}", p.id);
            assert!(
                p.setting("client_id").is_some() && p.setting("client_secret").is_some_and(|s| s.secret),
                "{}",
                p.id
            );
            assert!(p.verify.as_ref().is_some_and(|v| v.account_id.is_some()), "{} pins no stable account id", p.id);
        } else {
            assert!(matches!(p.auth_mode, AuthMode::ApiKey | AuthMode::Basic), "{}", p.id);
        }
        assert!(p.verify.is_some(), "{} has no verify call", p.id);
        assert!(p.docs_url.as_deref().is_some_and(|u| u.starts_with("https://")), "{}", p.id);
        assert!(p.description.is_some(), "{}", p.id);
        assert!(!p.modules.is_empty(), "{}", p.id);
        let base = p.api_base_url.as_deref().unwrap_or_default();
        assert!(base.starts_with("https://") || base.starts_with('{') && !p.metadata_hosts.is_empty(), "{}", p.id);
    }
    // The token side of the seeds, as their docs say.
    let sf = catalog.get("salesforce").unwrap();
    assert_eq!(sf.token_response.default_expires_in.map(|l| l.seconds), Some(7200));
    assert_eq!(sf.metadata_hosts["instance_url"], ["my.salesforce.com"]);
    assert_eq!(catalog.get("quickbooks").unwrap().callback_params["realmId"], "realm_id");
    assert!(catalog.get("slack").unwrap().revocation.as_ref().unwrap().success_pointer.is_some());
    let notion = catalog.get("notion-oauth").unwrap();
    assert_eq!(notion.token_request.body, patchbay_domain::grant_format::TokenBody::Json);
    // ClickUp's token endpoint reads its parameters from the query string only.
    assert_eq!(catalog.get("clickup").unwrap().token_request.body, patchbay_domain::grant_format::TokenBody::Query);
    // Wrike's token reply names the data center as a bare host on wrike.com.
    assert_eq!(catalog.get("wrike").unwrap().metadata_hosts["host"], ["wrike.com"]);
    let zoho = catalog.get("zoho-crm").unwrap();
    assert_eq!(zoho.setting("accounts").unwrap().default.as_deref(), Some("accounts.zoho.com"));
    let stripe = catalog.get("stripe").unwrap();
    assert_eq!(stripe.api_key.as_ref().unwrap().prefix, "Bearer ");
    assert_eq!(catalog.get("anthropic").unwrap().headers["anthropic-version"], "2023-06-01");
    assert_eq!(catalog.get("mailgun").unwrap().basic_form().fixed_username.as_deref(), Some("api"));
    assert!(catalog.get("zendesk").unwrap().setting("subdomain").unwrap().required);
    assert!(catalog.get("twilio").unwrap().setting("account_sid").unwrap().required);
    let advice = catalog.get("pagerduty").unwrap().access_advice.as_ref().unwrap();
    assert!(advice.url.starts_with("https://") && advice.text.contains("read-only"), "{advice:?}");
}

/// Issue 12's floor: the catalog is useful on the first day only if it holds the services
/// automation users connect most. Counted by auth mode, as `GET /v1/providers` lists them.
#[test]
fn the_builtin_catalog_has_at_least_45_oauth_and_30_key_services() {
    let catalog = Catalog::load(None, &no_env).unwrap_or_else(|e| panic!("{e}"));
    let count = |modes: &[AuthMode]| catalog.list().filter(|p| modes.contains(&p.auth_mode)).count();
    let oauth = count(&[AuthMode::Oauth2]);
    let keys = count(&[AuthMode::ApiKey, AuthMode::Basic]);
    assert!(oauth >= 45, "{oauth} built-in OAuth services; the floor is 45");
    assert!(keys >= 30, "{keys} built-in API-key/basic services; the floor is 30");
}

#[test]
fn the_builtin_oauth_providers_share_their_apps_and_hosts() {
    let env = |k: &str| k.starts_with("PATCHBAY_GOOGLE_CLIENT_").then(|| format!("{k}-value"));
    let catalog = Catalog::load(None, &env).unwrap_or_else(|e| panic!("{e}"));
    for id in ["gmail", "google-drive", "google-sheets", "google-calendar"] {
        let p = catalog.get(id).unwrap();
        assert_eq!(p.oauth_app.as_deref(), Some("google"), "{id}");
        assert_eq!(p.client_id.as_deref(), Some("PATCHBAY_GOOGLE_CLIENT_ID-value"), "{id}");
        assert_eq!(p.authorization_params["access_type"], "offline");
        assert_eq!(p.verify.as_ref().unwrap().host.as_deref(), Some("userinfo"));
    }
    assert!(!catalog.get("dropbox").unwrap().has_platform_client());
    let dropbox = catalog.get("dropbox").unwrap();
    assert_eq!(dropbox.api_hosts["content"], "https://content.dropboxapi.com");
    assert_eq!(dropbox.verify.as_ref().unwrap().body.as_deref(), Some("null"));
    let outlook = catalog.get("microsoft-outlook").unwrap();
    let tenant = outlook.setting("tenant").unwrap();
    assert_eq!(tenant.default.as_deref(), Some("common"));
    assert!(tenant.free_text && tenant.choices.len() == 3);
    assert_eq!(outlook.client_variables[0], "PATCHBAY_MICROSOFT_CLIENT_ID");
}

/// The format lets a user's file leave `category` out (it is then shown as Other); a built-in
/// one must say where the picker lists it.
#[test]
fn every_builtin_file_names_a_category() {
    let missing: Vec<&str> = builtin_files()
        .iter()
        .filter(|(name, text)| Catalog::parse(name, text, &no_env).unwrap().category.is_none())
        .map(|(name, _)| *name)
        .collect();
    assert!(missing.is_empty(), "add `category:` (see docs/providers.md) to {}", missing.join(", "));
    let catalog = Catalog::load(None, &no_env).unwrap();
    assert_eq!(catalog.get("salesforce").unwrap().category, Some(Category::Crm));
    assert_eq!(catalog.get("google-sheets").unwrap().category, Some(Category::Spreadsheets));
}

#[test]
fn every_catalog_file_is_embedded() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let embedded: BTreeSet<String> = builtin_files().iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, embedded, "list every file of catalog/ in BUILTIN (catalog.rs)");
    for (name, text) in builtin_files() {
        let p = Catalog::parse(name, text, &no_env).unwrap();
        assert_eq!(format!("{}.yaml", p.id), *name, "file name matches the id");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("patchbay-providers-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const ACME: &str = "\
id: acme
display_name: Acme
auth_mode: oauth2
authorization_url: https://acme.example/oauth/authorize
token_url: https://acme.example/oauth/token
client_id: ${ACME_CLIENT_ID}
client_secret: ${ACME_CLIENT_SECRET}
scopes:
  profile: See your profile
  posts:read: Read your posts
default_scopes: [profile]
api_base_url: https://api.acme.example
verify: {method: GET, path: /me, account: /email}
modules:
  watch_posts: {name: Watch posts, scopes: [posts:read]}
";

#[test]
fn extra_dir_adds_and_replaces_providers() {
    let dir = temp_dir("extra");
    std::fs::write(dir.join("acme.yaml"), ACME).unwrap();
    std::fs::write(
        dir.join("stripe.yml"),
        "id: stripe\ndisplay_name: Stripe (mirror)\nauth_mode: api_key\napi_key: {in: header, name: X-Key}\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.txt"), "not a provider").unwrap();
    let env = |k: &str| k.starts_with("ACME_").then(|| format!("{k}-value"));
    let catalog = Catalog::load(Some(&dir), &env).unwrap_or_else(|e| panic!("{e}"));
    let acme = catalog.get("acme").unwrap();
    assert!(acme.has_platform_client());
    assert_eq!(acme.client_id.as_deref(), Some("ACME_CLIENT_ID-value"));
    assert_eq!(catalog.get("stripe").unwrap().display_name, "Stripe (mirror)");
    // Without the variables the provider still loads, without a platform client.
    let catalog = Catalog::load(Some(&dir), &no_env).unwrap();
    assert!(!catalog.get("acme").unwrap().has_platform_client());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_of_every_file_are_reported_together() {
    let dir = temp_dir("errors");
    std::fs::write(dir.join("a.yaml"), ACME).unwrap();
    std::fs::write(dir.join("b.yaml"), ACME.replace("display_name: Acme", "display_name: Acme 2")).unwrap();
    std::fs::write(dir.join("c.yaml"), "id: c\ndisplay_name: C\nauth_mode: api_key\nbase_url: https://x\n").unwrap();
    std::fs::write(dir.join("d.yaml"), ACME.replace("id: acme", "id: dee").replace("/email", "email")).unwrap();
    let errs = Catalog::load(Some(&dir), &no_env).unwrap_err();
    let text = errs.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let first = dir.join("a.yaml").display().to_string();
    assert!(
        lines[0].ends_with(&format!("b.yaml:1: id: the id `acme` is already used by {first}; ids must be unique")),
        "{text}"
    );
    // Both of c.yaml's mistakes, in line order: the unknown key does not hide the missing section.
    assert!(lines[1].contains("c.yaml:3: api_key: auth_mode: api_key needs to say where the key goes"), "{text}");
    assert!(lines[2].contains("c.yaml:4: base_url: unknown key `base_url`"), "{text}");
    assert!(lines[3].contains("d.yaml:13: verify.account: `email` (entry 0) is not a JSON pointer"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_file_reports_line_numbers() {
    let dir = temp_dir("validate");
    let path = dir.join("bad.yaml");
    std::fs::write(&path, ACME.replace("posts:read]", "posts:write]").replace("https://api", "http://api")).unwrap();
    let errs = Catalog::validate_file(&path, &no_env).unwrap_err();
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(rendered.len(), 2, "{rendered:#?}");
    assert!(
        rendered[0].contains("bad.yaml:12: api_base_url: `http://api.acme.example` must be an https:// URL"),
        "{rendered:#?}"
    );
    assert!(
        rendered[1].contains("bad.yaml:15: modules.watch_posts.scopes: `posts:write` is not declared"),
        "{rendered:#?}"
    );
    let missing = Catalog::validate_file(&dir.join("nope.yaml"), &no_env).unwrap_err();
    assert!(missing[0].message.contains("cannot read"), "{missing:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_file_refuses_special_files_without_blocking_or_reading_them_whole() {
    let dir = temp_dir("special");
    let fifo = dir.join("fifo.yaml");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let started = std::time::Instant::now();
    for path in [fifo.as_path(), Path::new("/dev/zero"), Path::new("/dev/null"), dir.as_path()] {
        let errs = Catalog::validate_file(path, &no_env).unwrap_err();
        assert!(errs[0].message.contains("not a regular file"), "{}: {errs:?}", path.display());
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "nothing blocked: {:?}", started.elapsed());
    let big = dir.join("big.yaml");
    std::fs::write(&big, format!("id: x\n#{}\n", "x".repeat(300 * 1024))).unwrap();
    let errs = Catalog::validate_file(&big, &no_env).unwrap_err();
    assert!(errs[0].message.contains("larger than 256 KiB"), "{errs:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_extra_dir_is_an_error() {
    let errs = Catalog::load(Some(Path::new("/nonexistent/patchbay-providers")), &no_env).unwrap_err();
    assert_eq!(errs.errors().len(), 1);
    assert_eq!(errs.errors()[0].field, "PATCHBAY_PROVIDERS_DIR");
}

/// The shape the testkit's mock provider writes must load.
#[test]
fn testkit_style_loopback_providers_load() {
    let base = "http://127.0.0.1:45678";
    let text = format!(
        "id: mock-tenant\ndisplay_name: Mock tenant\ndescription: Loopback mock provider for tests\n\
         api_base_url: {base}\nauth_mode: api_key\n\
         api_key: {{in: header, name: Authorization, prefix: \"Bearer \"}}\n\
         verify: {{method: GET, path: \"/tenant/{{tenant}}/me\", account: /email}}\n\
         settings:\n  - {{key: tenant, label: Tenant, required: true, placeholder: acme}}\n\
         modules:\n  read_items: {{name: Read items}}\n  create_item: {{name: Create an item}}\n"
    );
    let catalog = Catalog::from_sources([("mock.yaml", text.as_str())], &no_env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.len(), 1);
    let mut catalog = catalog;
    let replaced = catalog.add_source("again.yaml", &text, &no_env).unwrap();
    assert!(replaced.is_some());
}
