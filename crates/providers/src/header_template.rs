//! Header value templates: a provider's `headers` may take their value from the connection
//! (G12): `Client-Id: "{client_id}"` (Twitch wants the app's client id on every call),
//! `OpenAI-Organization: "{organization}"` (a non-secret setting), `xero-tenant-id:
//! "{metadata.tenant_id}"` (connection metadata captured after the grant; `{tenant_id}` works
//! too, as metadata shares the `{key}` placeholders with settings; the validator accepts only a
//! key the provider captures).
//!
//! Secrets never go into a templated header: the credential has its own placement, and a secret
//! setting here would be sent without the masking the credential gets.

use std::collections::BTreeMap;

use patchbay_domain::provider::Provider;

/// The placeholder that stands for the connection's OAuth client id (own or the platform's).
pub(crate) const CLIENT_ID: &str = "client_id";
/// The prefix of the reserved connection-metadata placeholders.
pub(crate) const METADATA_PREFIX: &str = "metadata.";

/// One piece of a header value template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Literal text.
    Text(String),
    /// `{key}`: a non-secret setting, or a key of the connection's metadata.
    Setting(String),
    /// `{client_id}`: the connection's OAuth client id.
    ClientId,
    /// `{metadata.name}`: connection metadata the provider captures.
    Metadata(String),
}

/// Parses a header value; text without braces is one literal part.
pub(crate) fn parse(value: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("has an unmatched `}`".into());
        }
        let close = rest[open..].find('}').ok_or("has an unmatched `{`")? + open;
        let name = &rest[open + 1..close];
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_owned()));
        }
        parts.push(if name == CLIENT_ID {
            Part::ClientId
        } else if let Some(m) = name.strip_prefix(METADATA_PREFIX) {
            Part::Metadata(m.to_owned())
        } else if crate::template::is_setting_key(name) {
            Part::Setting(name.to_owned())
        } else {
            return Err(format!(
                "has `{{{name}}}`: a placeholder is `{{client_id}}` or `{{setting_key}}` (a-z, 0-9 and _)"
            ));
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(parts)
}

/// The client id a connection's calls carry: its own (advanced settings) or the platform's.
pub(crate) fn client_id<'a>(provider: &'a Provider, settings: &'a BTreeMap<String, String>) -> Option<&'a str> {
    settings.get(CLIENT_ID).map(String::as_str).or(provider.client_id.as_deref()).filter(|s| !s.trim().is_empty())
}

/// Renders a header value for a connection. `None` when a placeholder has no value (an optional
/// setting left empty, no client id): the header is then left out rather than sent empty.
pub(crate) fn render(value: &str, provider: &Provider, settings: &BTreeMap<String, String>) -> Option<String> {
    // A file's header was validated when the catalog loaded; one that no longer parses is sent
    // as written, which is what a literal value means.
    let Ok(parts) = parse(value) else { return Some(value.to_owned()) };
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(&t),
            Part::ClientId => out.push_str(client_id(provider, settings)?),
            Part::Setting(key) => out.push_str(settings.get(&key).map(|v| v.trim()).filter(|v| !v.is_empty())?),
            // The connection's values hold its settings and its metadata side by side (the
            // catalog keeps the key sets apart); only a key the provider captures is metadata.
            Part::Metadata(key) if provider.metadata_keys().any(|k| k == key) => {
                out.push_str(settings.get(&key).map(|v| v.trim()).filter(|v| !v.is_empty())?)
            }
            Part::Metadata(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_settings_client_id_and_reserved_metadata() {
        assert_eq!(parse("2022-06-28").unwrap(), vec![Part::Text("2022-06-28".into())]);
        assert_eq!(
            parse("org {organization}").unwrap(),
            vec![Part::Text("org ".into()), Part::Setting("organization".into())]
        );
        assert_eq!(parse("{client_id}").unwrap(), vec![Part::ClientId]);
        assert_eq!(parse("{metadata.tenant_id}").unwrap(), vec![Part::Metadata("tenant_id".into())]);
        for bad in ["{Org}", "{a", "a}", "{}", "{a-b}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renders_from_the_connection_and_leaves_out_what_is_unset() {
        let mut p: Provider = yaml_serde::from_str(
            "id: t\ndisplay_name: T\nauth_mode: oauth2\nclient_id: platform-id\nsettings: [{key: org, label: Org}]\n",
        )
        .unwrap();
        let mut s = BTreeMap::new();
        assert_eq!(render("{client_id}", &p, &s).as_deref(), Some("platform-id"));
        assert_eq!(render("{org}", &p, &s), None);
        s.insert("org".to_owned(), " org-1 ".to_owned());
        s.insert("client_id".to_owned(), "own-id".to_owned());
        assert_eq!(render("{org}", &p, &s).as_deref(), Some("org-1"));
        assert_eq!(render("{client_id}", &p, &s).as_deref(), Some("own-id"));
        assert_eq!(render("{metadata.tenant}", &p, &s), None);
        // A captured key renders from the connection's values; an uncaptured one never does.
        s.insert("tenant".to_owned(), "t-1".to_owned());
        assert_eq!(render("{metadata.tenant}", &p, &s), None, "not captured by the provider");
        p.context = Some(patchbay_domain::grant_format::ContextCall {
            url: "https://api.example.com/connections".into(),
            token_prefix: "Bearer ".into(),
            metadata: [("tenant".to_owned(), "/0/id".to_owned())].into(),
        });
        assert_eq!(render("{metadata.tenant}", &p, &s).as_deref(), Some("t-1"));
        s.remove("tenant");
        assert_eq!(render("{metadata.tenant}", &p, &s), None, "left out when the grant gave none");
        p.client_id = None;
        s.remove("client_id");
        assert_eq!(render("{client_id}", &p, &s), None);
    }
}
