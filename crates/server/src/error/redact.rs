//! Serde error texts without input values: a secret sent in the wrong place is neither echoed
//! back to the client nor written to a log.

/// Removes quoted input values from a serde error message: `invalid type: string "sk-…",
/// expected a map` becomes `invalid type: string, expected a map`.
pub fn redact_serde_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" \"") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let quotes_a_value = before.ends_with("string") || before.ends_with("value") || before.ends_with("str");
        match closing_quote(after) {
            Some(end) if quotes_a_value => {
                out.push_str(before);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Byte index of the first unescaped `"` in `s`.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_values_are_removed_but_field_names_kept() {
        let m = redact_serde_message("invalid type: string \"sk-CANARY\", expected a map at line 1 column 30");
        assert_eq!(m, "invalid type: string, expected a map at line 1 column 30");
        let m = redact_serde_message("unknown field `foo`, expected one of `provider`, `name`");
        assert_eq!(m, "unknown field `foo`, expected one of `provider`, `name`");
        let m = redact_serde_message("invalid value: string \"x\\\"y\", expected z");
        assert_eq!(m, "invalid value: string, expected z");
    }
}
