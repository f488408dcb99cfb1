//! Keyed fingerprints: short HMAC-SHA256 digests that identify a secret without revealing it.
//!
//! Used for audit lines and for showing an API key as "set, fingerprint …" (S-06, S-09). Being
//! keyed, a fingerprint cannot be brute-forced offline by someone who only sees the audit log.

use aws_lc_rs::hmac;

use crate::keybytes::{KEY_LEN, KeyBytes};

/// Number of HMAC bytes kept: 64 bits is plenty to correlate lines and short enough to read.
const FINGERPRINT_BYTES: usize = 8;

/// HMAC-SHA256 of `data` under `key`, first 8 bytes as 16 lowercase hex digits.
pub fn hmac_fingerprint(key: &[u8; KEY_LEN], data: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    patchbay_domain::random::hex(&tag.as_ref()[..FINGERPRINT_BYTES])
}

/// A purpose-specific subkey: HMAC-SHA256(key, label).
pub(crate) fn derive_subkey(key: &[u8; KEY_LEN], label: &[u8]) -> KeyBytes {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), label);
    KeyBytes::from_slice(tag.as_ref()).expect("HMAC-SHA256 output is 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_and_keying() {
        // Expected value from Python: hmac.new(b"\x0b" * 32, b"canary", sha256).hexdigest()[:16]
        let key = [0x0bu8; KEY_LEN];
        let a = hmac_fingerprint(&key, b"canary");
        assert_eq!(a, "fa84e601d9b2e260");
        assert_ne!(a, hmac_fingerprint(&[0x0cu8; KEY_LEN], b"canary"));
        assert_ne!(a, hmac_fingerprint(&key, b"canary2"));
    }
}
