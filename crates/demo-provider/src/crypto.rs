//! Randomness and hashing: opaque tokens, nonces and the PKCE S256 transform (RFC 7636 §4.2).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `prefix` followed by 256 random bits in unpadded base64url (43 characters).
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).expect("the system random number generator works");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// `BASE64URL(SHA256(verifier))`, the S256 code challenge of `verifier`.
pub(crate) fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref())
}

/// Whether `value` is a well-formed PKCE verifier or challenge: 43 to 128 characters of
/// `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
pub(crate) fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Compares two secrets without an early exit on the first differing byte.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// A stable opaque user id derived from the account name (`usr_` + 16 hex digits).
pub(crate) fn user_id(account: &str) -> String {
    let hash = digest(&SHA256, account.as_bytes());
    let hex: String = hash.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("usr_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_prefixed_and_distinct() {
        let a = random_token("dat_");
        let b = random_token("dat_");
        assert!(a.starts_with("dat_") && a.len() == 47);
        assert_ne!(a, b);
    }

    #[test]
    fn pkce_values_are_checked() {
        assert!(is_pkce_value(&"a".repeat(43)));
        assert!(!is_pkce_value(&"a".repeat(42)));
        assert!(!is_pkce_value(&"a".repeat(129)));
        assert!(!is_pkce_value(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn user_ids_are_stable() {
        assert_eq!(user_id("a@b.test"), user_id("a@b.test"));
        assert_ne!(user_id("a@b.test"), user_id("c@b.test"));
        assert_eq!(user_id("x").len(), 20);
    }
}
