//! `KeyBytes`: the one type that holds raw 256-bit key material (master and data keys).
//!
//! The bytes sit on the heap (so moves do not leave copies on the stack), are zeroized on drop,
//! and have a redacted `Debug`. Nothing outside this crate ever sees them.

use std::fmt;

use zeroize::Zeroize;

/// Length of every key this crate handles (AES-256, HMAC-SHA256 keys).
pub(crate) const KEY_LEN: usize = 32;

/// 32 bytes of key material, zeroized on drop.
#[derive(Clone)]
pub(crate) struct KeyBytes(Box<[u8; KEY_LEN]>);

impl KeyBytes {
    /// A fresh key from the system random generator.
    pub(crate) fn generate() -> Self {
        let mut key = Box::new([0u8; KEY_LEN]);
        // Filled in place so the key never sits in a temporary; a missing entropy source stops the
        // process (see patchbay_domain::random), continuing with a weak key would be worse.
        patchbay_domain::random::fill(&mut key[..]);
        Self(key)
    }

    /// Copies exactly [`KEY_LEN`] bytes; `None` for any other length.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        let mut key = Box::new([0u8; KEY_LEN]);
        key.copy_from_slice(bytes);
        Some(Self(key))
    }

    /// The raw key, for handing to aws-lc-rs only.
    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
