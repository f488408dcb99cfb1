//! The values a new connection gives its non-secret settings, checked against their
//! declarations (G5, G6): a closed-choice setting takes only a listed value, an `instance_url`
//! setting only the address of an instance (`https://gitlab.example.com`), kept in its
//! normalized form so the stored value is exactly the origin Patchbay will call.

use std::collections::BTreeMap;

use patchbay_domain::provider::{Provider, SettingKind};

use crate::{ServiceError, ServiceResult};

/// Checks (and normalizes) each given non-secret setting against its declaration.
pub(crate) fn check(provider: &Provider, clear: &mut BTreeMap<String, String>) -> ServiceResult<()> {
    for (key, value) in clear.iter_mut() {
        let Some(decl) = provider.setting(key) else { continue };
        if decl.kind == SettingKind::InstanceUrl {
            *value = patchbay_providers::template::instance_origin(key, value)
                .map_err(|e| ServiceError::Invalid(format!("{}: {e}", provider.display_name)))?;
            continue;
        }
        if decl.closed_choices() && !decl.choices.iter().any(|c| c.value == *value) {
            let listed: Vec<String> = decl.choices.iter().map(|c| format!("`{}` ({})", c.value, c.label)).collect();
            return Err(ServiceError::Invalid(format!(
                "{}: the setting `{key}` must be one of {}",
                provider.display_name,
                listed.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        serde_json::from_value(serde_json::json!({
            "id": "t", "display_name": "T", "auth_mode": "oauth2",
            "settings": [
                {"key": "region", "label": "Region", "choices": [{"value": "eu", "label": "Europe"}, "us"]},
                {"key": "tenant", "label": "Tenant", "choices": ["common"], "free_text": true},
                {"key": "instance", "label": "Instance", "kind": "instance_url"}
            ]
        }))
        .unwrap()
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn closed_choices_refuse_other_values_and_free_text_takes_them() {
        let p = provider();
        assert!(check(&p, &mut given(&[("region", "eu"), ("tenant", "contoso.onmicrosoft.com")])).is_ok());
        let err = check(&p, &mut given(&[("region", "evil.example")])).unwrap_err().to_string();
        assert!(err.contains("must be one of `eu` (Europe), `us` (us)"), "{err}");
    }

    #[test]
    fn instance_urls_are_normalized_to_their_origin_and_need_https() {
        let p = provider();
        let mut s = given(&[("instance", "https://GitLab.Example.com/")]);
        check(&p, &mut s).unwrap();
        assert_eq!(s["instance"], "https://gitlab.example.com");
        for bad in
            ["http://gitlab.example.com", "https://u:p@gitlab.example.com", "https://gitlab.example.com/x", "gitlab"]
        {
            assert!(check(&p, &mut given(&[("instance", bad)])).is_err(), "{bad}");
        }
        let mut s = given(&[("instance", "http://127.0.0.1:8929")]);
        check(&p, &mut s).unwrap();
        assert_eq!(s["instance"], "http://127.0.0.1:8929");
    }
}
