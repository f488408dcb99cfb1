//! The pure rules of a connection request, checked before anything is stored: a same-origin
//! `return_to`, the credential fields an auth mode takes, advanced settings split by secrecy,
//! the scopes that modules and extra scopes add up to, and what a verify outcome does to a
//! connection's status. No I/O (candidates for the domain crate).

use std::collections::BTreeMap;

use patchbay_domain::SecretString;
use patchbay_domain::connection::{ConnectionStatus, VerifyResult};
use patchbay_domain::credential::{Credential, field};
use patchbay_domain::provider::{AuthMode, Provider};
use patchbay_domain::scope::ScopeSet;
use patchbay_providers::VerifyOutcome;
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::{ServiceError, ServiceResult};

/// Checks a `return_to` path: same origin only (an absolute path, not `//host`), no control
/// characters, bounded length.
pub fn validate_return_to(path: &str) -> ServiceResult<String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(path.to_owned())
    } else {
        Err(ServiceError::Invalid("`return_to` must be a path on this server, e.g. /connections".into()))
    }
}

/// OAuth providers take no credentials in the form: the grant supplies them.
pub(crate) fn no_credentials(provider: &Provider, given: &BTreeMap<String, SecretString>) -> ServiceResult<()> {
    if given.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "{} uses OAuth 2.0: send no `credentials`; its own client id and secret, if any, go in `settings`",
            provider.display_name
        )))
    }
}

/// Builds the credential from the create request's `credentials` for the provider's auth mode.
pub(crate) fn credential_from_request(
    provider: &Provider,
    given: &BTreeMap<String, SecretString>,
) -> ServiceResult<Credential> {
    let allowed: &[&str] = match provider.auth_mode {
        AuthMode::ApiKey => &[field::API_KEY],
        AuthMode::Basic => &[field::USERNAME, field::PASSWORD],
        _ => &[],
    };
    if let Some(unknown) = given.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ServiceError::Invalid(format!(
            "unknown credential field `{unknown}` for {} ({}): send {}",
            provider.display_name,
            provider.auth_mode.as_str(),
            allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" and ")
        )));
    }
    let take = |name: &str, label: &str| -> ServiceResult<SecretString> {
        match given.get(name) {
            Some(v) if !v.expose_secret().trim().is_empty() => {
                if v.expose_secret().len() > 8192 {
                    return Err(ServiceError::Invalid(format!("`credentials.{name}` is longer than 8192 characters")));
                }
                Ok(SecretString::from(v.expose_secret().trim().to_owned()))
            }
            _ => Err(ServiceError::Invalid(format!("{} needs `credentials.{name}` ({label})", provider.display_name))),
        }
    };
    match provider.auth_mode {
        AuthMode::ApiKey => {
            let label = provider.api_key.as_ref().map_or("API key", |k| k.label.as_str());
            Ok(Credential::ApiKey { key: take(field::API_KEY, label)? })
        }
        AuthMode::Basic => {
            let form = provider.basic_form();
            let username = match &form.fixed_username {
                Some(fixed) => SecretString::from(fixed.clone()),
                None => take(field::USERNAME, &form.username_label)?,
            };
            Ok(Credential::Basic { username, password: take(field::PASSWORD, &form.password_label)? })
        }
        AuthMode::Oauth2 | AuthMode::Oauth2ClientCredentials => Err(ServiceError::Invalid(format!(
            "{} uses OAuth 2.0: its credential comes from the grant, not from `credentials`",
            provider.display_name
        ))),
    }
}

/// Advanced settings of a new connection, split by secrecy.
pub(crate) struct SplitSettings {
    /// Non-secret settings, stored in clear and shown.
    pub clear: BTreeMap<String, String>,
    /// Secret settings as (field name, value), sealed like credentials.
    pub secret: Vec<(String, SecretString)>,
}

impl SplitSettings {
    /// The own OAuth client secret among the secret settings, if given.
    pub fn secret_value(&self, key: &str) -> Option<&SecretString> {
        let field = format!("{}{key}", field::SETTING_PREFIX);
        self.secret.iter().find(|(f, _)| *f == field).map(|(_, v)| v)
    }
}

