//! Credential calls: put a connection's credential on a request ([`apply_credential`]) and run the
//! provider's identity/test call ([`verify_credential`]).
//!
//! A credential is only ever attached to a request whose URL is under the provider's own
//! `api_base_url` host (docs/security.md N-03): [`verify_credential`] builds its URL with
//! [`crate::api_url::api_url`], and [`apply_credential`] refuses any other host before it
//! touches the secret.

use std::collections::BTreeMap;

use patchbay_domain::credential::Credential;
use patchbay_domain::provider::{DEFAULT_VERIFY_CONTENT_TYPE, KeyLocation, Provider, Scalar, VerifyCall};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use crate::header_template;
use crate::http::{GuardedClient, HttpError};
use crate::mask::Masker;
use crate::template::{self, Label, UrlTemplate};

/// Longest provider error text or account label kept.
const MAX_TEXT: usize = 200;

/// Where provider APIs usually put a human-readable error, tried in order.
const ERROR_POINTERS: &[&str] = &[
    "/error/message",
    "/error_description",
    "/message",
    "/Message",
    "/detail",
    "/errors/0/message",
    "/errors/0/detail",
    "/error",
    "/title",
];

/// The result of a verify call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The provider accepted the credential.
    Ok {
        /// The account label from the first `verify.account` pointer that named one.
        account: Option<String>,
        /// The stable account id at `verify.account_id`, when declared and present.
        account_id: Option<String>,
    },
    /// The provider said the credential is wrong (HTTP 401 or 403).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// What the provider said, shortened; never contains the secret.
        message: String,
    },
    /// The check could not be completed (5xx, timeout, blocked address, unexpected reply...): the
    /// credential may be fine.
    Failed {
        /// What went wrong and what to do.
        message: String,
    },
}

impl VerifyOutcome {
    /// Whether the credential was accepted.
    pub fn is_ok(&self) -> bool {
        matches!(self, VerifyOutcome::Ok { .. })
    }
}

/// Puts `credential` on `request` the way `provider` expects, plus the provider's `headers`,
/// without a connection's settings: the host must fit one of the provider's API base URLs with
/// any single DNS label (or listed choice) in place of a host placeholder, and templated headers
/// naming a setting are left out. Calls made for a connection use
/// [`apply_connection_credential`], which binds the host to that connection's own settings.
///
/// # Errors
/// [`HttpError::Blocked`] when the request's URL is not on one of the provider's API hosts
/// (N-03): the credential is not attached.
pub fn apply_credential(
    request: reqwest::RequestBuilder,
    provider: &Provider,
    credential: &Credential,
) -> Result<reqwest::RequestBuilder, HttpError> {
    attach(request, provider, &BTreeMap::new(), credential, Bind::AnyLabel, None)
}

/// Puts `credential` on `request` for a connection with these `settings`:
///
/// - API key: in the header named by `api_key` (with its prefix) or as a query parameter; a
///   provider without `api_key` gets `Authorization: Bearer <key>`.
/// - Basic: HTTP basic auth; a provider with `basic.fixed_username` always sends that username.
/// - OAuth 2: `Authorization: Bearer <access token>`, or the header and prefix of `oauth_token`.
///
/// The provider's `headers` are added, their `{setting}` / `{client_id}` placeholders filled in
/// from the connection (a header whose placeholder has no value is left out). Header values
/// carrying a secret are marked sensitive (hyper then keeps them out of HPACK tables and debug
/// output).
///
/// # Errors
/// [`HttpError::Blocked`] when the request's URL is not exactly the scheme, host and port of the
/// provider's `api_base_url` or of one of its `api_hosts`, rendered with these settings (N-03):
/// the credential is not attached. Build URLs with [`crate::api_url::api_url_on`].
pub fn apply_connection_credential(
    request: reqwest::RequestBuilder,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    credential: &Credential,
) -> Result<reqwest::RequestBuilder, HttpError> {
    attach(request, provider, settings, credential, Bind::Settings, None)
}

/// How strictly a URL's host is matched against the provider's API bases.
#[derive(Clone, Copy)]
enum Bind {
    /// Rendered with the connection's settings: exactly that host.
    Settings,
    /// No settings at hand: any value a placeholder could take.
    AnyLabel,
}

