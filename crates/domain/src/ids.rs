//! Typed, unguessable identifiers.
//!
//! Every id is a short type prefix plus 128 random bits in lowercase hex (docs/security.md T-05:
//! ids in URLs must not be enumerable). Parsing checks the prefix and shape so that a malformed id
//! is rejected before it reaches a query.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Error for a string that is not a well-formed id of the expected kind.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{value}` is not a valid {kind} id (expected `{prefix}` followed by 32 hex digits)")]
pub struct InvalidId {
    /// What kind of id was expected ("connection", "team", ...).
    pub kind: &'static str,
    /// The expected prefix.
    pub prefix: &'static str,
    /// The rejected input, truncated to keep error messages short.
    pub value: String,
}

fn random_hex128() -> String {
    crate::random::hex(&crate::random::bytes::<16>())
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The text prefix that marks this kind of id.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, random_hex128()))
            }

            /// Parses and validates an id received from outside.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                let ok = value
                    .strip_prefix($prefix)
                    .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                if ok {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(InvalidId { kind: $kind, prefix: $prefix, value: value.chars().take(64).collect() })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

define_id!(
    /// A team: the tenant that owns connections, scenarios, users and API tokens.
    TeamId, "team_", "team"
);
define_id!(
    /// A stored connection.
    ConnectionId, "con_", "connection"
);
define_id!(
    /// A user who signs in to the web UI.
    UserId, "usr_", "user"
);
define_id!(
    /// An API token (its id, not its secret).
    TokenId, "tok_", "token"
);
define_id!(
    /// A scenario.
    ScenarioId, "scn_", "scenario"
);
define_id!(
    /// A webhook subscription.
    WebhookId, "whk_", "webhook"
);
define_id!(
    /// A connect session: one platform end user's visit to the hosted "Add connection" page.
    ConnectSessionId, "cs_", "connect session"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let a = ConnectionId::generate();
        let b = ConnectionId::generate();
        assert_ne!(a, b);
        assert_eq!(ConnectionId::parse(a.as_str()).unwrap(), a);
        assert_eq!(a.as_str().len(), 4 + 32);
    }

    #[test]
    fn malformed_ids_are_rejected_with_the_expected_shape() {
        for bad in
            ["", "con_", "con_123", "team_00000000000000000000000000000000", "con_0000000000000000000000000000000G"]
        {
            let err = ConnectionId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("connection id"), "{err}");
        }
        assert!(TeamId::parse("con_00000000000000000000000000000000").is_err());
    }
}
