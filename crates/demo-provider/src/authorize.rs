//! `GET /oauth/authorize` and the consent form `POST /oauth/authorize/decision`
//! (RFC 6749 §4.1.1–4.1.2, RFC 7636, RFC 9207).
//!
//! A request whose `client_id` or `redirect_uri` is wrong gets an error *page*: redirecting to an
//! unverified URI would make the server an open redirector (§4.1.2.1). Every other problem is
//! sent back to the client as `redirect_uri?error=…&state=…&iss=…`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;
use url::form_urlencoded;

use crate::consent::{ConsentView, consent_page, error_page, html_response};
use crate::crypto::is_pkce_value;
use crate::knobs::{Decision, IssParam};
use crate::ledger::AuthorizeRecord;
use crate::registration::{check_resource, find_client};
use crate::scopes::{DEFAULT_SCOPE, parse_scope, unknown_scopes};
use crate::state::{AuthorizeRequest, Inner, Shared};

/// Why an authorize request cannot go on.
enum Refusal {
    /// Shown to the user; nothing is sent to the client.
    Page(String),
    /// Sent back to the client's (verified) redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: String },
}

/// `GET /oauth/authorize`.
pub(crate) async fn authorize(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut inner = shared.lock();
    inner.ledger.authorize_requests.push(AuthorizeRecord { params: params.clone() });
    let request = match validate(&shared, &params) {
        Ok(request) => request,
        Err(Refusal::Page(message)) => {
            tracing::debug!(%message, "demo provider: authorize request refused");
            return html_response(StatusCode::BAD_REQUEST, error_page("This request cannot be completed", &message));
        }
        Err(Refusal::Redirect { redirect_uri, state, error, description }) => {
            return error_redirect(&shared, &inner, &redirect_uri, error, &description, state.as_deref());
        }
    };
    if let Some(decision) = inner.auto_decision {
        let account = inner.login_as.clone();
        return decide(&shared, &mut inner, request, decision, account, None);
    }
    let requested = request.scopes.clone();
    let checked = inner.narrow(&requested);
    let redirect_host = Url::parse(&request.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(|h| u.port().map_or(h.to_owned(), |p| format!("{h}:{p}"))))
        .unwrap_or_default();
    let client_id = request.client_id.clone();
    let account = inner.login_as.clone();
    let (request_id, nonce) = inner.add_pending(request);
    drop(inner);
    let html = consent_page(&ConsentView {
        client_id: &client_id,
        account: &account,
        scopes: requested.iter().map(|s| (s.as_str(), checked.contains(s))).collect(),
        redirect_host: &redirect_host,
        request_id: &request_id,
        nonce: &nonce,
    });
    html_response(StatusCode::OK, html)
}

/// `POST /oauth/authorize/decision`: the consent form.
pub(crate) async fn decision(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mut request_id = None;
    let mut nonce = None;
    let mut decision = None;
    let mut account = None;
    let mut chose_scopes = false;
    let mut chosen = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match &*key {
            "request_id" => request_id = Some(value.into_owned()),
            "nonce" => nonce = Some(value.into_owned()),
            "decision" => decision = Some(value.into_owned()),
            "account" => account = Some(value.trim().to_owned()),
            "scope_choice" => chose_scopes = true,
            "scope" => chosen.push(value.into_owned()),
            _ => {}
        }
    }
    let decision = match decision.as_deref() {
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => {
            return html_response(
                StatusCode::BAD_REQUEST,
                error_page("Choose Allow or Deny", "The form was sent without a choice."),
            );
        }
    };
    let mut inner = shared.lock();
    let request = match (request_id, nonce) {
        (Some(id), Some(nonce)) => inner.take_pending(&id, &nonce),
        _ => None,
    };
    let Some(request) = request else {
        return html_response(
            StatusCode::BAD_REQUEST,
            error_page(
                "This consent request has expired",
                "It was already answered, it is older than ten minutes, or the form was altered.",
            ),
        );
    };
    let account = account.filter(|a| !a.is_empty() && a.len() <= 254).unwrap_or_else(|| inner.login_as.clone());
    decide(&shared, &mut inner, request, decision, account, chose_scopes.then_some(chosen))
}

