//! Connection metadata: capturing what a provider says about a grant (token reply, callback
//! parameters, a follow-up call) and the *origin* values among it, which may choose the host a
//! credential goes to (`api_base_url: "{instance_url}/services/data/v62.0"`).
//!
//! An origin value is the one place where the provider, not the file, names a host, so it is
//! vetted twice (SECURITY N-03): when it is captured (a reply naming a host the file's
//! `metadata_hosts` does not list is refused and nothing is stored), and again on every URL built
//! from it. A bare host name (Wrike's `host`) stands for `https://<host>`. Vetting: `https`
//! (plain `http` only on a loopback host, as everywhere else), no userinfo, query, fragment or
//! path, a port only on loopback, and a host that equals a listed host or ends with `.` + one (a
//! dot boundary: `evilmy.salesforce.com` does not match `my.salesforce.com`). Other values are
//! bounded text, percent-encoded wherever a URL uses them.

use std::collections::BTreeMap;

use patchbay_domain::grant_format::MAX_METADATA_VALUE;
use patchbay_domain::provider::Provider;
use serde_json::Value;
use url::Url;

use crate::template::{self, TemplateError, is_loopback_name};

/// The metadata key a URL template begins with (`{instance_url}/services` → `instance_url`), and
/// the rest of the template after it.
pub fn origin_placeholder(template: &str) -> Option<(&str, &str)> {
    let inner = template.strip_prefix('{')?;
    let close = inner.find('}')?;
    let (key, rest) = (&inner[..close], &inner[close + 1..]);
    (template::is_setting_key(key) && (rest.is_empty() || rest.starts_with('/'))).then_some((key, rest))
}

