//! Field encryption: one AES-256-GCM ciphertext per secret field, bound to where it belongs.
//!
//! Owns the field ciphertext format (crate docs, "Field ciphertext") and its AAD
//! (S-01..S-04, E-1): a ciphertext opens only with the same data key, for the same team,
//! connection and field. Every failure is a [`VaultError::Decrypt`]; no unauthenticated byte
//! is ever returned.

use secrecy::{SecretBox, SecretString};

use crate::aead::{self, AadBuilder, FORMAT_VERSION, NONCE, TAG_LEN};
use crate::datakey::DataKey;
use crate::error::{DecryptFailure, VaultError};

/// Seals per data key after which the caller should rotate to a new data key (S-04).
///
/// NIST SP 800-38D caps random 96-bit nonces at 2^32 uses of one key; half of that leaves room
/// for seals a crash kept out of the caller's counter.
pub const DATA_KEY_SEAL_LIMIT: u64 = 1 << 31;

/// `[format 1][key id 4]`
const HEADER_LEN: usize = 1 + 4;

/// Where a secret field lives; bound into its ciphertext as AAD (S-03).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldAad<'a> {
    /// Team id.
    pub team: &'a str,
    /// Connection id.
    pub connection: &'a str,
    /// Field name within the credential (e.g. `refresh_token`).
    pub field: &'a str,
}

impl FieldAad<'_> {
    fn encode(&self, key_id: u32) -> Vec<u8> {
        AadBuilder::new().u8(FORMAT_VERSION).str(self.team).str(self.connection).str(self.field).u32(key_id).finish()
    }
}

/// Encrypts one field: `[0x01][key id u32 BE][nonce 12][ciphertext][tag 16]`.
///
/// A fresh random nonce each call, so sealing the same plaintext twice gives different bytes.
pub fn seal(dek: &DataKey, aad: &FieldAad<'_>, plaintext: &[u8]) -> Vec<u8> {
    let mut header = [0u8; HEADER_LEN];
    header[0] = FORMAT_VERSION;
    header[1..].copy_from_slice(&dek.id().to_be_bytes());
    aead::seal(dek.key().expose(), &aad.encode(dek.id()), &header, plaintext)
}

/// The data key id a field ciphertext was sealed with, so the caller knows which key to load.
///
/// Checks the format version and minimum length; authenticity is checked only by [`open`].
pub fn blob_key_id(blob: &[u8]) -> Result<u32, VaultError> {
    let (&version, rest) = blob.split_first().ok_or(VaultError::Decrypt(DecryptFailure::Truncated))?;
    if version != FORMAT_VERSION {
        return Err(VaultError::Decrypt(DecryptFailure::UnknownFormat(version)));
    }
    if blob.len() < HEADER_LEN + NONCE + TAG_LEN {
        return Err(VaultError::Decrypt(DecryptFailure::Truncated));
    }
    let mut id = [0u8; 4];
    id.copy_from_slice(&rest[..4]);
    Ok(u32::from_be_bytes(id))
}

/// Decrypts a field sealed by [`seal`]; the plaintext is zeroized on drop.
pub fn open(dek: &DataKey, aad: &FieldAad<'_>, blob: &[u8]) -> Result<SecretBox<Vec<u8>>, VaultError> {
    let mut plain = open_raw(dek, aad, blob)?;
    Ok(SecretBox::new(Box::new(std::mem::take(&mut *plain))))
}

/// [`open`] for text fields (tokens, passwords): fails with [`DecryptFailure::NotUtf8`] rather
/// than return lossy text.
pub fn open_string(dek: &DataKey, aad: &FieldAad<'_>, blob: &[u8]) -> Result<SecretString, VaultError> {
    let mut plain = open_raw(dek, aad, blob)?;
    match String::from_utf8(std::mem::take(&mut *plain)) {
        // `plain` has exact capacity (see `aead::open`), so boxing the str does not reallocate.
        Ok(s) => Ok(SecretString::from(s)),
        Err(e) => {
            // Hand the bytes back to a zeroizing wrapper before dropping them.
            *plain = e.into_bytes();
            Err(VaultError::Decrypt(DecryptFailure::NotUtf8))
        }
    }
}

fn open_raw(dek: &DataKey, aad: &FieldAad<'_>, blob: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
    let blob_key_id = blob_key_id(blob)?;
    if blob_key_id != dek.id() {
        return Err(VaultError::Decrypt(DecryptFailure::KeyMismatch { blob_key_id, key_id: dek.id() }));
    }
    aead::open(dek.key().expose(), &aad.encode(dek.id()), &blob[HEADER_LEN..])
        .ok_or(VaultError::Decrypt(DecryptFailure::Authentication))
}
