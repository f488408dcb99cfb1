//! The pure rules of a connect-session request: the origins a result may be posted to, the
//! return URL (on one of those origins, as a `return_to` must be on Patchbay's own), and the
//! session's lifetime. No I/O.

use time::Duration;
use url::Url;

use crate::{ServiceError, ServiceResult};

/// A session lives this long unless `expires_in` says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::minutes(30);
/// The longest a session may live: the token is a bearer credential in a URL.
pub const MAX_LIFETIME: Duration = Duration::hours(1);
/// The shortest: a user needs time to find the consent screen.
pub const MIN_LIFETIME: Duration = Duration::minutes(1);
/// At most this many allowed origins.
const MAX_ORIGINS: usize = 10;
/// At most this long a return URL.
const MAX_URL: usize = 2048;

fn invalid(message: String) -> ServiceError {
    ServiceError::Invalid(message)
}

/// `expires_in` seconds, checked: 60 to 3600, default 1800.
pub(crate) fn lifetime(expires_in: Option<i64>) -> ServiceResult<Duration> {
    let Some(seconds) = expires_in else { return Ok(DEFAULT_LIFETIME) };
    let d = Duration::seconds(seconds);
    if d < MIN_LIFETIME || d > MAX_LIFETIME {
        return Err(invalid(format!(
            "`expires_in` is {seconds} seconds: give 60 to 3600 (at most one hour; default 1800)"
        )));
    }
    Ok(d)
}

/// An http(s) URL without credentials, parsed; `what` names the field in the error.
fn web_url(text: &str, what: &str) -> ServiceResult<Url> {
    let url = Url::parse(text.trim())
        .map_err(|_| invalid(format!("`{what}` is not an absolute URL: give e.g. https://app.example.com")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(invalid(format!("`{what}` must be an http or https URL with a host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!("`{what}` must not carry a user name or password")));
    }
    Ok(url)
}

/// The allowed origins, each exactly `scheme://host[:port]` (a trailing `/` is tolerated),
/// normalised (lower-case host, default port dropped) and deduplicated.
pub(crate) fn origins(given: &[String]) -> ServiceResult<Vec<String>> {
    if given.len() > MAX_ORIGINS {
        return Err(invalid(format!("`allowed_origins` has {} entries: give at most {MAX_ORIGINS}", given.len())));
    }
    let mut out: Vec<String> = Vec::new();
    for text in given {
        let url = web_url(text, "allowed_origins")?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(format!(
                "allowed origin `{}` has a path, query or fragment: give only scheme, host and port, e.g. https://app.example.com",
                text.trim()
            )));
        }
        let origin = url.origin().ascii_serialization();
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// The return URL: an http(s) URL without credentials or fragment whose origin is one of the
/// allowed origins (so a session cannot send the end user anywhere the platform did not name).
pub(crate) fn return_url(text: &str, origins: &[String]) -> ServiceResult<String> {
    if text.len() > MAX_URL {
        return Err(invalid(format!("`return_url` is longer than {MAX_URL} characters")));
    }
    let url = web_url(text, "return_url")?;
    if url.fragment().is_some() {
        return Err(invalid(
            "`return_url` must not have a fragment (`#…`): the outcome is appended to its query".into(),
        ));
    }
    let origin = url.origin().ascii_serialization();
    if !origins.contains(&origin) {
        return Err(invalid(format!(
            "`return_url` is on `{origin}`, which is not in `allowed_origins`: add the origin, or return to one of them"
        )));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: ServiceResult<impl std::fmt::Debug>) -> String {
        match r.unwrap_err() {
            ServiceError::Invalid(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_lifetime_defaults_to_half_an_hour_and_is_at_most_an_hour() {
        assert_eq!(lifetime(None).unwrap(), Duration::minutes(30));
        assert_eq!(lifetime(Some(3600)).unwrap(), Duration::hours(1));
        assert_eq!(lifetime(Some(60)).unwrap(), Duration::minutes(1));
        assert!(message(lifetime(Some(3601))).contains("60 to 3600"));
        assert!(message(lifetime(Some(0))).contains("60 to 3600"));
        assert!(message(lifetime(Some(-5))).contains("60 to 3600"));
    }

    #[test]
    fn origins_are_bare_normalised_and_deduplicated() {
        let given = [
            "https://App.Example.com/".to_owned(),
            "https://app.example.com:443".to_owned(),
            "http://127.0.0.1:9000".to_owned(),
        ];
        assert_eq!(origins(&given).unwrap(), ["https://app.example.com", "http://127.0.0.1:9000"]);
        assert!(message(origins(&["https://a.example/path".to_owned()])).contains("path, query or fragment"));
        assert!(message(origins(&["javascript:alert(1)".to_owned()])).contains("http or https"));
        assert!(message(origins(&["https://u:p@a.example".to_owned()])).contains("user name"));
        assert!(message(origins(&["*".to_owned()])).contains("absolute URL"));
        assert!(message(origins(&vec!["https://a.example".to_owned(); 11])).contains("at most 10"));
    }

    #[test]
    fn the_return_url_must_be_on_an_allowed_origin() {
        let allowed = origins(&["https://app.example.com".to_owned()]).unwrap();
        assert_eq!(
            return_url("https://app.example.com/done?x=1", &allowed).unwrap(),
            "https://app.example.com/done?x=1"
        );
        assert!(message(return_url("https://evil.example/done", &allowed)).contains("not in `allowed_origins`"));
        assert!(message(return_url("https://app.example.com.evil.example/", &allowed)).contains("not in"));
        assert!(message(return_url("http://app.example.com/done", &allowed)).contains("not in"), "another scheme");
        assert!(message(return_url("https://app.example.com/done#x", &allowed)).contains("fragment"));
        assert!(message(return_url("/done", &allowed)).contains("absolute URL"));
        assert!(message(return_url("https://app.example.com/done", &[])).contains("not in"));
    }
}
