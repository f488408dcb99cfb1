//! RFC 7591 dynamic client registration: Patchbay's name, its one exact redirect URI, the code
//! and refresh grants, and the best client authentication the server supports.

use patchbay_domain::SecretString;
use patchbay_domain::provider::TokenEndpointAuth;
use serde_json::json;
use url::Url;

use super::fetch::{Fields, object};
use super::{DiscoveryError, METADATA_LIMIT, ServerMetadata, short};
use crate::http::GuardedClient;

/// What Patchbay registers as.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    /// `client_name` (e.g. "Patchbay").
    pub client_name: String,
    /// The exact OAuth callback URL.
    pub redirect_uri: String,
}

/// The client the server issued.
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, sealed like any credential once stored.
    pub client_secret: Option<SecretString>,
    /// The authentication method registered.
    pub auth: TokenEndpointAuth,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("auth", &self.auth)
            .finish()
    }
}

/// `client_secret_basic` when offered (RFC 6749 §2.3.1 prefers it), else `client_secret_post`.
fn best_auth(server: &ServerMetadata) -> Result<TokenEndpointAuth, DiscoveryError> {
    let offered = |m: &str| server.token_endpoint_auth_methods.iter().any(|x| x == m);
    if offered("client_secret_basic") {
        Ok(TokenEndpointAuth::ClientSecretBasic)
    } else if offered("client_secret_post") {
        Ok(TokenEndpointAuth::ClientSecretPost)
    } else {
        Err(DiscoveryError::Metadata {
            what: "the authorization server metadata".into(),
            reason: format!(
                "it offers only {} at the token endpoint; Patchbay authenticates with client_secret_basic or \
                 client_secret_post",
                short(&server.token_endpoint_auth_methods.join(", "))
            ),
        })
    }
}

fn auth_word(auth: TokenEndpointAuth) -> &'static str {
    match auth {
        TokenEndpointAuth::ClientSecretBasic => "client_secret_basic",
        TokenEndpointAuth::ClientSecretPost => "client_secret_post",
        TokenEndpointAuth::None => "none",
    }
}

/// Registers Patchbay at the server's `registration_endpoint`.
///
/// # Errors
/// [`DiscoveryError::Metadata`] when the server has no registration endpoint or answers
/// something that is no registration; [`DiscoveryError::RegistrationRefused`] with the server's
/// error; [`DiscoveryError::Http`] for the guarded client's refusals.
pub async fn register(
    http: &GuardedClient,
    server: &ServerMetadata,
    registration: &ClientRegistration,
) -> Result<RegisteredClient, DiscoveryError> {
    let Some(endpoint) = server.registration_endpoint.as_deref() else {
        return Err(DiscoveryError::Metadata {
            what: "the authorization server metadata".into(),
            reason: "it has no `registration_endpoint`: give the client id and secret you registered yourself".into(),
        });
    };
    let auth = best_auth(server)?;
    let url = Url::parse(endpoint).map_err(|_| DiscoveryError::Metadata {
        what: "the authorization server metadata".into(),
        reason: "`registration_endpoint` is not an absolute URL".into(),
    })?;
    let what = format!("registering at {}", short(url.as_str()));
    let http_error = |error| DiscoveryError::Http { what: what.clone(), error };
    let body = json!({
        "client_name": registration.client_name,
        "redirect_uris": [registration.redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": auth_word(auth),
    });
    let request = http
        .request(http::Method::POST, url.clone())
        .map_err(http_error)?
        .header(http::header::ACCEPT, "application/json")
        .json(&body);
    let response = http.send(request).await.map_err(http_error)?;
    let status = response.status();
    let bytes = http.read_body_within(response, METADATA_LIMIT).await.map_err(http_error)?;
    let host = url.host_str().unwrap_or_default().to_owned();
    if !status.is_success() {
        let map = object(&bytes, &what).ok();
        let text = |k: &str| map.as_ref().and_then(|m| m.get(k)).and_then(|v| v.as_str()).map(short);
        return Err(DiscoveryError::RegistrationRefused {
            server: host,
            error: text("error").unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
            description: text("error_description"),
        });
    }
    let map = object(&bytes, &what)?;
    let fields = Fields { map: &map, what: &what };
    let client_id = fields.required("client_id")?;
    let client_secret = fields.string("client_secret")?.map(SecretString::from);
    // The server may register another method than asked (RFC 7591 §3.2.1): follow what it says.
    let auth = match fields.string("token_endpoint_auth_method")?.as_deref() {
        None => auth,
        Some("client_secret_basic") => TokenEndpointAuth::ClientSecretBasic,
        Some("client_secret_post") => TokenEndpointAuth::ClientSecretPost,
        Some(other) => {
            return Err(DiscoveryError::Metadata {
                what,
                reason: format!("the server registered the method `{}`, which Patchbay cannot use", short(other)),
            });
        }
    };
    if client_secret.is_none() {
        return Err(DiscoveryError::Metadata {
            what,
            reason: "the answer has no `client_secret` for a confidential client".into(),
        });
    }
    Ok(RegisteredClient { client_id, client_secret, auth })
}
