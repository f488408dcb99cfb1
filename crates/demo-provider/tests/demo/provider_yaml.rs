//! The provider file parses as a Patchbay provider and points at the server.

use patchbay_demo_provider::{DemoOptions, DemoProvider, ProviderYamlOptions, SCOPES, TokenEndpointAuth};
use patchbay_domain::provider::{AuthMode, Provider, TokenEndpointAuth as FileAuth};
use secrecy::ExposeSecret;

fn parse(yaml: &str) -> Provider {
    yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

#[tokio::test]
async fn default_file_is_an_oauth2_provider_pointing_here() {
    let demo = DemoProvider::start(DemoOptions::default()).await;
    let yaml = demo.provider_yaml("demo-cloud", ProviderYamlOptions::default());
    let p = parse(&yaml);
    let base = demo.base_url();
    assert_eq!(p.id, "demo-cloud");
    assert_eq!(p.display_name, "Demo Cloud");
    assert_eq!(p.auth_mode, AuthMode::Oauth2);
    assert_eq!(p.authorization_url.as_deref(), Some(demo.authorization_url().as_str()));
    assert_eq!(p.token_url.as_deref(), Some(demo.token_url().as_str()));
    assert_eq!(p.revocation_url.as_deref(), Some(demo.revocation_url().as_str()));
    assert_eq!(p.issuer.as_deref(), Some(base.as_str()));
    assert_eq!(p.api_base_url.as_deref(), Some(base.as_str()));
    assert_eq!(p.client_id.as_deref(), Some(demo.client_id()));
    assert_eq!(p.client_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some(demo.client_secret()));
    assert_eq!(p.token_endpoint_auth, FileAuth::ClientSecretBasic);
    assert!(p.pkce && p.granular_scopes);
    assert_eq!(p.default_scopes, vec!["profile".to_owned()]);
    assert!(p.grant_lifetime.is_none());
    assert_eq!(p.scopes.len(), SCOPES.len());
    for (scope, description) in SCOPES {
        assert_eq!(p.scopes[*scope], *description);
    }
    let verify = p.verify.as_ref().unwrap();
    assert_eq!((verify.method.as_str(), verify.path.as_str()), ("GET", "/api/me"));
    assert_eq!(verify.account, vec!["/email".to_owned()]);
    let modules: Vec<(&str, &str, Vec<String>)> =
        p.modules.iter().map(|(id, m)| (id.as_str(), m.name.as_str(), m.scopes.clone())).collect();
    assert_eq!(
        modules,
        vec![
            ("create_item", "Create an item", vec!["items:write".to_owned()]),
            ("delete_item", "Delete an item", vec!["items:delete".to_owned()]),
            ("get_profile", "Get my profile", vec!["profile".to_owned()]),
            ("watch_items", "Watch items", vec!["items:read".to_owned()]),
        ]
    );
    for module in p.modules.values() {
        for scope in &module.scopes {
            assert!(p.scopes.contains_key(scope), "{scope} is declared");
        }
    }
}

#[tokio::test]
async fn variants_parse() {
    let demo =
        DemoProvider::start(DemoOptions { token_endpoint_auth: TokenEndpointAuth::Post, ..DemoOptions::default() })
            .await;
    let p = parse(&demo.provider_yaml("demo", ProviderYamlOptions::default()));
    assert_eq!(p.token_endpoint_auth, FileAuth::ClientSecretPost, "follows the server");

    let p = parse(&demo.provider_yaml(
        "demo",
        ProviderYamlOptions {
            granular: false,
            grant_lifetime: Some("60d"),
            pkce: false,
            token_endpoint_auth: Some("client_secret_basic"),
            ..ProviderYamlOptions::default()
        },
    ));
    assert!(!p.granular_scopes && !p.pkce);
    assert_eq!(p.grant_lifetime.map(|l| l.seconds), Some(60 * 86_400));
    assert_eq!(p.token_endpoint_auth, FileAuth::ClientSecretBasic);

    let p = parse(&demo.provider_yaml(
        "demo-service",
        ProviderYamlOptions { client_credentials: true, ..ProviderYamlOptions::default() },
    ));
    assert_eq!(p.auth_mode, AuthMode::Oauth2ClientCredentials);
    assert!(p.authorization_url.is_none());
    assert!(p.token_url.is_some());
}