/// Binds the request to the provider's hosts and attaches its headers and the credential. An
/// OAuth token goes where `oauth_token` says, or as `Authorization: <token_prefix><token>` when
/// the call names its own prefix (a verify call's `token_prefix`).
fn attach(
    request: reqwest::RequestBuilder,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    credential: &Credential,
    bind: Bind,
    token_prefix: Option<&str>,
) -> Result<reqwest::RequestBuilder, HttpError> {
    let (client, built) = request.build_split();
    let built = built.map_err(|e| HttpError::Other { host: String::new(), message: crate::http::describe(&e) })?;
    match bind {
        Bind::Settings => check_bound_host(provider, settings, built.url())?,
        Bind::AnyLabel => check_credential_host(provider, built.url())?,
    }
    let mut request = reqwest::RequestBuilder::from_parts(client, built);
    for (name, value) in &provider.headers {
        if let Some(value) = header_template::render(value, provider, settings) {
            request = request.header(name.as_str(), value);
        }
    }
    Ok(match credential {
        Credential::ApiKey { key } => match &provider.api_key {
            Some(p) if p.location == KeyLocation::Query => request.query(&[(p.name.as_str(), key.expose_secret())]),
            Some(p) => {
                let value = sensitive(&format!("{}{}", p.prefix, key.expose_secret()));
                request.header(p.name.as_str(), value)
            }
            None => request.bearer_auth(key.expose_secret()),
        },
        Credential::Basic { username, password } => {
            let fixed = provider.basic.as_ref().and_then(|b| b.fixed_username.as_deref());
            let username = fixed.unwrap_or_else(|| username.expose_secret());
            request.basic_auth(username, Some(password.expose_secret()))
        }
        Credential::OAuth2 { access_token, .. } => match (token_prefix, &provider.oauth_token) {
            (Some(prefix), _) => request
                .header(http::header::AUTHORIZATION, sensitive(&format!("{prefix}{}", access_token.expose_secret()))),
            (None, Some(place)) => {
                let value = sensitive(&format!("{}{}", place.prefix, access_token.expose_secret()));
                request.header(place.header.as_str(), value)
            }
            (None, None) => request.bearer_auth(access_token.expose_secret()),
        },
    })
}

