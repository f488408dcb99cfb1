//! The platform's OAuth client by convention: an OAuth provider file that names no `client_id`
//! reads its app's client from `PATCHBAY_<APP>_CLIENT_ID` and `PATCHBAY_<APP>_CLIENT_SECRET`,
//! where `<APP>` is the `oauth_app` (or else the provider id) upper-cased with `-` as `_`. So the
//! built-in Google files share `PATCHBAY_GOOGLE_CLIENT_ID`, and an operator enables a built-in
//! provider by setting two variables, without writing a file.
//!
//! A provider whose OAuth endpoints are on the user's own instance gets no platform client (its
//! secret would go wherever the user points), and records no variables.

use patchbay_domain::provider::Provider;
use secrecy::SecretString;

use super::checks::uses_instance_endpoints;

/// The two variable names for an app id: `google` → `PATCHBAY_GOOGLE_CLIENT_ID`, `_SECRET`.
pub fn variable_names(app: &str) -> [String; 2] {
    let stem = format!("PATCHBAY_{}", app.to_ascii_uppercase().replace('-', "_"));
    [format!("{stem}_CLIENT_ID"), format!("{stem}_CLIENT_SECRET")]
}

/// Fills the platform client of `provider` from the environment when the file leaves it out.
/// Half a pair (an id without a secret, or the reverse) is not used, and warned about.
pub(super) fn apply(
    file: &str,
    provider: &mut Provider,
    file_names_client: bool,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) {
    if !provider.auth_mode.is_oauth() || file_names_client || uses_instance_endpoints(provider) {
        return;
    }
    let names = variable_names(provider.app_id());
    let read = |n: &str| env(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match (read(&names[0]), read(&names[1])) {
        (Some(id), Some(secret)) => {
            provider.client_id = Some(id);
            provider.client_secret = Some(SecretString::from(secret));
        }
        (None, None) => {}
        (id, _) => {
            let (set, unset) = if id.is_some() { (&names[0], &names[1]) } else { (&names[1], &names[0]) };
            warnings.push(format!(
                "{file}: provider `{}` loads without the platform's OAuth client: {set} is set but {unset} is not; \
                 set both and restart",
                provider.id
            ));
        }
    }
    provider.client_variables = names.to_vec();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::parse_provider;

    const FILE: &str = "\
id: google-drive
display_name: Google Drive
auth_mode: oauth2
oauth_app: google
authorization_url: https://accounts.google.com/o/oauth2/v2/auth
token_url: https://oauth2.googleapis.com/token
";

    #[test]
    fn names_follow_the_app_id() {
        assert_eq!(variable_names("google")[0], "PATCHBAY_GOOGLE_CLIENT_ID");
        assert_eq!(variable_names("microsoft-graph")[1], "PATCHBAY_MICROSOFT_GRAPH_CLIENT_SECRET");
    }

    #[test]
    fn the_shared_app_reads_its_variables_and_half_a_pair_is_dropped() {
        let env = |k: &str| match k {
            "PATCHBAY_GOOGLE_CLIENT_ID" => Some("gid".to_owned()),
            "PATCHBAY_GOOGLE_CLIENT_SECRET" => Some("gsecret".to_owned()),
            _ => None,
        };
        let parsed = parse_provider("d.yaml", FILE, &env).unwrap();
        assert_eq!(parsed.provider.client_id.as_deref(), Some("gid"));
        assert!(parsed.provider.has_platform_client());
        assert_eq!(parsed.provider.client_variables, variable_names("google").to_vec());
        assert!(parsed.warnings.is_empty());

        let half = |k: &str| (k == "PATCHBAY_GOOGLE_CLIENT_ID").then(|| "gid".to_owned());
        let parsed = parse_provider("d.yaml", FILE, &half).unwrap();
        assert!(!parsed.provider.has_platform_client());
        assert!(parsed.warnings[0].contains("PATCHBAY_GOOGLE_CLIENT_SECRET is not"), "{:?}", parsed.warnings);

        let none = parse_provider("d.yaml", FILE, &|_| None).unwrap();
        assert!(!none.provider.has_platform_client());
        assert!(none.warnings.is_empty());
        assert_eq!(none.provider.client_variables.len(), 2);
    }

    #[test]
    fn a_file_naming_its_client_keeps_it() {
        let text = format!("{FILE}client_id: file-id\nclient_secret: file-secret\n");
        let env = |_: &str| Some("from-env".to_owned());
        let parsed = parse_provider("d.yaml", &text, &env).unwrap();
        assert_eq!(parsed.provider.client_id.as_deref(), Some("file-id"));
        assert!(parsed.provider.client_variables.is_empty());
    }
}
