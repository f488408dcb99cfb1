//! The follow-up call after a grant (`context:`): one `GET` to a URL the file fixes, with the
//! new access token, whose JSON reply fills connection metadata (Mailchimp's data center from
//! its metadata endpoint, Xero's tenant from `/connections`, Atlassian's cloud id from
//! accessible-resources). The URL has no placeholders, so the token only goes to the host the
//! file vets; what the reply says is vetted like any metadata ([`crate::metadata::capture`]).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::provider::Provider;
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use crate::http::GuardedClient;
use crate::mask::Masker;

/// Runs the provider's `context` call, if it declares one; the metadata it yields, or why not
/// (a sentence naming the provider; never the token).
pub async fn learn_context(
    http: &GuardedClient,
    provider: &Provider,
    access_token: &SecretString,
) -> Result<BTreeMap<String, String>, String> {
    let Some(call) = &provider.context else { return Ok(BTreeMap::new()) };
    let name = &provider.display_name;
    let url = Url::parse(&call.url).map_err(|e| format!("{name}'s context URL is invalid: {e}"))?;
    let token = access_token.expose_secret();
    let mut value = http::HeaderValue::from_str(&format!("{}{token}", call.token_prefix))
        .map_err(|_| format!("{name} issued an access token that cannot be sent in a header"))?;
    value.set_sensitive(true);
    let request = http
        .request(http::Method::GET, url)
        .map_err(|e| format!("{name} context call: {e}"))?
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::AUTHORIZATION, value);
    let response = http.fetch(request).await.map_err(|e| format!("{name} context call: {e}"))?;
    if !response.status.is_success() {
        let text = Masker::new([token]).mask(&String::from_utf8_lossy(&response.body));
        return Err(format!(
            "{name} context call answered HTTP {}: {}",
            response.status.as_u16(),
            crate::oauth::short(&text)
        ));
    }
    let json: Value = serde_json::from_slice(&response.body)
        .map_err(|_| format!("{name} context call answered with a body that is not JSON"))?;
    crate::metadata::capture(provider, "context reply", &json, &call.metadata)
}