/// A header value marked sensitive. An invalid value (a newline in a key) becomes an empty,
/// sensitive value; the provider then rejects the call, and no error message ever holds the key.
fn sensitive(value: &str) -> http::HeaderValue {
    let mut v = http::HeaderValue::from_str(value).unwrap_or_else(|_| http::HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

fn refuse_not_declared(provider: &Provider, host: &str) -> HttpError {
    let reason = if provider.api_hosts.is_empty() {
        format!(
            "it is not the API host declared by provider `{}`; credentials are only sent to its api_base_url",
            provider.id
        )
    } else {
        format!(
            "it is not an API host declared by provider `{}`; credentials are only sent to its api_base_url \
             and api_hosts",
            provider.id
        )
    };
    HttpError::Blocked { host: host.to_owned(), reason }
}

fn no_base(provider: &Provider, host: &str) -> HttpError {
    HttpError::Blocked {
        host: host.to_owned(),
        reason: format!("provider `{}` declares no api_base_url, so no host may receive its credentials", provider.id),
    }
}

/// N-03 for a connection: the URL's scheme, host and port must be those of one of the provider's
/// credential bases rendered with the connection's settings.
fn check_bound_host(provider: &Provider, settings: &BTreeMap<String, String>, url: &Url) -> Result<(), HttpError> {
    let host = url.host_str().unwrap_or_default();
    if provider.api_base_url.is_none() {
        return Err(no_base(provider, host));
    }
    let fits = provider.credential_bases().any(|base| {
        crate::metadata::render(provider, base, settings).is_ok_and(|b| {
            b.scheme() == url.scheme()
                && b.host_str() == url.host_str()
                && b.port_or_known_default() == url.port_or_known_default()
        })
    });
    if fits { Ok(()) } else { Err(refuse_not_declared(provider, host)) }
}

/// N-03 without settings: the URL must be `https` (or loopback `http`) on the host of one of the
/// provider's credential bases, where a host placeholder matches any single DNS label (any listed
/// value for a closed-choice setting). An instance-URL base matches nothing here: without the
/// connection's setting there is no host to compare with.
fn check_credential_host(provider: &Provider, url: &Url) -> Result<(), HttpError> {
    let host = url.host_str().unwrap_or_default();
    if provider.api_base_url.is_none() {
        return Err(no_base(provider, host));
    }
    // An origin taken from metadata (`{instance_url}/...`): vetted against `metadata_hosts`.
    if let Some(allowed) = crate::metadata::credential_origin_allowed(provider, url) {
        return if allowed {
            Ok(())
        } else {
            Err(HttpError::Blocked {
                host: host.to_owned(),
                reason: format!(
                    "it is not on a host provider `{}` allows for its API (metadata_hosts); credentials are only sent there",
                    provider.id
                ),
            })
        };
    }
    let labels: Vec<&str> = host.split('.').collect();
    let fits = provider.credential_bases().any(|base| {
        let Ok(template) = UrlTemplate::parse(base) else { return false };
        if template.origin.is_some() {
            return false;
        }
        let port_matches = url.port_or_known_default()
            == template.port.or(match template.scheme.as_str() {
                "https" => Some(443),
                "http" => Some(80),
                _ => None,
            });
        port_matches && url.scheme() == template.scheme && host_fits(provider, &template.host, &labels)
    });
    if fits { Ok(()) } else { Err(refuse_not_declared(provider, host)) }
}

/// Whether `labels` spell the templated host `pattern`.
fn host_fits(provider: &Provider, pattern: &[Label], labels: &[&str]) -> bool {
    let Some((first, rest)) = pattern.split_first() else { return labels.is_empty() };
    match first {
        Label::Fixed(f) => labels.first().is_some_and(|l| l == f) && host_fits(provider, rest, &labels[1..]),
        Label::Setting(key) => match provider.setting(key).filter(|d| d.closed_choices()) {
            Some(decl) => decl.choices.iter().any(|c| {
                let n = c.value.split('.').count();
                labels.len() >= n && labels[..n].join(".") == c.value && host_fits(provider, rest, &labels[n..])
            }),
            None => {
                labels.first().is_some_and(|l| template::is_dns_label(l)) && host_fits(provider, rest, &labels[1..])
            }
        },
    }
}

/// Calls the provider's `verify` endpoint with `credential` and reports whether it works and
/// which account it belongs to.
///
/// A provider without a `verify` call cannot be checked: the outcome is `Failed` saying so (the
/// caller may decide to accept such credentials unverified).
pub async fn verify_credential(
    client: &GuardedClient,
    provider: &Provider,
    settings: &BTreeMap<String, String>,
    credential: &Credential,
) -> VerifyOutcome {
    let name = &provider.display_name;
    let Some(call) = &provider.verify else {
        return VerifyOutcome::Failed {
            message: format!("{name} declares no verify call, so Patchbay cannot check this credential"),
        };
    };
    let url = match template::render_path(&call.path, settings)
        .and_then(|path| crate::api_url::api_url_on(provider, call.host.as_deref(), settings, &path))
    {
        Ok(url) => url,
        Err(e) => {
            return VerifyOutcome::Failed { message: format!("cannot build the verify URL for {name}: {e}") };
        }
    };
    let method = http::Method::from_bytes(call.method.as_bytes()).unwrap_or(http::Method::GET);
    let response = async {
        let mut request = client.request(method, url)?;
        // The provider's own Accept (GitHub's vnd.github+json) wins over the generic one.
        if !provider.headers.keys().any(|h| h.eq_ignore_ascii_case("accept")) {
            request = request.header(http::header::ACCEPT, "application/json");
        }
        if let Some(body) = &call.body {
            // Sent byte for byte: Dropbox wants the four bytes `null`, a GraphQL API its query.
            let content_type = call.content_type.as_deref().unwrap_or(DEFAULT_VERIFY_CONTENT_TYPE);
            request = request.header(http::header::CONTENT_TYPE, content_type).body(body.clone());
        }
        let request = attach(request, provider, settings, credential, Bind::Settings, call.token_prefix.as_deref())?;
        client.fetch(request).await
    }
    .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(provider = %provider.id, error = %e, "verify call failed");
            return VerifyOutcome::Failed { message: format!("could not reach {name}: {e}") };
        }
    };
    let status = response.status;
    let masker = credential_masker(credential);
    if status.is_success() {
        if let Some(rejected) = success_predicate_fails(name, call, &response.body, &masker) {
            tracing::info!(provider = %provider.id, "verify call answered 2xx but its success predicate failed");
            return rejected;
        }
        return account_outcome(name, call, settings, &response.body);
    }
    let said = provider_message(&response.body, &masker);
    let said = said.map(|m| format!(": {m}")).unwrap_or_default();
    let code = status.as_u16();
    tracing::info!(provider = %provider.id, status = code, "verify call answered with an error");
    match code {
        401 | 403 => VerifyOutcome::Rejected {
            status: code,
            message: format!("{name} rejected the credential (HTTP {code}){said}"),
        },
        429 => VerifyOutcome::Failed {
            message: format!("{name} is rate limiting requests (HTTP 429){said}; try again in a minute"),
        },
        500..=599 => {
            VerifyOutcome::Failed { message: format!("{name} had a server error (HTTP {code}){said}; try again later") }
        }
        _ => VerifyOutcome::Failed {
            message: format!(
                "{name} answered HTTP {code}{said}; check the connection's settings (e.g. subdomain or region)"
            ),
        },
    }
}