/// Answers the client: a code on Allow, `access_denied` on Deny or when nothing was granted.
/// `chosen` are the scopes ticked on the page (`None`: all requested ones).
fn decide(
    shared: &Shared,
    inner: &mut Inner,
    request: AuthorizeRequest,
    decision: Decision,
    account: String,
    chosen: Option<Vec<String>>,
) -> Response {
    let redirect_uri = request.redirect_uri.clone();
    let state = request.state.clone();
    let denied = |inner: &Inner, description: &str| {
        error_redirect(shared, inner, &redirect_uri, "access_denied", description, state.as_deref())
    };
    if decision == Decision::Deny {
        return denied(inner, "The user denied access");
    }
    let mut granted = inner.narrow(&request.scopes);
    if let Some(chosen) = chosen {
        granted.retain(|s| chosen.contains(s));
    }
    if granted.is_empty() {
        return denied(inner, "The user granted no permissions");
    }
    let code = inner.issue_code(request, account, granted);
    let mut params = vec![("code", code)];
    if let Some(state) = &state {
        params.push(("state", state.clone()));
    }
    redirect(shared, inner, &redirect_uri, params)
}

fn error_redirect(
    shared: &Shared,
    inner: &Inner,
    redirect_uri: &str,
    error: &'static str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut params = vec![("error", error.to_owned()), ("error_description", description.to_owned())];
    if let Some(state) = state {
        params.push(("state", state.to_owned()));
    }
    redirect(shared, inner, redirect_uri, params)
}

/// `303 See Other` to `redirect_uri` with `params` (and `iss`) appended to its query.
fn redirect(shared: &Shared, inner: &Inner, redirect_uri: &str, mut params: Vec<(&str, String)>) -> Response {
    match &inner.iss_param {
        IssParam::Issuer => params.push(("iss", shared.issuer.clone())),
        IssParam::Value(v) => params.push(("iss", v.clone())),
        IssParam::Omit => {}
    }
    let Ok(mut url) = Url::parse(redirect_uri) else {
        // validate() only lets parseable URIs through.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in &params {
            query.append_pair(k, v);
        }
    }
    let Ok(location) = HeaderValue::from_str(url.as_str()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Checks an authorize request in the order RFC 6749 §4.1.2.1 implies: client and redirect URI
/// first (page), then the rest (redirect).
fn validate(shared: &Shared, params: &[(String, String)]) -> Result<AuthorizeRequest, Refusal> {
    let params = Params(params);
    let (client_id, redirect_uri) = client_and_redirect_uri(shared, &params)?;
    let state = params.single("state").ok().flatten().map(str::to_owned);
    let (code_challenge, scopes) = redirectable_checks(&params, shared.options.require_pkce)
        .and_then(|checked| {
            let resource = params
                .single("resource")
                .map_err(|Repeated| bounce("invalid_target", "resource appears more than once"))?;
            check_resource(shared, resource).map_err(|e| bounce("invalid_target", e))?;
            Ok(checked)
        })
        .map_err(|bounce| Refusal::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error: bounce.error,
            description: bounce.description,
        })?;
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        code_challenge,
        scopes,
    })
}

/// The query parameters of an authorize request.
struct Params<'a>(&'a [(String, String)]);

/// A parameter that appears more than once.
struct Repeated;

impl<'a> Params<'a> {
    /// The value of a parameter that may appear at most once.
    fn single(&self, name: &str) -> Result<Option<&'a str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        match values.next() {
            None => Ok(first),
            Some(_) => Err(Repeated),
        }
    }
}

/// A problem reported to the client on its (verified) redirect URI: an OAuth error code and its
/// description.
struct Bounce {
    error: &'static str,
    description: String,
}

fn bounce(error: &'static str, description: impl Into<String>) -> Bounce {
    Bounce { error, description: description.into() }
}

/// The client and its redirect URI, which must be right before anything can be sent back to it.
fn client_and_redirect_uri<'a>(shared: &Shared, params: &Params<'a>) -> Result<(&'a str, &'a str), Refusal> {
    let client_id = match params.single("client_id") {
        Ok(Some(id)) if !id.is_empty() => id,
        Ok(_) => return Err(Refusal::Page("The request has no client_id.".into())),
        Err(Repeated) => return Err(Refusal::Page("client_id appears more than once.".into())),
    };
    let Some(client) = find_client(shared, client_id) else {
        return Err(Refusal::Page(format!("Demo Cloud does not know the application `{client_id}`.")));
    };
    let redirect_uri = match params.single("redirect_uri") {
        Ok(Some(uri)) if !uri.is_empty() => uri,
        Ok(_) => return Err(Refusal::Page("The request has no redirect_uri.".into())),
        Err(Repeated) => return Err(Refusal::Page("redirect_uri appears more than once.".into())),
    };
    check_redirect_uri(redirect_uri, &client.redirect_uris).map_err(Refusal::Page)?;
    Ok((client_id, redirect_uri))
}

