//! Per-team data keys (DEKs) and their wrapping under the master key ring.
//!
//! A [`DataKey`] encrypts a team's secret fields; it exists in plaintext only in memory. At rest
//! it is a [`WrappedKey`]: sealed under the active master key version with AAD binding team id,
//! key id and master version, so a wrapped key copied to another team or id does not open.
//! [`MasterKeyRing::rewrap`] moves a wrapped key to the active version (`keys rotate`) without
//! touching any field ciphertext.

use std::fmt;

use crate::aead::FORMAT_VERSION;
use crate::aead::{self, AadBuilder};
use crate::error::VaultError;
use crate::fingerprint;
use crate::keybytes::KeyBytes;
use crate::master::MasterKeyRing;

/// Domain label that keeps wrapped keys apart from key-check values under the same KEK.
const WRAP_LABEL: &str = "patchbay data-key";

/// A team's data-encryption key: AES-256, identified by a numeric id written into every
/// ciphertext it seals. `Debug` is redacted; the key is zeroized on drop.
#[derive(Clone)]
pub struct DataKey {
    id: u32,
    key: KeyBytes,
}

impl DataKey {
    /// A fresh random data key with the given id.
    ///
    /// Ids are the caller's to allocate (unique per team, e.g. 1, 2, ... per rotation).
    pub fn generate(id: u32) -> Self {
        Self { id, key: KeyBytes::generate() }
    }

    /// The key id, as written in ciphertexts sealed with this key.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A keyed fingerprint of `data` for audit lines and "set" displays (S-06, S-09): the first
    /// 8 bytes of HMAC-SHA256, hex.
    ///
    /// Keyed with a subkey derived from this data key (not the AES key itself) so one key is
    /// never used by two algorithms.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        let subkey = fingerprint::derive_subkey(self.key.expose(), b"patchbay fingerprint v1");
        fingerprint::hmac_fingerprint(subkey.expose(), data)
    }

    pub(crate) fn key(&self) -> &KeyBytes {
        &self.key
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).field("key", &"[REDACTED]").finish()
    }
}

/// A data key sealed under one master key version, as the caller stores it.
///
/// `blob` is `[0x01][nonce 12][encrypted key 32][tag 16]`; `master_version` is needed to pick
/// the KEK and is bound into the AAD, so storing a wrong one makes unwrapping fail.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Master key version the blob is sealed under.
    pub master_version: u32,
    /// The sealed key bytes.
    pub blob: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ciphertext is harmless but noisy; its length is what helps debugging.
        f.debug_struct("WrappedKey")
            .field("master_version", &self.master_version)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

fn wrap_aad(team_id: &str, key_id: u32, master_version: u32) -> Vec<u8> {
    AadBuilder::new().str(WRAP_LABEL).u8(FORMAT_VERSION).str(team_id).u32(key_id).u32(master_version).finish()
}

impl MasterKeyRing {
    /// Seals `dek` for `team_id` under the active master key version.
    pub fn wrap_data_key(&self, team_id: &str, dek: &DataKey) -> WrappedKey {
        let (version, kek) = self.active_key();
        let blob = aead::seal(kek.expose(), &wrap_aad(team_id, dek.id, version), &[FORMAT_VERSION], dek.key.expose());
        WrappedKey { master_version: version, blob }
    }

    /// Opens a wrapped data key of `team_id` with id `key_id`.
    ///
    /// [`VaultError::MissingMasterKeyVersion`] if its master version is not in the ring;
    /// [`VaultError::Unwrap`] if it is malformed, wrapped for another team or id, or the master
    /// key is wrong.
    pub fn unwrap_data_key(&self, team_id: &str, key_id: u32, wrapped: &WrappedKey) -> Result<DataKey, VaultError> {
        let version = wrapped.master_version;
        let kek = self.key(version)?;
        let fail = || VaultError::Unwrap { key_id, master_version: version };
        let Some((&FORMAT_VERSION, sealed)) = wrapped.blob.split_first() else {
            return Err(fail());
        };
        let plain = aead::open(kek.expose(), &wrap_aad(team_id, key_id, version), sealed).ok_or_else(fail)?;
        let key = KeyBytes::from_slice(&plain).ok_or_else(fail)?;
        Ok(DataKey { id: key_id, key })
    }

    /// Re-seals a wrapped data key under the active master key version (`keys rotate`).
    ///
    /// Field ciphertexts are untouched: they name the data key, not the master key.
    pub fn rewrap(&self, team_id: &str, key_id: u32, wrapped: &WrappedKey) -> Result<WrappedKey, VaultError> {
        let dek = self.unwrap_data_key(team_id, key_id, wrapped)?;
        Ok(self.wrap_data_key(team_id, &dek))
    }
}