/// `verify.success`: a 2xx whose reply does not hold the declared value is a refusal (Slack's
/// `auth.test` says `{"ok": false, "error": "invalid_auth"}` with HTTP 200 for a dead token).
/// A reply that is not JSON cannot prove success either, so it fails the predicate too.
fn success_predicate_fails(name: &str, call: &VerifyCall, body: &[u8], masker: &Masker) -> Option<VerifyOutcome> {
    let want = call.success.as_ref()?;
    let json = serde_json::from_slice::<Value>(body).ok();
    let got = json.as_ref().and_then(|j| j.pointer(&want.pointer));
    let holds = match (&want.equals, got) {
        (Scalar::Bool(b), Some(Value::Bool(g))) => b == g,
        (Scalar::Integer(i), Some(Value::Number(n))) => n.as_i64() == Some(*i),
        (Scalar::Text(t), Some(Value::String(g))) => t == g,
        _ => false,
    };
    if holds {
        return None;
    }
    let said = json
        .as_ref()
        .and_then(|j| match &want.error {
            Some(p) => j.pointer(p).and_then(Value::as_str).map(str::to_owned),
            None => provider_message(body, masker),
        })
        .map(|m| format!(": {}", clean(&masker.mask(&m))))
        .unwrap_or_default();
    Some(VerifyOutcome::Rejected {
        status: 200,
        message: format!(
            "{name} answered but did not accept the credential (`{}` is not as expected){said}",
            want.pointer
        ),
    })
}

fn account_outcome(name: &str, call: &VerifyCall, values: &BTreeMap<String, String>, body: &[u8]) -> VerifyOutcome {
    if call.account.is_empty() && call.account_id.is_none() {
        return VerifyOutcome::Ok { account: None, account_id: None };
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return VerifyOutcome::Failed {
            message: format!("{name} accepted the credential but its reply is not JSON, so the account is unknown"),
        };
    };
    // `{key}` names a setting or metadata value instead of a place in the reply (Notion's
    // workspace from its token reply); see docs/providers.md.
    let scalar = |p: &str| match p.strip_prefix('{').and_then(|k| k.strip_suffix('}')) {
        Some(key) => values.get(key).filter(|v| !v.trim().is_empty()).map(|v| clean(v)),
        None => match json.pointer(p) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(clean(s)),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    };
    let account = call.account.iter().find_map(|p| scalar(p));
    let account_id = call.account_id.as_deref().and_then(scalar);
    VerifyOutcome::Ok { account, account_id }
}

/// The provider's own error text, if short and present; the secret is masked out of it.
fn provider_message(body: &[u8], masker: &Masker) -> Option<String> {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => ERROR_POINTERS
            .iter()
            .find_map(|p| json.pointer(p).and_then(Value::as_str).filter(|s| !s.trim().is_empty()))?
            .to_owned(),
        Err(_) => {
            let text = std::str::from_utf8(body).ok()?.trim();
            // An HTML error page says nothing useful in one line.
            if text.is_empty() || text.starts_with('<') {
                return None;
            }
            text.to_owned()
        }
    };
    Some(clean(&masker.mask(&text)))
}

