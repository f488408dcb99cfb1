//! Thin AES-256-GCM layer over aws-lc-rs shared by field, wrap and key-check encryption.
//!
//! Owns the nonce handling (fresh random 96-bit nonce per seal, stored in front of the
//! ciphertext) and the canonical AAD encoding, so every format in this crate gets both right the
//! same way.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::keybytes::KEY_LEN;

/// Version byte that starts every ciphertext, wrapped key and key-check value this build writes.
pub const FORMAT_VERSION: u8 = 1;

/// GCM tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Nonce length in bytes (96 bits).
pub(crate) const NONCE: usize = NONCE_LEN;

/// Builds an AAD byte string whose parts can never run into each other.
///
/// Strings are length-prefixed (u64 BE) so that `("ab", "c")` and `("a", "bc")` differ; integers
/// have fixed width so need no prefix.
#[derive(Default)]
pub(crate) struct AadBuilder(Vec<u8>);

impl AadBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn str(mut self, s: &str) -> Self {
        self.0.extend_from_slice(&(s.len() as u64).to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    pub(crate) fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    pub(crate) fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

fn aead_key(key: &[u8; KEY_LEN]) -> LessSafeKey {
    // A 32-byte slice is always a valid AES-256 key, so this cannot fail.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte AES-256 key is valid"))
}

/// Returns `header ‖ nonce ‖ ciphertext ‖ tag` with a fresh random nonce.
///
/// The output buffer is sized up front and the plaintext is encrypted in place inside it, so no
/// reallocation leaves a plaintext copy behind on the heap.
pub(crate) fn seal(key: &[u8; KEY_LEN], aad: &[u8], header: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE];
    // Random nonces (not a counter) because several nodes seal under the same data key with no
    // shared state; the caller rotates keys long before 2^32 seals (S-04).
    patchbay_domain::random::fill(&mut nonce);

    let mut out = Vec::with_capacity(header.len() + NONCE + plaintext.len() + TAG_LEN);
    out.extend_from_slice(header);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = aead_key(key)
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[start..])
        // Only inputs beyond GCM's ~64 GiB limit fail; secret fields are tiny.
        .expect("AES-GCM input within size limits");
    out.extend_from_slice(tag.as_ref());
    out
}

/// Opens `nonce ‖ ciphertext ‖ tag` (the part after the caller's header).
///
/// Returns the plaintext in an exactly-sized, zeroizing buffer, or `None` when the input is
/// too short or authentication fails. Never returns unauthenticated bytes.
pub(crate) fn open(key: &[u8; KEY_LEN], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut work = Zeroizing::new(ciphertext.to_vec());
    let plaintext = aead_key(key).open_in_place(nonce, Aad::from(aad), &mut work).ok()?;
    // Copy into an exact-capacity buffer: converting it later (e.g. into a boxed str) then
    // never reallocates, which would leave an unzeroized plaintext copy in freed memory.
    let mut out = Zeroizing::new(Vec::with_capacity(plaintext.len()));
    out.extend_from_slice(plaintext);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_parts_cannot_collide() {
        let a = AadBuilder::new().str("ab").str("c").finish();
        let b = AadBuilder::new().str("a").str("bc").finish();
        assert_ne!(a, b);
        let c = AadBuilder::new().str("").str("abc").finish();
        assert_ne!(a, c);
    }

    #[test]
    fn seal_open_round_trip_and_short_input() {
        let key = [7u8; KEY_LEN];
        let sealed = seal(&key, b"aad", b"", b"hello");
        assert_eq!(&open(&key, b"aad", &sealed).unwrap()[..], b"hello");
        assert!(open(&key, b"other", &sealed).is_none());
        for n in 0..sealed.len() {
            assert!(open(&key, b"aad", &sealed[..n]).is_none());
        }
    }
}