/// Splits and validates advanced settings: non-secret ones are returned in clear, secret ones as
/// fields to encrypt.
pub(crate) fn split_settings(
    provider: &Provider,
    given: &BTreeMap<String, SecretString>,
) -> ServiceResult<SplitSettings> {
    let mut clear = BTreeMap::new();
    let mut secret = Vec::new();
    for (key, value) in given {
        let Some(decl) = provider.setting(key) else {
            let known: Vec<_> = provider.settings.iter().map(|s| format!("`{}`", s.key)).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown setting `{key}` for {}: {}",
                provider.display_name,
                if known.is_empty() {
                    "it has no advanced settings".to_owned()
                } else {
                    format!("use {}", known.join(", "))
                }
            )));
        };
        let text = value.expose_secret().trim();
        if text.is_empty() {
            continue;
        }
        if text.len() > 2048 {
            return Err(ServiceError::Invalid(format!("setting `{key}` is longer than 2048 characters")));
        }
        if decl.secret {
            secret.push((format!("{}{key}", field::SETTING_PREFIX), SecretString::from(text.to_owned())));
        } else {
            clear.insert(key.clone(), text.to_owned());
        }
    }
    // A declared default fills a setting the connection leaves empty (Microsoft's tenant `common`).
    for decl in provider.settings.iter().filter(|s| !s.secret) {
        if let Some(default) = decl.default.as_ref().filter(|_| !clear.contains_key(&decl.key)) {
            clear.insert(decl.key.clone(), default.clone());
        }
    }
    for decl in provider.settings.iter().filter(|s| s.required) {
        let present =
            clear.contains_key(&decl.key) || secret.iter().any(|(f, _)| f.ends_with(&format!(":{}", decl.key)));
        if !present {
            return Err(ServiceError::Invalid(format!(
                "{} needs the setting `{}` ({})",
                provider.display_name, decl.key, decl.label
            )));
        }
    }
    crate::connections::setting_values::check(provider, &mut clear)?;
    // Placeholders in every URL the connection will call must render safely with these values
    // (single DNS label or a listed choice, N-02; an instance address, https). A URL that also
    // takes metadata (Salesforce's `{instance_url}`, QuickBooks' `{realm_id}`) cannot be rendered
    // before the grant: it is rendered, and its origin vetted, at every use.
    let learned_later = |base: &str| provider.metadata_keys().any(|key| base.contains(&format!("{{{key}}}")));
    for base in provider.credential_bases().filter(|b| !learned_later(b)) {
        patchbay_providers::render_for(provider, base, &clear).map_err(|e| {
            ServiceError::Invalid(format!("the settings do not make a valid {} address: {e}", provider.display_name))
        })?;
    }
    Ok(SplitSettings { clear, secret })
}

/// Validates requested modules and scopes against the provider. A provider that cannot limit
/// access (`granular_scopes: false`) always gets every scope it declares.
pub(crate) fn requested_scopes(provider: &Provider, modules: &[String], scopes: &[String]) -> ServiceResult<ScopeSet> {
    let mut set: ScopeSet = provider.default_scopes.iter().map(String::as_str).collect();
    for m in modules {
        let module =
            m.strip_prefix(&format!("{}.", provider.id)).and_then(|id| provider.modules.get(id)).ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "unknown module `{m}` for {}: modules are written `{}.<module>`; see the provider `{}` in the catalog for its modules",
                    provider.display_name, provider.id, provider.id
                ))
            })?;
        set = set.union(&module.scopes.iter().map(String::as_str).collect());
    }
    for s in scopes {
        if !provider.scopes.contains_key(s) {
            return Err(ServiceError::Invalid(format!("{} has no scope `{s}`", provider.display_name)));
        }
    }
    if !provider.granular_scopes {
        return Ok(provider.scopes.keys().map(String::as_str).collect());
    }
    Ok(set.union(&scopes.iter().map(String::as_str).collect()))
}

/// How a verify outcome changes a connection.
pub(crate) fn verify_effect(
    outcome: &VerifyOutcome,
    now: OffsetDateTime,
) -> (VerifyResult, ConnectionStatus, Option<String>) {
    match outcome {
        VerifyOutcome::Ok { account, account_id } => (
            VerifyResult {
                ok: true,
                account: account.clone(),
                account_id: account_id.clone(),
                checked_at: now,
                error: None,
            },
            ConnectionStatus::Active,
            None,
        ),
        VerifyOutcome::Rejected { message, .. } => {
            let reason = message.clone();
            (
                VerifyResult {
                    ok: false,
                    account: None,
                    account_id: None,
                    checked_at: now,
                    error: Some(reason.clone()),
                },
                ConnectionStatus::NeedsReauth,
                Some(reason),
            )
        }
        VerifyOutcome::Failed { message } => {
            let reason = format!("verify failed: {message}");
            (
                VerifyResult {
                    ok: false,
                    account: None,
                    account_id: None,
                    checked_at: now,
                    error: Some(reason.clone()),
                },
                ConnectionStatus::Degraded,
                Some(reason),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_stay_on_this_origin() {
        assert!(validate_return_to("/connections").is_ok());
        assert!(validate_return_to("/scenarios/1?x=y").is_ok());
        for bad in ["//evil.example", "https://evil.example/", "/\\evil", "connections", "/a\nb"] {
            assert!(validate_return_to(bad).is_err(), "{bad}");
        }
    }
}
