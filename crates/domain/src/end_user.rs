//! The end user a connection was made for: a user of another product (the *platform*) that put
//! "Add connection" in front of its own users through a connect session (docs/embedding.md).
//! Patchbay does not know these people; it keeps the platform's id for them and an optional
//! display name, so the platform can find a user's connections again (`?end_user=`).
//!
//! Both are plain text chosen by the platform: the same rule as every user-chosen name (no
//! control or invisible formatting characters), bounded so they fit a list row.

use serde::{Deserialize, Serialize};

/// The most characters an end user's id may have.
pub const MAX_ID: usize = 200;
/// The most characters an end user's display name may have.
pub const MAX_DISPLAY_NAME: usize = 100;

/// An end user of a platform, as it named them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndUser {
    /// The platform's id for the user (1–200 characters), e.g. `user-42`.
    pub id: String,
    /// How the platform shows the user, e.g. "Ada Lovelace".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl EndUser {
    /// Checks and normalises an end user from a request: the id and display name are trimmed
    /// and NFC-normalised, an empty display name counts as none.
    pub fn new(id: &str, display_name: Option<&str>) -> Result<EndUser, String> {
        let id = crate::name::clean_name(id, "end_user.id", MAX_ID).map_err(|e| {
            if e.ends_with("give it a name") {
                "end_user.id is empty: give the platform's id of the user".to_owned()
            } else {
                e
            }
        })?;
        let display_name = match display_name.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(crate::name::clean_name(d, "end_user.display_name", MAX_DISPLAY_NAME)?),
            None => None,
        };
        Ok(EndUser { id, display_name })
    }

    /// The display name, or the id when there is none.
    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_cleaned_and_bounded() {
        let u = EndUser::new("  user-42 ", Some("  ")).unwrap();
        assert_eq!(u, EndUser { id: "user-42".into(), display_name: None });
        assert_eq!(u.label(), "user-42");
        assert_eq!(EndUser::new("u", Some(" Ada ")).unwrap().label(), "Ada");
        assert!(EndUser::new(" ", None).unwrap_err().contains("end_user.id is empty"));
        assert!(EndUser::new(&"x".repeat(201), None).is_err());
        assert!(EndUser::new("u", Some(&"x".repeat(101))).is_err());
        assert!(EndUser::new("a\u{202e}b", None).unwrap_err().contains("U+202E"));
    }
}