/// Vets `value` as an origin on one of `hosts`; the normalised origin (`https://host[:port]`,
/// host lowercased, no trailing slash) or why not.
pub fn vet_origin(value: &str, hosts: &[String]) -> Result<String, String> {
    let value = value.trim();
    // A bare host name (Wrike's token reply `host: www.wrike.com`) names that host over https;
    // it is vetted like any origin from here on.
    let bare = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let with_scheme = format!("https://{value}");
    let value = if bare { with_scheme.as_str() } else { value };
    let url = Url::parse(value).map_err(|_| format!("`{}` is not an absolute URL", short(value)))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = is_loopback_name(&host);
    if !(url.scheme() == "https" || url.scheme() == "http" && loopback) {
        return Err(format!("`{}` is not an https:// URL", short(value)));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{}` carries a username, query or fragment", short(value)));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(format!("`{}` has a path; only an origin (scheme and host) is accepted", short(value)));
    }
    if url.port().is_some() && !loopback {
        return Err(format!("`{}` names a port", short(value)));
    }
    let host_ok = hosts.iter().any(|h| {
        let h = h.trim_start_matches('.').to_ascii_lowercase();
        host == h || host.ends_with(&format!(".{h}"))
    });
    if !host_ok {
        return Err(format!("`{host}` is not on an allowed host ({})", hosts.join(", ")));
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{}://{host}{port}", url.scheme()))
}

/// One captured value checked and normalised: an origin key is vetted against its hosts; any
/// other value must be non-empty text of at most [`MAX_METADATA_VALUE`] characters without
/// control characters.
pub fn check_value(provider: &Provider, key: &str, raw: &str) -> Result<String, String> {
    if let Some(hosts) = provider.metadata_hosts.get(key) {
        return vet_origin(raw, hosts);
    }
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > MAX_METADATA_VALUE || value.chars().any(char::is_control) {
        return Err(format!("is empty, longer than {MAX_METADATA_VALUE} characters or has control characters"));
    }
    Ok(value.to_owned())
}

/// Captures `pointers` (metadata key → JSON pointer) from a provider's JSON reply. A pointer that
/// finds nothing leaves its key out; a value that fails [`check_value`] refuses the whole reply
/// (`what` names it: "token reply"), so nothing of it is stored.
pub fn capture(
    provider: &Provider,
    what: &str,
    json: &Value,
    pointers: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (key, pointer) in pointers {
        let text = match json.pointer(pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => continue,
        };
        let value = check_value(provider, key, &text).map_err(|why| {
            format!(
                "{}'s {what} gives `{key}` (at {pointer}) a value that Patchbay refuses: {why}; nothing was stored",
                provider.display_name
            )
        })?;
        out.insert(key.clone(), value);
    }
    Ok(out)
}

/// The metadata the provider's `callback_params` take from the callback's query (`realmId` →
/// `realm_id`); every declared parameter is required, and each value is checked like any
/// metadata. The error is a sentence for the landing page.
pub fn from_callback(
    provider: &Provider,
    query: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let name = &provider.display_name;
    let mut out = BTreeMap::new();
    for (param, key) in &provider.callback_params {
        let raw = query.get(param).ok_or_else(|| {
            format!("{name} sent no `{param}` with the authorization, which this connection needs: start again")
        })?;
        let value = check_value(provider, key, raw)
            .map_err(|why| format!("{name} sent a `{param}` that Patchbay refuses: {why}; nothing was stored"))?;
        out.insert(key.clone(), value);
    }
    Ok(out)
}

/// Renders a URL template of `provider` with `values` (settings and metadata). A template that
/// begins with an origin placeholder (`{instance_url}/path`) gets that value vetted again here,
/// on every use, before the rest is rendered as usual.
pub fn render(provider: &Provider, raw: &str, values: &BTreeMap<String, String>) -> Result<Url, TemplateError> {
    // An origin placeholder that is not metadata is a setting's (an `instance_url` setting,
    // GitLab self-managed): the template module renders and checks those.
    let origin = origin_placeholder(raw).and_then(|(key, rest)| Some((key, rest, provider.metadata_hosts.get(key)?)));
    let Some((key, rest, hosts)) = origin else {
        return template::render_for(provider, raw, values);
    };
    let value = values.get(key).ok_or_else(|| TemplateError::MissingSetting { key: key.to_owned() })?;
    let origin =
        vet_origin(value, hosts).map_err(|why| TemplateError::DisallowedOrigin { key: key.to_owned(), why })?;
    template::render_for(provider, &format!("{origin}{rest}"), values)
}

/// Whether `url` is on the origin `provider`'s `api_base_url` takes from metadata (N-03 for
/// origin templates): `None` when the base is not an origin template.
pub fn credential_origin_allowed(provider: &Provider, url: &Url) -> Option<bool> {
    let (key, _) = origin_placeholder(provider.api_base_url.as_deref()?)?;
    let hosts = provider.metadata_hosts.get(key)?;
    let origin = url.origin().ascii_serialization();
    Some(vet_origin(&origin, hosts).is_ok_and(|vetted| vetted == origin))
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn origins_must_be_on_a_listed_host_at_a_dot_boundary() {
        let sf = hosts(&["my.salesforce.com"]);
        assert_eq!(vet_origin("https://Acme.my.salesforce.com/", &sf).unwrap(), "https://acme.my.salesforce.com");
        assert_eq!(
            vet_origin("https://acme-dev-ed.develop.my.salesforce.com", &sf).unwrap(),
            "https://acme-dev-ed.develop.my.salesforce.com"
        );
        assert!(vet_origin("https://my.salesforce.com", &sf).is_ok(), "the listed host itself");
        for bad in [
            "https://evilmy.salesforce.com",
            "https://my.salesforce.com.evil.example",
            "http://acme.my.salesforce.com",
            "https://acme.my.salesforce.com:8443",
            "https://user@acme.my.salesforce.com",
            "https://acme.my.salesforce.com/services",
            "https://acme.my.salesforce.com?x=1",
            "acme.my.salesforce.com/services",
            "https://evil.example#.my.salesforce.com",
        ] {
            assert!(vet_origin(bad, &sf).is_err(), "{bad}");
        }
        assert_eq!(vet_origin("http://127.0.0.1:8080", &hosts(&["127.0.0.1"])).unwrap(), "http://127.0.0.1:8080");
    }

    #[test]
    fn a_bare_host_is_that_host_over_https_and_vetted_the_same() {
        let wrike = hosts(&["wrike.com"]);
        assert_eq!(vet_origin("www.wrike.com", &wrike).unwrap(), "https://www.wrike.com");
        assert_eq!(vet_origin(" App-EU.wrike.com ", &wrike).unwrap(), "https://app-eu.wrike.com");
        for bad in
            ["wrike.com.evil.example", "evilwrike.com", "www.wrike.com:8443", "www.wrike.com/api", "user@www.wrike.com"]
        {
            assert!(vet_origin(bad, &wrike).is_err(), "{bad}");
        }
        assert!(vet_origin("", &wrike).is_err());
    }

    #[test]
    fn origin_placeholders_begin_the_template() {
        assert_eq!(origin_placeholder("{instance_url}/services"), Some(("instance_url", "/services")));
        assert_eq!(origin_placeholder("{instance_url}"), Some(("instance_url", "")));
        assert_eq!(origin_placeholder("{instance_url}.x.com/services"), None);
        assert_eq!(origin_placeholder("https://{sub}.x.com"), None);
    }

    #[test]
    fn captured_values_are_bounded_and_origins_refused_off_list() {
        let mut p: Provider = serde_json::from_value(serde_json::json!({
            "id": "p", "display_name": "P", "auth_mode": "oauth2",
            "metadata_hosts": {"instance_url": ["my.salesforce.com"]}
        }))
        .unwrap();
        p.token_response.metadata = [("instance_url", "/instance_url"), ("team", "/team/name"), ("n", "/n")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        let ok = serde_json::json!({"instance_url": "https://acme.my.salesforce.com", "team": {"name": "Ops"}, "n": 7});
        let got = capture(&p, "token reply", &ok, &p.token_response.metadata).unwrap();
        assert_eq!(got["instance_url"], "https://acme.my.salesforce.com");
        assert_eq!(got["team"], "Ops");
        assert_eq!(got["n"], "7");
        let evil = serde_json::json!({"instance_url": "https://attacker.example"});
        let err = capture(&p, "token reply", &evil, &p.token_response.metadata).unwrap_err();
        assert!(err.contains("attacker.example") && err.contains("nothing was stored"), "{err}");
        let long = serde_json::json!({"team": {"name": "x".repeat(600)}});
        assert!(capture(&p, "token reply", &long, &p.token_response.metadata).is_err());
    }
}
