//! The one home of randomness and digests: random bytes and tokens, SHA-256, lowercase hex.
//!
//! Every id, API token, session token, CSRF token, OAuth state, PKCE verifier, webhook secret,
//! nonce and jitter sample in the workspace comes from [`fill`], so there is one place that says
//! what the source is (the operating system's generator, through AWS-LC) and what happens when
//! it fails: the process stops. A missing entropy source is not an error to recover from —
//! continuing with predictable secrets would be worse.

use base64::Engine as _;

/// Fills `buf` from the system random generator.
///
/// # Panics
/// When the system has no entropy source (AWS-LC's `RAND_bytes` failing); see the module header.
pub fn fill(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("the system random generator failed");
}

/// `N` fresh random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// `bytes` random bytes as base64url without padding (43 characters for 32 bytes).
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A uniform sample in `[0, 1]` with 1/255 resolution: enough for retry jitter.
pub fn unit() -> f64 {
    f64::from(bytes::<1>()[0]) / 255.0
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

/// SHA-256 of `text` in lowercase hex (64 characters).
pub fn sha256_hex(text: &str) -> String {
    hex(&sha256(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_standard_sha256_in_lowercase_hex() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(&sha256(b"abc")), sha256_hex("abc"));
        assert_eq!(hex(&[0x00, 0x0f, 0xff]), "000fff");
    }

    #[test]
    fn tokens_carry_the_requested_entropy() {
        let t = token(32);
        assert_eq!(t.len(), 43);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(t, token(32));
        assert_ne!(bytes::<16>(), bytes::<16>());
        assert!((0.0..=1.0).contains(&unit()));
    }
}
