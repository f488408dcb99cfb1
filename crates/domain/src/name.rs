//! User-chosen names (connections, scenarios, teams, API tokens): one rule for all of them.
//!
//! A name is NFC-normalised before it is checked or stored, so two names that look the same
//! and differ only in composition (`é` as one code point or as `e` + combining accent) are the
//! same name and clash. Control characters, Unicode format characters (bidi overrides such as
//! U+202E, zero-width spaces and joiners, the BOM) and line or paragraph separators are refused:
//! they make a name display as something it is not.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Why a character may not be in a name, if it may not.
fn refused(c: char) -> Option<&'static str> {
    if c.is_control() {
        return Some("control characters");
    }
    match c.general_category() {
        GeneralCategory::Format => {
            Some("invisible formatting characters (such as a direction override, a zero-width space or a BOM)")
        }
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => Some("line or paragraph separators"),
        _ => None,
    }
}

/// Trims and NFC-normalises `name` and checks it: 1 to `max` characters, none refused. The
/// error names what is wrong, using `what` ("the connection name").
pub fn clean_name(name: &str, what: &str, max: usize) -> Result<String, String> {
    let normalised: String = name.trim().nfc().collect();
    if normalised.is_empty() {
        return Err(format!("{what} is empty: give it a name"));
    }
    if normalised.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters: shorten it"));
    }
    if let Some((c, why)) = normalised.chars().find_map(|c| refused(c).map(|why| (c, why))) {
        return Err(format!("{what} contains U+{:04X}: {why} are not allowed, use plain text", c as u32));
    }
    Ok(normalised)
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_are_nfc_and_free_of_invisible_characters() {
        assert_eq!(clean_name("  Caf\u{0065}\u{0301}  ", "the name", 100).unwrap(), "Caf\u{00e9}");
        assert_eq!(clean_name("Café", "the name", 100).unwrap(), clean_name("Cafe\u{301}", "the name", 100).unwrap());
        for bad in [
            "a\u{202E}b",
            "a\u{200B}b",
            "\u{FEFF}ab",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{200D}b",
            "a\u{7}b",
            "a\u{2066}b",
        ] {
            let e = clean_name(bad, "the name", 100).unwrap_err();
            assert!(e.contains("U+"), "{bad:?}: {e}");
        }
        assert!(clean_name("   ", "the name", 100).is_err());
        assert!(clean_name(&"é".repeat(101), "the name", 100).is_err());
        assert_eq!(clean_name("Ops 📦 – prod", "the name", 100).unwrap(), "Ops 📦 – prod");
    }
}