/// A masker for every field of a credential, plus the `username:password` pair of a basic
/// credential (masked in its header form). The username is masked too: several services put
/// the API key itself there (Freshdesk, Mailjet's key id), and hiding a login in a provider's
/// error text costs little.
fn credential_masker(credential: &Credential) -> Masker {
    let mut masker = Masker::new(credential.fields().into_iter().map(|(_, s)| s.expose_secret()));
    if let Credential::Basic { username, password } = credential {
        masker.add_basic(username.expose_secret(), password.expose_secret());
    }
    masker
}

/// One line, no control characters, at most [`MAX_TEXT`] characters.
fn clean(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.chars().count() > MAX_TEXT {
        let cut: String = one_line.chars().take(MAX_TEXT - 1).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_messages_are_found_masked_and_shortened() {
        let s = Masker::new(["sk-live-123"]);
        let m = |b: &str| provider_message(b.as_bytes(), &s);
        assert_eq!(m(r#"{"error":{"message":"Invalid key sk-live-123"}}"#).unwrap(), "Invalid key [redacted]");
        assert_eq!(
            m(r#"{"errors":[{"field":null,"message":"authorization required"}]}"#).unwrap(),
            "authorization required"
        );
        assert_eq!(m(r#"{"success":false,"error":"unauthorized access"}"#).unwrap(), "unauthorized access");
        assert_eq!(m("Forbidden\n").unwrap(), "Forbidden");
        assert_eq!(m("<html>nope</html>"), None);
        assert_eq!(m(&"x".repeat(500)).unwrap().chars().count(), MAX_TEXT);
    }

    #[test]
    fn a_basic_username_is_masked_too_as_some_services_put_the_key_there() {
        let key = "fd-KEY-CANARY-4242";
        let credential = Credential::Basic { username: key.to_owned().into(), password: "X".to_owned().into() };
        let m = credential_masker(&credential);
        let said = provider_message(format!(r#"{{"message":"API key {key} is invalid"}}"#).as_bytes(), &m);
        assert_eq!(said.as_deref(), Some("API key [redacted] is invalid"));
    }

    #[test]
    fn account_pointers_fall_back_in_order() {
        let body = br#"{"name":"","data":{"id":42,"email":"a@b.example"},"list":[{"n":"first"}]}"#;
        let ptr = |v: &[&str]| patchbay_domain::provider::VerifyCall {
            method: "GET".into(),
            path: "/me".into(),
            account: v.iter().map(|s| (*s).to_owned()).collect(),
            account_id: Some("/data/id".into()),
            host: None,
            body: None,
            content_type: None,
            success: None,
            token_prefix: None,
        };
        let values: BTreeMap<String, String> = [("workspace_name".to_owned(), "Ops HQ".to_owned())].into();
        let acct = |p: &[&str]| match account_outcome("X", &ptr(p), &values, body) {
            VerifyOutcome::Ok { account, account_id } => {
                assert_eq!(account_id.as_deref(), Some("42"));
                account
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(acct(&["/name", "/data/email"]), Some("a@b.example".into()));
        assert_eq!(acct(&["/missing", "/data/id"]), Some("42".into()));
        assert_eq!(acct(&["/list/0/n"]), Some("first".into()));
        assert_eq!(acct(&["/missing"]), None);
        // `{key}` takes the label from the connection's metadata or settings.
        assert_eq!(acct(&["{workspace_name}", "/data/email"]), Some("Ops HQ".into()));
        assert_eq!(acct(&["{missing}", "/data/email"]), Some("a@b.example".into()));
        assert!(matches!(account_outcome("X", &ptr(&["/a"]), &values, b"not json"), VerifyOutcome::Failed { .. }));
        let none = patchbay_domain::provider::VerifyCall { account_id: None, ..ptr(&[]) };
        assert_eq!(
            account_outcome("X", &none, &values, b"not json"),
            VerifyOutcome::Ok { account: None, account_id: None }
        );
    }
}
