//! Closed sets of words as enums: [`word_enum!`] declares an enum whose every variant is written
//! as one fixed word on the wire (`serde` and `as_str` share the word, so they cannot drift), and
//! whose OpenAPI schema (`utoipa::ToSchema`) lists the words.
//!
//! The service's views use these instead of `String` for statuses and outcomes, so the server
//! and the web UI match variants, and a word that is not in the set is a compile error there.

/// Declares a closed set of wire words:
///
/// ```ignore
/// word_enum! {
///     /// What happened.
///     pub enum Outcome {
///         /// It worked.
///         Ok = "ok",
///     }
/// }
/// ```
///
/// Generates the enum (`Copy`, `Eq`, `Hash`, `Serialize`, `Deserialize`, `ToSchema`), `ALL`, `as_str()`,
/// `parse()` (`None` for any other word) and `Display` (the word).
// The words are `tt`, not `literal`: a `literal` fragment reaches the derives wrapped in an
// invisible group, which `utoipa`'s attribute parser skips (the schema would list the variant
// names); `the_schema_lists_the_words` pins it.
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every word of the set, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word as written on the wire (and stored, where it is stored).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }

            /// The variant of a word; `None` for a word outside the set.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $( $word => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use word_enum;

#[cfg(test)]
mod tests {
    word_enum! {
        /// A test set.
        pub enum Sample {
            /// One.
            First = "first_word",
            /// Two.
            Second = "second",
        }
    }

    #[test]
    fn serde_as_str_and_parse_agree() {
        for s in Sample::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
            assert_eq!(Sample::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Sample::parse("First"), None);
        assert_eq!(Sample::First.as_str(), "first_word");
    }

    #[test]
    fn the_schema_lists_the_words() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Sample::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["first_word", "second"]), "{schema}");
    }
}
