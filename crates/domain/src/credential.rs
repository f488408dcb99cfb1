//! The secret part of a connection.
//!
//! Every secret value is a [`SecretString`]: its `Debug` is redacted, it is zeroized on drop, and
//! reading it takes an explicit `expose_secret()` call. A credential is stored field by field, each
//! field encrypted with its own name in the AAD, so one field can never be swapped for another.

use secrecy::SecretString;

/// Names of the stored secret fields (the `field` part of the AAD).
pub mod field {
    /// An API key.
    pub const API_KEY: &str = "api_key";
    /// A basic-auth username (not secret by itself, but stored with its password).
    pub const USERNAME: &str = "username";
    /// A basic-auth password or token.
    pub const PASSWORD: &str = "password";
    /// An OAuth access token.
    pub const ACCESS_TOKEN: &str = "access_token";
    /// An OAuth refresh token.
    pub const REFRESH_TOKEN: &str = "refresh_token";
    /// The PKCE verifier of a consent flow in progress.
    pub const PKCE_VERIFIER: &str = "pkce_verifier";
    /// Prefix of secret advanced settings (`setting:client_secret`).
    pub const SETTING_PREFIX: &str = "setting:";
}

/// A decrypted credential, held only as long as a call to the provider needs it.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A static API key.
    ApiKey {
        /// The key.
        key: SecretString,
    },
    /// HTTP basic authentication.
    Basic {
        /// The username.
        username: SecretString,
        /// The password or token.
        password: SecretString,
    },
    /// OAuth tokens.
    OAuth2 {
        /// The access token.
        access_token: SecretString,
        /// The refresh token, when the provider issued one.
        refresh_token: Option<SecretString>,
    },
}

impl Credential {
    /// The stored fields of this credential, as (field name, secret) pairs.
    pub fn fields(&self) -> Vec<(&'static str, &SecretString)> {
        match self {
            Credential::ApiKey { key } => vec![(field::API_KEY, key)],
            Credential::Basic { username, password } => {
                vec![(field::USERNAME, username), (field::PASSWORD, password)]
            }
            Credential::OAuth2 { access_token, refresh_token } => {
                let mut v = vec![(field::ACCESS_TOKEN, access_token)];
                if let Some(r) = refresh_token {
                    v.push((field::REFRESH_TOKEN, r));
                }
                v
            }
        }
    }

    /// The secret that identifies the credential (the key, the password, the access token):
    /// what a fingerprint is computed from.
    pub fn main_secret(&self) -> &SecretString {
        match self {
            Credential::ApiKey { key } => key,
            Credential::Basic { password, .. } => password,
            Credential::OAuth2 { access_token, .. } => access_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c =
            Credential::Basic { username: SecretString::from("alice"), password: SecretString::from("CANARY-pw-123") };
        let text = format!("{c:?}");
        assert!(!text.contains("CANARY"), "{text}");
        assert!(!text.contains("alice"), "{text}");
    }
}