/// The checks whose failures go back to the client, in order: no repeated parameter, `code`
/// response type, PKCE, known scopes. Returns the code challenge and the requested scopes.
fn redirectable_checks(params: &Params<'_>, require_pkce: bool) -> Result<(Option<String>, Vec<String>), Bounce> {
    let all = params.0;
    if let Some((name, _)) = all.iter().find(|(name, _)| all.iter().filter(|(k, _)| k == name).count() > 1) {
        return Err(bounce("invalid_request", format!("the parameter `{name}` appears more than once")));
    }
    match params.single("response_type") {
        Ok(Some("code")) => {}
        Ok(Some(other)) => {
            return Err(bounce(
                "unsupported_response_type",
                format!("response_type `{other}` is not supported; use `code`"),
            ));
        }
        _ => return Err(bounce("invalid_request", "response_type is required")),
    }
    let code_challenge = code_challenge(params, require_pkce)?;
    Ok((code_challenge, requested_scopes(params)?))
}

/// The PKCE challenge (RFC 7636 §4.3): S256 only, required when the server is set to.
fn code_challenge(params: &Params<'_>, require_pkce: bool) -> Result<Option<String>, Bounce> {
    let challenge = params.single("code_challenge").ok().flatten();
    let method = params.single("code_challenge_method").ok().flatten();
    match (challenge, method) {
        (None, None) if require_pkce => Err(bounce("invalid_request", "code_challenge is required (PKCE with S256)")),
        (None, None) => Ok(None),
        (Some(c), Some("S256")) if is_pkce_value(c) => Ok(Some(c.to_owned())),
        (Some(_), Some("S256")) => {
            Err(bounce("invalid_request", "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]"))
        }
        (Some(_), None | Some("plain")) => {
            Err(bounce("invalid_request", "code_challenge_method must be S256 (plain is not supported)"))
        }
        (None, Some(_)) => Err(bounce("invalid_request", "code_challenge_method without code_challenge")),
        (Some(_), Some(other)) => {
            Err(bounce("invalid_request", format!("code_challenge_method `{other}` is not supported; use S256")))
        }
    }
}

/// The requested scopes (the default one when none), all of which must be known.
fn requested_scopes(params: &Params<'_>) -> Result<Vec<String>, Bounce> {
    let mut scopes = parse_scope(params.single("scope").ok().flatten().unwrap_or_default());
    if scopes.is_empty() {
        scopes.push(DEFAULT_SCOPE.to_owned());
    }
    let unknown = unknown_scopes(&scopes);
    if !unknown.is_empty() {
        return Err(bounce("invalid_scope", format!("unknown scope: {}", unknown.join(" "))));
    }
    Ok(scopes)
}

/// An absolute http(s) URL without a fragment, one of `registered` when that list is not empty.
fn check_redirect_uri(uri: &str, registered: &[String]) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|_| format!("redirect_uri `{uri}` is not an absolute URL."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("redirect_uri `{uri}` must be an http(s) URL."));
    }
    if url.fragment().is_some() {
        return Err(format!("redirect_uri `{uri}` must not contain a fragment."));
    }
    if !registered.is_empty() && !registered.iter().any(|r| r == uri) {
        return Err(format!("redirect_uri `{uri}` is not registered for this application."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked() {
        assert!(check_redirect_uri("http://127.0.0.1:9/cb?x=1", &[]).is_ok());
        assert!(check_redirect_uri("https://app.example/cb", &[]).is_ok());
        assert!(check_redirect_uri("/cb", &[]).is_err());
        assert!(check_redirect_uri("javascript:alert(1)", &[]).is_err());
        assert!(check_redirect_uri("http://a.example/cb#frag", &[]).is_err());
        let registered = vec!["https://app.example/cb".to_owned()];
        assert!(check_redirect_uri("https://app.example/cb", &registered).is_ok());
        assert!(check_redirect_uri("https://app.example/cb2", &registered).is_err());
    }
}
