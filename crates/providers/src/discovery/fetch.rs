//! One metadata GET through the guarded client: JSON object or a named error, `404` told apart
//! (the caller then tries the next well-known place).

use serde_json::{Map, Value};
use url::Url;

use super::{DiscoveryError, METADATA_LIMIT};
use crate::http::GuardedClient;

/// The answer to a metadata GET.
pub(crate) enum Fetched {
    /// `200` with a JSON object.
    Json(Map<String, Value>),
    /// `404` or `410`: nothing here.
    Absent,
}

/// GETs `url` and parses a JSON object; `what` names the document in errors.
pub(crate) async fn get_json(http: &GuardedClient, url: &Url, what: &str) -> Result<Fetched, DiscoveryError> {
    let http_error = |error| DiscoveryError::Http { what: what.to_owned(), error };
    let request = http.request(http::Method::GET, url.clone()).map_err(http_error)?;
    let response = http.send(request.header(http::header::ACCEPT, "application/json")).await.map_err(http_error)?;
    let status = response.status();
    if matches!(status.as_u16(), 404 | 410) {
        return Ok(Fetched::Absent);
    }
    let body = http.read_body_within(response, METADATA_LIMIT).await.map_err(http_error)?;
    if !status.is_success() {
        return Err(DiscoveryError::Metadata {
            what: what.to_owned(),
            reason: format!("the server answered HTTP {}", status.as_u16()),
        });
    }
    object(&body, what).map(Fetched::Json)
}

/// A body that must be one JSON object.
pub(crate) fn object(body: &[u8], what: &str) -> Result<Map<String, Value>, DiscoveryError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DiscoveryError::Metadata { what: what.to_owned(), reason: "it is not a JSON object".into() }),
        Err(_) => Err(DiscoveryError::Metadata { what: what.to_owned(), reason: "it is not valid JSON".into() }),
    }
}

/// Field readers that say which field is wrong.
pub(crate) struct Fields<'a> {
    pub map: &'a Map<String, Value>,
    pub what: &'a str,
}

impl Fields<'_> {
    fn wrong(&self, field: &str, expected: &str) -> DiscoveryError {
        DiscoveryError::Metadata { what: self.what.to_owned(), reason: format!("`{field}` must be {expected}") }
    }

    /// An optional string field.
    pub fn string(&self, field: &str) -> Result<Option<String>, DiscoveryError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(field, "a non-empty string")),
        }
    }

    /// A required string field.
    pub fn required(&self, field: &str) -> Result<String, DiscoveryError> {
        self.string(field)?.ok_or_else(|| DiscoveryError::Metadata {
            what: self.what.to_owned(),
            reason: format!("`{field}` is missing"),
        })
    }

    /// An optional list of strings (absent is `None`).
    pub fn list(&self, field: &str) -> Result<Option<Vec<String>>, DiscoveryError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.wrong(field, "a list of non-empty strings")),
            Some(_) => Err(self.wrong(field, "a list of strings")),
        }
    }

    /// An optional URL field that the guarded client would call (scheme and literal address
    /// checked now, so a bad endpoint fails discovery rather than the first connection).
    pub fn url(&self, http: &GuardedClient, field: &str) -> Result<Option<String>, DiscoveryError> {
        let Some(text) = self.string(field)? else { return Ok(None) };
        let parsed = Url::parse(&text).map_err(|_| self.wrong(field, "an absolute URL"))?;
        if parsed.fragment().is_some() {
            return Err(self.wrong(field, "a URL without a fragment"));
        }
        http.check_url(&parsed)
            .map_err(|error| DiscoveryError::Http { what: format!("{} `{field}`", self.what), error })?;
        Ok(Some(text))
    }
}
